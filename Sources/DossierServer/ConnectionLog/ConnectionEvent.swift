import DossierCore
import Fluent
import Foundation

/// One line of the connection log: a sign-in attempt or a session's start or end, with where
/// it came from. Personal data of the register's "connection-data" category, purged on its rule.
final class ConnectionEvent: Model, @unchecked Sendable {
    static let schema = "connection_events"
    /// The register category this table holds; the retention engine purges by it.
    static let dataCategory = "connection-data"
    /// The register's purpose the log is kept for (and whose rule the account page states).
    static let purpose = "account"

    enum Kind: String, Codable, Sendable, CaseIterable {
        case signIn = "sign-in"
        case signOut = "sign-out"
        case passwordReset = "password-reset"
    }

    enum Outcome: String, Codable, Sendable, CaseIterable {
        case success
        case wrongPassword = "wrong-password"
        case unknownAccount = "unknown-account"
        case throttled
    }

    @ID(key: .id) var id: UUID?
    @OptionalParent(key: "account_id") var account: Account?
    @Enum(key: "kind") var kind: Kind
    @Enum(key: "outcome") var outcome: Outcome
    @Field(key: "ip_address") var ipAddress: String
    @Field(key: "user_agent") var userAgent: String
    @Field(key: "occurred_at") var occurredAt: Date

    var properties: [any AnyProperty] { [$id, $account, $kind, $outcome, $ipAddress, $userAgent, $occurredAt] }

    init() {}

    init(accountID: UUID?, kind: Kind, outcome: Outcome, ipAddress: String, userAgent: String, at date: Date) {
        $account.id = accountID
        self.kind = kind
        self.outcome = outcome
        self.ipAddress = ipAddress
        self.userAgent = String(userAgent.prefix(512))
        occurredAt = date
    }
}

extension ConnectionEvent {
    /// How long the register keeps the log, in words ("6 months from collection; then deleted.").
    static func retention(in register: Register, language: Language) -> String {
        guard let purpose = register.purpose(purpose), let rule = purpose.rules(for: dataCategory).first else { return "" }
        return Wording(language).retention(rule, in: register)
    }
}
