import Crypto
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

    /// An entry chained after `previousHash`, its MAC computed with `key` (its plain hash without one).
    public init(
        sequence: Int64, occurredAt: Date, actor: String, action: String, subject: String?,
        purpose: String?, reason: String?, details: [String: String], previousHash: String, key: SymmetricKey? = nil
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
        self.hash = key.map { computedMAC(key: $0) } ?? computedHash()
    }

    /// SHA-256 over every field but the hash itself, in a fixed, unambiguous layout. Anyone can
    /// recompute it: it proves order, not authorship (see `computedMAC`).
    public func computedHash() -> String {
        Digest.sha256Hex(canonical)
    }

    /// HMAC-SHA-256 over the same layout with the chain key, which lives outside the database: who
    /// can write the database but not read the key cannot rewrite an entry and recompute the chain.
    public func computedMAC(key: SymmetricKey) -> String {
        HMAC<SHA256>.authenticationCode(for: canonical, using: key).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether the entry carries the MAC of its content under `key`.
    public func isAuthentic(key: SymmetricKey) -> Bool {
        AuditChain.constantTimeEquals(computedMAC(key: key), hash)
    }

    private var canonical: Data {
        var fields = [
            String(sequence), String(occurredAt), actor, action, subject ?? "", purpose ?? "", reason ?? "", previousHash,
        ]
        fields += details.keys.sorted().flatMap { [$0, details[$0]!] }
        // Length-prefixed, so that no two different entries share a layout.
        return Data(fields.map { "\($0.utf8.count):\($0)" }.joined(separator: "|").utf8)
    }

    public var date: Date { Date(timeIntervalSince1970: Double(occurredAt) / 1000) }
}

/// Walks a chain of entries in sequence order.
public enum AuditChain {
    public enum Verification: Sendable, Equatable {
        case intact(entries: Int, head: String)
        case broken(sequence: Int64, reason: String)
    }

    /// The action of the entry that records the deletion of the chain's oldest entries, at the
    /// end of the register's period for the audit trail: its details name the last entry deleted
    /// (`through`) and that entry's hash (`hash`), the link the oldest entry kept points at. It
    /// is an entry of the chain, so its MAC vouches for both.
    public static let prunedAction = "audit.pruned"

    /// The details of a `prunedAction` entry.
    public static func prunedDetails(through sequence: Int64, hash: String, entries: Int) -> [String: String] {
        ["through": String(sequence), "hash": hash, "entries": String(entries)]
    }

    /// Whether `entry` records the deletion of every entry through `sequence`, the last of which
    /// had `hash` (check its MAC apart).
    public static func recordsPruning(_ entry: AuditEntry, through sequence: Int64, hash: String) -> Bool {
        guard entry.action == prunedAction, entry.details["through"] == String(sequence), let recorded = entry.details["hash"] else { return false }
        return constantTimeEquals(recorded, hash)
    }

    /// Stops at the first broken link: a gap in the sequence, a hash that does not match the
    /// entry's content, or a link that does not point at the previous entry's hash. With `key`,
    /// every entry must carry the keyed MAC rather than the plain hash. A chain whose oldest
    /// entries were deleted (it starts after entry 1) is whole only if one of its own entries
    /// records that deletion (`prunedAction`) through the entry just before its first, with the
    /// hash that first entry links to: deleting any more, or any other, breaks it.
    public static func verify(_ entries: some Sequence<AuditEntry>, key: SymmetricKey? = nil) -> Verification {
        var previousHash = AuditEntry.genesisHash
        var expected: Int64 = 1
        var count = 0
        // Where a pruned chain starts, and whether an entry of it records that pruning.
        var start: (sequence: Int64, link: String)?
        var startRecorded = false
        for entry in entries {
            if count == 0, entry.sequence > 1 {
                start = (entry.sequence, entry.previousHash)
                expected = entry.sequence
                previousHash = entry.previousHash
            }
            if let problem = problem(with: entry, expected: expected, previousHash: previousHash, key: key) {
                return .broken(sequence: entry.sequence, reason: problem)
            }
            if let start, recordsPruning(entry, through: start.sequence - 1, hash: start.link) {
                startRecorded = true
            }
            previousHash = entry.hash
            expected += 1
            count += 1
        }
        if let start, !startRecorded {
            return .broken(sequence: start.sequence, reason: "entries 1 to \(start.sequence - 1) are missing and no entry of the chain records their deletion")
        }
        return .intact(entries: count, head: previousHash)
    }

    /// Why `entry` is not the chain's entry `expected`, linked to `previousHash`, with its hash
    /// (its MAC under `key`, when given) matching its content; nil when it is.
    public static func problem(with entry: AuditEntry, expected: Int64, previousHash: String, key: SymmetricKey?) -> String? {
        if entry.sequence != expected {
            return "expected entry \(expected) but found \(entry.sequence): an entry is missing or out of order"
        }
        if entry.previousHash != previousHash {
            return "its link does not match the hash of entry \(expected - 1)"
        }
        let expectedHash = key.map { entry.computedMAC(key: $0) } ?? entry.computedHash()
        if !constantTimeEquals(expectedHash, entry.hash) {
            return "its content does not match its hash: it was altered"
        }
        return nil
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// A signed record of the chain's head, kept outside the database: a chain whose head falls
/// below it was truncated, and one whose entry at its sequence differs was rewritten.
public struct AuditAnchor: Sendable, Equatable {
    public var sequence: Int64
    public var head: String
    public var signature: String

    public init(sequence: Int64, head: String, key: SymmetricKey) {
        self.sequence = sequence
        self.head = head
        signature = Self.sign(sequence: sequence, head: head, key: key)
    }

    static func sign(sequence: Int64, head: String, key: SymmetricKey) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("audit-anchor|\(sequence)|\(head)".utf8), using: key)
            .map { String(format: "%02x", $0) }.joined()
    }

    public func isSigned(by key: SymmetricKey) -> Bool {
        AuditChain.constantTimeEquals(Self.sign(sequence: sequence, head: head, key: key), signature)
    }

    /// One line: `sequence head signature`.
    public var line: String { "\(sequence) \(head) \(signature)\n" }

    public init?(line: String) {
        let parts = line.split(whereSeparator: \.isWhitespace)
        guard parts.count == 3, let sequence = Int64(parts[0]) else { return nil }
        self.sequence = sequence
        head = String(parts[1])
        signature = String(parts[2])
    }

    /// Checks a verified chain's entries against the anchor.
    public func check(head chainHead: Int64, hashAt: (Int64) -> String?, key: SymmetricKey) -> AuditChain.Verification? {
        guard isSigned(by: key) else {
            return .broken(sequence: sequence, reason: "the audit anchor's signature is wrong: it was forged or the key changed")
        }
        guard chainHead >= sequence else {
            return .broken(sequence: chainHead + 1, reason: "the chain ends at entry \(chainHead) but the anchor records entry \(sequence): entries were deleted")
        }
        guard let hash = hashAt(sequence), AuditChain.constantTimeEquals(hash, head) else {
            return .broken(sequence: sequence, reason: "entry \(sequence) differs from the one the anchor records: the chain was rewritten")
        }
        return nil
    }
}
