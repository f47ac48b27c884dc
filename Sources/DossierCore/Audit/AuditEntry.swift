import Foundation

/// One line of the audit trail: who did what to whose data, when and why. Subjects and actors
/// are pseudonymous ids, so the trail survives a person's erasure and still proves what was done.
public struct AuditEntry: Codable, Sendable, Equatable {
    /// Position in the chain, from 1.
    public var sequence: Int64
    /// Milliseconds since 1970 (whole milliseconds, so the hash survives any database).
    public var occurredAt: Int64
    /// The pseudonymous id of who acted, or "system" / "cli".
    public var actor: String
    /// What was done: "account.created", "session.signed-in", "profile.read"…
    public var action: String
    /// The pseudonymous id of whose data it was, if anyone's.
    public var subject: String?
    /// The register purpose it served.
    public var purpose: String?
    /// Why, in words, when there is more to say than the action.
    public var reason: String?
    /// Extra facts, never personal data in clear.
    public var details: [String: String]
    public var previousHash: String
    public var hash: String

    public static let genesisHash = String(repeating: "0", count: 64)

    /// An entry chained after `previousHash`, its hash computed.
    public init(
        sequence: Int64, occurredAt: Date, actor: String, action: String, subject: String?,
        purpose: String?, reason: String?, details: [String: String], previousHash: String
    ) {
        self.sequence = sequence
        self.occurredAt = Int64((occurredAt.timeIntervalSince1970 * 1000).rounded(.down))
        self.actor = actor
        self.action = action
        self.subject = subject
        self.purpose = purpose
        self.reason = reason
        self.details = details
        self.previousHash = previousHash
        self.hash = ""
        self.hash = computedHash()
    }

    /// SHA-256 over every field but the hash itself, in a fixed, unambiguous layout.
    public func computedHash() -> String {
        var fields = [
            String(sequence), String(occurredAt), actor, action, subject ?? "", purpose ?? "", reason ?? "", previousHash,
        ]
        fields += details.keys.sorted().flatMap { [$0, details[$0]!] }
        // Length-prefixed, so that no two different entries share a layout.
        let canonical = fields.map { "\($0.utf8.count):\($0)" }.joined(separator: "|")
        return Digest.sha256Hex(Data(canonical.utf8))
    }

    public var date: Date { Date(timeIntervalSince1970: Double(occurredAt) / 1000) }
}

/// Walks a chain of entries in sequence order.
public enum AuditChain {
    public enum Verification: Sendable, Equatable {
        case intact(entries: Int, head: String)
        case broken(sequence: Int64, reason: String)
    }

    /// Stops at the first broken link: a gap in the sequence, a hash that does not match the
    /// entry's content, or a link that does not point at the previous entry's hash.
    public static func verify(_ entries: some Sequence<AuditEntry>) -> Verification {
        var previousHash = AuditEntry.genesisHash
        var expected: Int64 = 1
        var count = 0
        for entry in entries {
            if entry.sequence != expected {
                return .broken(sequence: entry.sequence, reason: "expected entry \(expected) but found \(entry.sequence): an entry is missing or out of order")
            }
            if entry.previousHash != previousHash {
                return .broken(sequence: entry.sequence, reason: "its link does not match the hash of entry \(expected - 1)")
            }
            if entry.computedHash() != entry.hash {
                return .broken(sequence: entry.sequence, reason: "its content does not match its hash: it was altered")
            }
            previousHash = entry.hash
            expected += 1
            count += 1
        }
        return .intact(entries: count, head: previousHash)
    }
}
