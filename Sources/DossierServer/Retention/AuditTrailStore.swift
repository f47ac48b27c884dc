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
/// the next entry links to. It reads the entries in chain order from the oldest, so its cost
/// follows what is due.
struct AuditTrailStore: RetentionStore {
    let task = RetentionTask(id: "audit-trail", purpose: "security", category: "audit-trail", events: [.collection])

    /// The chain's oldest entry, the last one due at `cutoff` (`due`), and the last one that may
    /// go (`through`: before the first one held); nil when nothing is due.
    private func boundary(_ cutoff: Date, held: Set<String>, on db: any Database) async throws -> (first: Int64, due: Int64, through: Int64)? {
        guard let first = try await AuditRecord.query(on: db).sort(\.$sequence).first()?.sequence,
              let head = try await AuditRecord.query(on: db).sort(\.$sequence, .descending).first()?.sequence else { return nil }
        // Milliseconds, as entries are dated; the first entry newer than that ends what is due
        // (an entry of another instance a little out of order waits for the next sweep).
        let limit = Int64((cutoff.timeIntervalSince1970 * 1000).rounded(.down))
        let newer = try await AuditRecord.query(on: db).filter(\.$occurredAt > limit).sort(\.$sequence).first()?.sequence
        let due = min((newer ?? head + 1) - 1, head - 1)
        guard due >= first else { return nil }
        var through = due
        if !held.isEmpty, let kept = try await AuditRecord.query(on: db).filter(\.$subject ~~ held).filter(\.$sequence <= due)
            .sort(\.$sequence).first()?.sequence {
            through = kept - 1
        }
        return (first, due, through)
    }

    func plan(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let cutoff = RetentionSchedule.latestStart(keep: rule.keep, at: context.at)
        guard let range = try await boundary(cutoff, held: [], on: db) else { return [line(rule, due: 0)] }
        return [line(rule, due: Int(range.due - range.first + 1), examples: [String(range.first), String(range.due)])]
    }

    func run(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let cutoff = RetentionSchedule.latestStart(keep: rule.keep, at: context.at)
        let purpose = task.purpose
        let result = try await context.services.audit.transaction(on: db) { db, audit -> (due: Int, done: Int, through: Int64?) in
            guard let range = try await boundary(cutoff, held: try await LegalHold.held(on: db).subjects, on: db) else { return (0, 0, nil) }
            let due = Int(range.due - range.first + 1)
            guard range.through >= range.first,
                  let last = try await AuditRecord.query(on: db).filter(\.$sequence == range.through).first() else { return (due, 0, nil) }
            try await AuditRecord.query(on: db).filter(\.$sequence <= range.through).delete()
            let done = Int(range.through - range.first + 1)
            audit.record(AuditEvent(action: AuditChain.prunedAction, purpose: purpose, reason: "retention",
                                    details: AuditChain.prunedDetails(through: range.through, hash: last.hash, entries: done)), by: "system")
            return (due, done, range.through)
        }
        return [line(rule, due: result.due, done: result.done, kept: result.due - result.done,
                     examples: result.through.map { [String($0)] } ?? [])]
    }
}
