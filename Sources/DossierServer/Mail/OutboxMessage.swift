import Fluent
import Foundation

/// A message waiting to be delivered, kept until it is: nothing acknowledged is lost.
final class OutboxMessage: Model, @unchecked Sendable {
    static let schema = "outbox_messages"

    @ID(key: .id) var id: UUID?
    @OptionalParent(key: "account_id") var account: Account?
    @Field(key: "sender") var sender: String
    @Field(key: "recipient") var recipient: String
    /// The whole RFC 5322 text.
    @Field(key: "message") var message: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "attempts") var attempts: Int
    @Field(key: "next_attempt_at") var nextAttemptAt: Date
    /// Set by the dispatcher that claimed the message, so that no other sends it too.
    @OptionalField(key: "lease") var lease: String?
    @OptionalField(key: "last_error") var lastError: String?
    @OptionalField(key: "sent_at") var sentAt: Date?
    @OptionalField(key: "failed_at") var failedAt: Date?

    init() {}

    init(accountID: UUID?, sender: String, recipient: String, message: String, now: Date) {
        $account.id = accountID
        self.sender = sender
        self.recipient = recipient
        self.message = message
        createdAt = now
        attempts = 0
        nextAttemptAt = now
    }
}
