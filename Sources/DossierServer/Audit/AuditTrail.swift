import DossierCore
import Fluent
import Foundation

/// What happened, for the audit trail.
struct AuditEvent: Sendable {
    var action: String
    /// Whose data: the pseudonymous subject id.
    var subject: String?
    var purpose: String?
    var reason: String?
    var details: [String: String] = [:]
}

/// Appends to the hash-chained audit trail. Appends are serialised in this process (an actor
/// alone would not do: it is re-entered at every `await`), and the unique sequence number keeps
/// two processes from forking the chain (the loser reads the new head and retries).
final class AuditTrail: Sendable {
    private let clock: any WallClock
    private let appends = SerialExecutor()

    init(clock: any WallClock) {
        self.clock = clock
    }

    @discardableResult
    func record(_ event: AuditEvent, by actor: String, on database: any Database) async throws -> AuditEntry {
        try await appends.run { try await self.append(event, by: actor, on: database) }
    }

    private func append(_ event: AuditEvent, by actor: String, on database: any Database) async throws -> AuditEntry {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let head = try await AuditRecord.query(on: database).sort(\.$sequence, .descending).first()
            let entry = AuditEntry(
                sequence: (head?.sequence ?? 0) + 1, occurredAt: clock.now, actor: actor, action: event.action,
                subject: event.subject, purpose: event.purpose, reason: event.reason, details: event.details,
                previousHash: head?.hash ?? AuditEntry.genesisHash
            )
            do {
                try await AuditRecord(entry).create(on: database)
                return entry
            } catch where (error as? any DatabaseError)?.isConstraintFailure == true {
                // Another process appended this sequence number first: read the new head and retry.
                lastError = error
            }
        }
        throw lastError!
    }

    /// Walks the whole chain in order, a page at a time.
    static func verify(on database: any Database) async throws -> AuditChain.Verification {
        var entries: [AuditEntry] = []
        var after: Int64 = 0
        while true {
            let page = try await AuditRecord.query(on: database)
                .filter(\.$sequence > after).sort(\.$sequence).limit(1000).all()
            guard let last = page.last else { break }
            entries += page.map(\.entry)
            after = last.sequence
        }
        return AuditChain.verify(entries)
    }
}
