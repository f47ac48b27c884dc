import DossierCore
import Fluent
import Foundation

/// An audit entry as stored. Append-only: nothing updates these rows; the oldest are deleted at
/// the end of the register's period for the audit trail (`AuditTrailStore`), and the chain records it.
final class AuditRecord: Model, @unchecked Sendable {
    static let schema = "audit_entries"

    @ID(key: .id) var id: UUID?
    @Field(key: "sequence") var sequence: Int64
    @Field(key: "occurred_at") var occurredAt: Int64
    @Field(key: "actor") var actor: String
    @Field(key: "action") var action: String
    @OptionalField(key: "subject") var subject: String?
    @OptionalField(key: "purpose") var purpose: String?
    @OptionalField(key: "reason") var reason: String?
    /// JSON object of strings.
    @Field(key: "details") var details: String
    @Field(key: "previous_hash") var previousHash: String
    @Field(key: "hash") var hash: String
    /// Whether `hash` is the keyed MAC (every entry since the chain was keyed) or a plain SHA-256.
    @Field(key: "keyed") var keyed: Bool

    var properties: [any AnyProperty] { [$id, $sequence, $occurredAt, $actor, $action, $subject, $purpose, $reason, $details, $previousHash, $hash, $keyed] }

    init() {}

    init(_ entry: AuditEntry, keyed: Bool) throws {
        self.keyed = keyed
        sequence = entry.sequence
        occurredAt = entry.occurredAt
        actor = entry.actor
        action = entry.action
        subject = entry.subject
        purpose = entry.purpose
        reason = entry.reason
        details = String(decoding: try JSONEncoder.sorted.encode(entry.details), as: UTF8.self)
        previousHash = entry.previousHash
        hash = entry.hash
    }

    var entry: AuditEntry {
        var entry = AuditEntry(
            sequence: sequence, occurredAt: Date(), actor: actor, action: action, subject: subject,
            purpose: purpose, reason: reason,
            details: (try? JSONDecoder().decode([String: String].self, from: Data(details.utf8))) ?? ["<unreadable>": details],
            previousHash: previousHash
        )
        entry.occurredAt = occurredAt
        entry.hash = hash
        return entry
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
