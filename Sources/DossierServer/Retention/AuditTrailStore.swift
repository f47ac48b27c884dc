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
/// what is due: one read and one MAC an entry, up to the first held one (counted as kept).
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
        walk: while true {
            let records = try await AuditRecord.query(on: db).filter(\.$sequence > after).sort(\.$sequence).limit(Self.page).all()
            guard !records.isEmpty else { break }
            for record in records {
                let entry = record.entry
                // Checked first, the entry that ends the walk too: a date made later in the
                // database would otherwise stop every sweep without a word.
                guard record.keyed else { throw Tampered(sequence: entry.sequence, reason: "it carries no keyed MAC") }
                // As `verify` checks it; the oldest entry's link is checked by `checkStart`.
                if let problem = AuditChain.problem(with: entry, expected: previous.map { $0.sequence + 1 } ?? entry.sequence,
                                                    previousHash: previous?.hash ?? entry.previousHash, key: key) {
                    throw Tampered(sequence: entry.sequence, reason: problem)
                }
                if previous == nil { try await checkStart(entry, key: key, on: db) }
                // Due: 5 years old, and not the head (the next entry links to it). The first entry
                // newer ends it (one of another instance a little out of order waits a day).
                guard entry.occurredAt <= limit, entry.sequence < head else { break walk }
                if let subject = entry.subject, held.contains(subject) {
                    // Held: this entry and every one after it stay. The walk stops here (a hold
                    // that lasts years would otherwise have every sweep read what it keeps), and
                    // the report counts this entry as the one kept.
                    range = Range(first: range?.first ?? entry.sequence, due: entry.sequence, through: entry.sequence - 1, hash: range?.hash)
                    break walk
                }
                range = Range(first: range?.first ?? entry.sequence, due: entry.sequence, through: entry.sequence, hash: entry.hash)
                previous = entry
            }
            after = records[records.count - 1].sequence
        }
        return range
    }

    /// The people a legal hold stands on by the chain's own record (a `hold.placed` not yet
    /// followed by a `hold.lifted`, each checked): a hold row deleted or marked lifted in the
    /// database does not free their entries. (A held account cannot be erased, so a hold ends
    /// only by being lifted.) The database's holds and restrictions count as well.
    private func heldByChain(key: SymmetricKey, on db: any Database) async throws -> Set<String> {
        var held = Set<String>()
        let records = try await AuditRecord.query(on: db).filter(\.$action ~~ [HoldService.placedAction, HoldService.liftedAction])
            .sort(\.$sequence).all()
        for record in records {
            let entry = record.entry
            guard record.keyed, entry.isAuthentic(key: key) else {
                throw Tampered(sequence: entry.sequence, reason: "its content does not match its MAC")
            }
            guard let subject = entry.subject else { continue }
            if entry.action == HoldService.placedAction { held.insert(subject) } else { held.remove(subject) }
        }
        return held
    }

    /// Everyone whose entries stay: held (by the database or the chain) or restricted.
    private func held(key: SymmetricKey, on db: any Database) async throws -> Set<String> {
        try await LegalHold.held(on: db).subjects.union(heldByChain(key: key, on: db))
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
        let key = context.services.audit.key
        guard let range = try await range(cutoff, held: try await held(key: key, on: db), key: key, on: db) else {
            return [line(rule, due: 0)]
        }
        return [line(rule, due: Int(range.due - range.first + 1), examples: [String(range.first), String(range.due)])]
    }

    func run(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let cutoff = RetentionSchedule.latestStart(keep: rule.keep, at: context.at)
        let purpose = task.purpose
        let key = context.services.audit.key
        let result = try await context.services.audit.transaction(on: db) { db, audit -> (due: Int, done: Int, through: Int64?) in
            guard let range = try await range(cutoff, held: try await held(key: key, on: db), key: key, on: db) else { return (0, 0, nil) }
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
