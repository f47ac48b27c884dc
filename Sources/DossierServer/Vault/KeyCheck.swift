import Fluent
import Foundation

/// A known value sealed under a key derived from the master key: if it does not open, the key
/// the server was given is not the one this database's data was sealed with, and it refuses to
/// start rather than seal new data under a second key.
final class KeyCheck: Model, @unchecked Sendable {
    static let schema = "key_checks"

    @ID(key: .id) var id: UUID?
    @Field(key: "purpose") var purpose: String
    @Field(key: "sealed") var sealed: Data
    @Field(key: "created_at") var createdAt: Date

    var properties: [any AnyProperty] { [$id, $purpose, $sealed, $createdAt] }

    init() {}

    init(purpose: String, sealed: Data, now: Date) {
        self.purpose = purpose
        self.sealed = sealed
        createdAt = now
    }
}
