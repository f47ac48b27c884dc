import Fluent
import Foundation

/// Writes recipients' accesses to the tenant's access log and the audit trail by group commit:
/// a request's access waits for the transaction that holds it, and every access that arrives
/// while one commits goes into the next, together. Each access is durable before its answer
/// leaves (the log is never behind what was delivered), and a burst of views costs one
/// transaction, not one each (the audit trail appends one at a time).
actor AccessJournal {
    struct Entry: Sendable {
        var access: ShareAccess
        var event: AuditEvent
        var actor: String
    }

    private let audit: AuditTrail
    private var pending: [(Entry, CheckedContinuation<Void, any Error>)] = []
    private var flushing = false
    /// At most this many accesses in one transaction.
    static let batch = 256

    init(audit: AuditTrail) {
        self.audit = audit
    }

    /// Records `entry`; returns once it is committed.
    func record(_ entry: Entry, on database: any Database) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            pending.append((entry, continuation))
            if !flushing {
                flushing = true
                Task { await self.flush(on: database) }
            }
        }
    }

    private func write(_ entries: [Entry], on database: any Database) async throws {
        try await audit.transaction(on: database) { db, log in
            try await entries.map { $0.access.unsaved() }.create(on: db)
            for entry in entries { log.record(entry.event, by: entry.actor) }
        }
    }

    private func flush(on database: any Database) async {
        while !pending.isEmpty {
            let taken = Array(pending.prefix(Self.batch))
            pending.removeFirst(taken.count)
            let entries = taken.map(\.0)
            do {
                try await write(entries, on: database)
                for (_, continuation) in taken { continuation.resume() }
            } catch {
                // One entry's failure (its link deleted meanwhile) is not the others': each is
                // written on its own then, and only those that fail again are refused.
                for (entry, continuation) in taken {
                    do {
                        try await write([entry], on: database)
                        continuation.resume()
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            }
        }
        flushing = false
    }
}
