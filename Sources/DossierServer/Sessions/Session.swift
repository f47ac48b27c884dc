import Fluent
import Foundation

/// A signed-in session: a browser's (cookie) or an API client's (bearer token).
/// Only the token's hash is stored.
final class Session: Model, @unchecked Sendable {
    static let schema = "sessions"

    enum Kind: String, Codable, Sendable {
        case web, api
    }

    @ID(key: .id) var id: UUID?
    @Parent(key: "account_id") var account: Account
    @Enum(key: "kind") var kind: Kind
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date
    @Field(key: "last_seen_at") var lastSeenAt: Date
    @OptionalField(key: "ended_at") var endedAt: Date?

    /// Listed, not found by reflection: Fluent reflects on the type for every row it reads
    /// otherwise (a fifth of an authenticated read, profiled). `ModelPropertiesTests` keeps
    /// the list equal to the declarations above.
    var properties: [any AnyProperty] { [$id, $account, $kind, $tokenHash, $createdAt, $expiresAt, $lastSeenAt, $endedAt] }

    init() {}

    init(accountID: UUID, kind: Kind, tokenHash: String, now: Date, lifetime: TimeInterval) {
        $account.id = accountID
        self.kind = kind
        self.tokenHash = tokenHash
        createdAt = now
        expiresAt = now + lifetime
        lastSeenAt = now
    }
}
