import DossierCore
import Fluent
import Foundation

/// Tenants applying together: a couple sees each other's files, flatmates do not.
final class RentalApplication: Model, @unchecked Sendable {
    static let schema = "applications"

    @ID(key: .id) var id: UUID?
    @Enum(key: "kind") var kind: ApplicationKind
    /// Hash of the code the creator hands to the others to join.
    @Field(key: "join_code_hash") var joinCodeHash: String
    @Field(key: "created_at") var createdAt: Date
    @Children(for: \.$application) var members: [ApplicationMember]

    var properties: [any AnyProperty] { [$id, $kind, $joinCodeHash, $createdAt, $members] }

    init() {}

    init(kind: ApplicationKind, joinCodeHash: String, now: Date) {
        self.kind = kind
        self.joinCodeHash = joinCodeHash
        createdAt = now
    }
}
