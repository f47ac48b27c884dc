import Fluent
import Foundation

/// A single-use secret sent by email: to verify an address or to reset a password.
final class AccountToken: Model, @unchecked Sendable {
    static let schema = "account_tokens"

    enum Purpose: String, Codable, Sendable {
        case verifyEmail = "verify-email"
        case resetPassword = "reset-password"

        /// How long the link works.
        var lifetime: TimeInterval {
            switch self {
            case .verifyEmail: 7 * 24 * 3600
            case .resetPassword: 30 * 60
            }
        }
    }

    @ID(key: .id) var id: UUID?
    @Parent(key: "account_id") var account: Account
    @Enum(key: "purpose") var purpose: Purpose
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date
    @OptionalField(key: "used_at") var usedAt: Date?

    var properties: [any AnyProperty] { [$id, $account, $purpose, $tokenHash, $createdAt, $expiresAt, $usedAt] }

    init() {}

    init(accountID: UUID, purpose: Purpose, tokenHash: String, now: Date) {
        $account.id = accountID
        self.purpose = purpose
        self.tokenHash = tokenHash
        createdAt = now
        expiresAt = now + purpose.lifetime
    }
}
