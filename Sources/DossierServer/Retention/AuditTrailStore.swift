import Crypto
import DossierCore
import Fluent
import Foundation

/// The audit trail, under the register's rule for it (the shipped register: `security` /
/// `audit-trail`, 5 years from collection): its oldest entries are deleted once they are 5 years
/// old, in one transaction with the entry that records it (`AuditChain.prunedAction`: the last
/// entry deleted and its hash, under the chain's MAC), so that the chain left is still whole and
/// shown to be (`dossier verify`). Only the chain's oldest entries can go: it stops at the first
/// entry newer than the period, at the first that names a person under a hold or who restricted
/// processing (kept, and everything after it, while that stands), and before the head, which
/// the next entry links to.
///
/// What is due is read from the entries themselves, in chain order from the oldest, each checked
/// as `verify` checks it (its MAC under the chain's key, its link, its sequence, and the chain's
/// start: entry 1, or a pruning the chain records): a row whose date or subject was changed in the
/// database is not deleted on its word, nothing is, and the sweep reports it. So the cost follows
/// what is due: one read and one MAC an entry.
struct AuditTrailStore: RetentionStore {
    let task = RetentionTask(id: "audit-trail", purpose: "security", category: "audit-trail", events: [.collection])

    /// Entries read at a time.
    static let page = 1000

    /// The chain does not check out where the sweep would delete: it deletes nothing.
    struct Tampered: Error, CustomStringConvertible {
        let sequence: Int64
        let reason: String
        var description: String { "the audit trail does not verify at entry \(sequence) (\(reason)): nothing deleted; run dossier audit verify" }
    }

    /// What the sweep may delete: the chain's oldest entry, the last one due (`due`), the last
    /// one not held (`through`) and its hash.
    struct Range {
        var first: Int64
        var due: Int64
        var through: Int64
        var hash: String?
    }

    /// Walks the chain from its oldest entry while entries are due at `cutoff`, checking each.
    private func range(_ cutoff: Date, held: Set<String>, key: SymmetricKey, on db: any Database) async throws -> Range? {
        guard let head = try await AuditRecord.query(on: db).sort(\.$sequence, .descending).first()?.sequence else { return nil }
        let limit = Int64((cutoff.timeIntervalSince1970 * 1000).rounded(.down))
        var range: Range?
        var previous: AuditEntry?
        var after: Int64 = 0
        var heldFrom: Int64?
        walk: while true {
            let records = try await AuditRecord.query(on: db).filter(\.$sequence > after).sort(\.$sequence).limit(Self.page).all()
            guard !records.isEmpty else { break }
            for record in records {
                let entry = record.entry
                // Due: 5 years old, and not the head (the next entry links to it). The first entry
                // newer ends it (one of another instance a little out of order waits a day).
                guard entry.occurredAt <= limit, entry.sequence < head else { break walk }
                guard record.keyed, entry.isAuthentic(key: key) else {
                    throw Tampered(sequence: entry.sequence, reason: "its content does not match its MAC")
                }
                if let previous {
                    guard entry.sequence == previous.sequence + 1, entry.previousHash == previous.hash else {
                        throw Tampered(sequence: entry.sequence, reason: "it does not follow entry \(previous.sequence)")
                    }
                } else {
                    try await checkStart(entry, key: key, on: db)
                }
                if heldFrom == nil, let subject = entry.subject, held.contains(subject) { heldFrom = entry.sequence }
                if heldFrom == nil {
                    range = Range(first: range?.first ?? entry.sequence, due: entry.sequence, through: entry.sequence, hash: entry.hash)
                } else if range == nil {
                    range = Range(first: entry.sequence, due: entry.sequence, through: entry.sequence - 1, hash: nil)
                } else {
                    range?.due = entry.sequence
                }
                previous = entry
            }
            after = records[records.count - 1].sequence
        }
        return range
    }

    /// The chain's oldest entry is entry 1, or the chain records the pruning before it.
    private func checkStart(_ entry: AuditEntry, key: SymmetricKey, on db: any Database) async throws {
        if entry.sequence == 1 {
            guard entry.previousHash == AuditEntry.genesisHash else { throw Tampered(sequence: 1, reason: "it does not start the chain") }
            return
        }
        let prunings = try await AuditRecord.query(on: db).filter(\.$action == AuditChain.prunedAction).all()
        guard prunings.contains(where: { record in
            let pruning = record.entry
            return record.keyed && pruning.isAuthentic(key: key)
                && AuditChain.recordsPruning(pruning, through: entry.sequence - 1, hash: entry.previousHash)
        }) else {
            throw Tampered(sequence: entry.sequence, reason: "the entries before it are missing and no entry records their deletion")
        }
    }

    func plan(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let cutoff = RetentionSchedule.latestStart(keep: rule.keep, at: context.at)
        guard let range = try await range(cutoff, held: try await LegalHold.held(on: db).subjects, key: context.services.audit.key, on: db) else {
            return [line(rule, due: 0)]
        }
        return [line(rule, due: Int(range.due - range.first + 1), examples: [String(range.first), String(range.due)])]
    }

    func run(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let cutoff = RetentionSchedule.latestStart(keep: rule.keep, at: context.at)
        let purpose = task.purpose
        let key = context.services.audit.key
        let result = try await context.services.audit.transaction(on: db) { db, audit -> (due: Int, done: Int, through: Int64?) in
            guard let range = try await range(cutoff, held: try await LegalHold.held(on: db).subjects, key: key, on: db) else { return (0, 0, nil) }
            let due = Int(range.due - range.first + 1)
            guard range.through >= range.first, let hash = range.hash else { return (due, 0, nil) }
            try await AuditRecord.query(on: db).filter(\.$sequence <= range.through).delete()
            let done = Int(range.through - range.first + 1)
            audit.record(AuditEvent(action: AuditChain.prunedAction, purpose: purpose, reason: "retention",
                                    details: AuditChain.prunedDetails(through: range.through, hash: hash, entries: done)), by: "system")
            return (due, done, range.through)
        }
        return [line(rule, due: result.due, done: result.done, kept: result.due - result.done,
                     examples: result.through.map { [String($0)] } ?? [])]
    }
}
