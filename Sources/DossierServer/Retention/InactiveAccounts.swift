import DossierCore
import Fluent
import Foundation
import Vapor

/// A tenant's account, under the register's rule for identification data of the `account`
/// purpose (the shipped register: 1 year from the last activity, a reminder 30 days before,
/// deleted without an answer, its identity archived 5 years).
///
/// - Reminder: once the period is within `remind` of its end, the person is told by email the
///   day their account closes; the reminder is recorded on the account
///   (`inactivity_reminded_at`) in the transaction that queues it, so it goes once.
/// - Answer: any activity (signing in) moves `last_activity_at` past the reminder: the account
///   is no longer due, and a new reminder waits for the next year without activity.
/// - Closing: an account whose period is over, reminded for this period at least `remind` ago
///   (the waiting period the register states, given in full even when a reminder went late),
///   is erased as the person could erase it (`ErasureService`): documents and keys destroyed,
///   what the register keeps archived, the receipt mailed.
struct InactiveAccounts: RetentionStore {
    let task = RetentionTask(id: "inactive-accounts", purpose: ConnectionEvent.purpose, category: Account.dataCategory, subject: "tenant",
                             events: [.lastActivity])

    /// Accounts not yet reminded for their current period of inactivity, due a reminder.
    private func toRemind(_ rule: RetentionRule, at instant: Date, on db: any Database) -> QueryBuilder<Account>? {
        guard let remind = rule.remind else { return nil }
        let cutoff = RetentionSchedule.latestReminderStart(keep: rule.keep, remind: remind, at: instant)
        return Account.query(on: db).filter(\.$role == .tenant).filter(\.$lastActivityAt <= cutoff).group(.or) { group in
            group.filter(\.$inactivityRemindedAt == nil).filter(\.$inactivityRemindedAt, .lessThan, \.$lastActivityAt)
        }
    }

    /// Accounts whose period is over and whose reminder (if the rule has one) has waited its time.
    private func toClose(_ rule: RetentionRule, at instant: Date, on db: any Database) -> QueryBuilder<Account> {
        let cutoff = RetentionSchedule.latestStart(keep: rule.keep, at: instant)
        let query = Account.query(on: db).filter(\.$role == .tenant).filter(\.$lastActivityAt <= cutoff)
        if let remind = rule.remind {
            query.filter(\.$inactivityRemindedAt, .greaterThanOrEqual, \.$lastActivityAt)
                .filter(\.$inactivityRemindedAt <= RetentionSchedule.latestStart(keep: remind, at: instant))
        }
        return query
    }

    func plan(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        var lines: [RetentionReport.Line] = []
        if let reminders = toRemind(rule, at: context.at, on: db) {
            let due = try await reminders.count()
            let examples = try await reminders.sort(\.$lastActivityAt).limit(retentionExamples).all(\.$subjectID)
            lines.append(line(rule, action: "remind", due: due, examples: examples))
        }
        let closing = toClose(rule, at: context.at, on: db)
        let due = try await closing.count()
        let examples = try await closing.sort(\.$lastActivityAt).limit(retentionExamples).all(\.$subjectID)
        lines.append(line(rule, action: "erase", due: due, examples: examples))
        return lines
    }

    func run(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        var lines: [RetentionReport.Line] = []
        let services = context.services
        if let reminders = toRemind(rule, at: context.at, on: db), let remind = rule.remind {
            var tally = Tally()
            for account in try await reminders.sort(\.$lastActivityAt).all() {
                tally.due += 1
                guard try await context.mayAct(onAccount: account.requireID(), on: db) else {
                    tally.kept += 1
                    continue
                }
                let closing = remind.added(to: context.at)
                let reminded = try await services.audit.transaction(on: db) { db, audit -> Bool in
                    // Read again under the row's lock: an activity since the selection answers it.
                    try await db.lockRow(Account.schema, account.requireID())
                    guard let current = try await Account.find(account.requireID(), on: db),
                          current.lastActivityAt == account.lastActivityAt, current.inactivityRemindedAt == account.inactivityRemindedAt else { return false }
                    current.inactivityRemindedAt = context.at
                    try await current.save(on: db)
                    try await services.mailer.enqueue(.inactivityReminder(closingDay: ShareWatermark.day(of: closing),
                                                                          link: services.configuration.baseURL + "/signin"),
                                                      to: current.email, language: current.language, subject: current.subject,
                                                      accountID: current.id, on: db)
                    audit.record(AuditEvent(action: "account.inactivity-reminded", subject: current.subject, purpose: task.purpose,
                                            reason: "retention", details: ["closing": ISO8601DateFormatter().string(from: closing)]),
                                 by: "system")
                    return true
                }
                if reminded { tally.done(account.subjectID) } else { tally.due -= 1 }
            }
            lines.append(line(rule, action: "remind", tally))
        }
        var tally = Tally()
        for account in try await toClose(rule, at: context.at, on: db).sort(\.$lastActivityAt).all() {
            tally.due += 1
            guard try await context.mayAct(onAccount: account.requireID(), on: db) else {
                tally.kept += 1
                continue
            }
            let selected = (activity: account.lastActivityAt, reminded: account.inactivityRemindedAt)
            do {
                // Still inactive under the account's lock: a sign-in since the selection answers it.
                _ = try await ErasureService(database: db, services: services, logger: context.logger)
                    .erase(account, language: account.language, actor: "system", reason: "retention",
                           stillDue: { $0.lastActivityAt == selected.activity && $0.inactivityRemindedAt == selected.reminded })
                tally.done(account.subjectID)
            } catch is ErasureService.NoLongerDue {
                // Used since the selection: the reminder is answered.
                tally.due -= 1
            } catch let error as any AbortError where error.status == .notFound {
                // Erased meanwhile (by the person, or a sweep elsewhere).
                tally.due -= 1
            } catch let error as any AbortError {
                // Refused (the last administrator of an organisation): kept, and said.
                context.logger.warning("retention: account \(account.subject) not closed: \(error.reason)")
                tally.kept += 1
            }
        }
        lines.append(line(rule, action: "erase", tally))
        return lines
    }

    private struct Tally {
        var due = 0
        var done = 0
        var kept = 0
        var examples: [UUID] = []

        mutating func done(_ subject: UUID) {
            done += 1
            if examples.count < retentionExamples { examples.append(subject) }
        }
    }

    private func line(_ rule: RetentionRule, action: String, _ tally: Tally) -> RetentionReport.Line {
        line(rule, action: action, due: tally.due, done: tally.done, kept: tally.kept, examples: tally.examples)
    }

}
