import DossierCore
import Fluent
import Foundation

/// A message waiting to be delivered, kept until it is: nothing acknowledged is lost.
final class OutboxMessage: Model, @unchecked Sendable {
    static let schema = "outbox_messages"

    @ID(key: .id) var id: UUID?
    @OptionalParent(key: "account_id") var account: Account?
    @Field(key: "sender") var sender: String
    @Field(key: "recipient") var recipient: String
    /// Empty: the text is in `sealed` (older rows kept it here until delivered).
    @Field(key: "message") var message: String
    /// The whole RFC 5322 text, sealed with the recipient's subject key until it is delivered,
    /// then erased: links and tokens never rest in clear, nor beyond delivery.
    @OptionalField(key: "sealed") var sealed: Data?
    /// Whose key seals it.
    @OptionalField(key: "subject") var subject: String?
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "attempts") var attempts: Int
    @Field(key: "next_attempt_at") var nextAttemptAt: Date
    /// Set by the dispatcher that claimed the message, so that no other sends it too.
    @OptionalField(key: "lease") var lease: String?
    @OptionalField(key: "last_error") var lastError: String?
    @OptionalField(key: "sent_at") var sentAt: Date?
    @OptionalField(key: "failed_at") var failedAt: Date?

    var properties: [any AnyProperty] { [$id, $account, $sender, $recipient, $message, $sealed, $subject, $createdAt, $attempts, $nextAttemptAt, $lease, $lastError, $sentAt, $failedAt] }

    init() {}

    init(id: UUID, accountID: UUID?, sender: String, recipient: String, subject: String, sealed: Data, now: Date) {
        self.id = id
        $account.id = accountID
        self.sender = sender
        self.recipient = recipient
        message = ""
        self.subject = subject
        self.sealed = sealed
        createdAt = now
        attempts = 0
        nextAttemptAt = now
    }

    /// The register category of the messages' text.
    static let dataCategory = "service-messages"

    static func context(_ id: UUID) -> String { "outbox:\(id.uuidString.lowercased())" }

    /// Once delivered or given up: nothing of the text remains.
    func erase() {
        message = ""
        sealed = nil
    }
}

extension OutboxMessage {
    /// How long the register keeps a service message: the shortest rule among the purposes the
    /// outbox is declared for (``StoredItems``), so that no purpose's promise is outlived.
    static func retention(in register: Register) -> RetentionPeriod {
        let reasons = (StoredItems.data.first { $0.name == schema }?.reasons ?? [])
        let rules = reasons.flatMap { reason in register.purpose(reason.purpose)?.rules(for: reason.category) ?? [] }
        let now = Date()
        return rules.map(\.keep).min { $0.added(to: now) < $1.added(to: now) } ?? RetentionPeriod(7, .day)
    }
}
