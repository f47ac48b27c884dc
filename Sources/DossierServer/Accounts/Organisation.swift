import DossierCore
import Fluent
import Foundation

/// An agency, landlord or insurer whose members receive tenants' files.
final class Organisation: Model, @unchecked Sendable {
    static let schema = "organisations"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Enum(key: "kind") var kind: OrganisationKind
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(name: String, kind: OrganisationKind, now: Date) {
        self.name = name
        self.kind = kind
        createdAt = now
    }
}
