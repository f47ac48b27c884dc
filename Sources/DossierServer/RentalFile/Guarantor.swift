import DossierCore
import Fluent
import Foundation

/// Someone who stands surety for a tenant: a person, a company or a guarantee body. A data
/// subject of their own, with their own key.
final class Guarantor: Model, @unchecked Sendable {
    static let schema = "guarantors"

    @ID(key: .id) var id: UUID?
    @Parent(key: "account_id") var account: Account
    @Field(key: "subject_id") var subjectID: UUID
    @Enum(key: "kind") var kind: PersonKind
    /// Name and details, sealed with the guarantor's key.
    @Field(key: "sealed") var sealed: Data
    @Field(key: "created_at") var createdAt: Date

    var properties: [any AnyProperty] { [$id, $account, $subjectID, $kind, $sealed, $createdAt] }

    init() {}

    init(accountID: UUID, kind: PersonKind, sealed: Data, subjectID: UUID, now: Date) {
        $account.id = accountID
        self.kind = kind
        self.sealed = sealed
        self.subjectID = subjectID
        createdAt = now
    }

    var subject: String { subjectID.uuidString.lowercased() }
}
