import DossierCore
import Fluent
import Foundation
import SQLKit
import Vapor

/// The retention engine: every store that keeps data under a rule of the register (`stores`),
/// swept at an instant. `plan` counts what is due and changes nothing; `run` acts, under the
/// sweep lock (one sweep at a time across every instance on the database), and writes its
/// receipt to the audit trail. Each store acts in small transactions that each leave the data
/// whole, and selects what is still due when it starts: a sweep killed at any point is finished
/// by the next one. `dossier retention plan|run` and the server's schedule share it.
struct RetentionService: Sendable {
    let database: any Database
    let services: DossierServices
    let logger: Logger

    /// Another sweep holds the lock.
    struct Busy: CommandFailure, CustomStringConvertible {
        var message: String { "another retention sweep is running on this database: nothing was done" }
        var description: String { message }
    }

    /// What the engine sweeps, in this order: people's accounts first (an erasure takes its
    /// connection log with it), then the logs, then the records kept after an erasure, and the
    /// audit trail last (after the entries of what the others deleted).
    static let stores: [any RetentionStore] = [
        InactiveAccounts(),
        SharedDocuments.uploaded,
        SharedDocuments.filed,
        SharedLinks(),
        FileCertificates(),
        ConnectionLog(),
        SessionTraces(),
        KeptUntil.consents,
        KeptUntil.objections,
        KeptUntil.requests,
        KeptUntil.archive,
        KeptUntil.erasureRecords,
        LiftedHolds(),
        AuditTrailStore(),
    ]

    /// What a sweep at `instant` would do.
    func plan(at instant: Date) async throws -> RetentionReport {
        try await sweep(at: instant, acting: false, on: database)
    }

    /// The sweep at `instant`, under the lock; its receipt is in the audit trail.
    func run(at instant: Date) async throws -> RetentionReport {
        guard let report = try await SweepLock.withLock(services.configuration, database: database, { db in
            try await sweep(at: instant, acting: true, on: db)
        }) else { throw Busy() }
        return report
    }

    private func sweep(at instant: Date, acting: Bool, on db: any Database) async throws -> RetentionReport {
        let started = ContinuousClock.now
        let register = services.register.register
        var report = RetentionReport(at: instant, registerVersion: register.version, dryRun: !acting)
        let context = RetentionContext(services: services, logger: logger, at: instant)
        if acting {
            // What a sweep (or an erasure) killed halfway left: blob deletions finished, erased
            // people's keys destroyed, before anything new is done. In real time: a write in
            // flight on a server is not stale because this sweep runs `--at` a later instant.
            try await BlobJournal.recover(blobs: services.blobs, on: db, now: Date(), logger: logger)
            try await ErasureService.finishPending(services: services, on: db)
        }
        for store in Self.stores {
            let rule: RetentionRule
            switch store.task.rule(in: register) {
            case let .success(found): rule = found
            case let .failure(problem):
                report.problems.append(problem)
                continue
            }
            do {
                report.lines += acting ? try await store.run(rule, context, on: db) : try await store.plan(rule, context, on: db)
            } catch {
                // One store failing does not hold the others back; the next sweep retries it.
                // (Described, not reflected: a database error's detail may quote a row's values.)
                logger.error("retention: \(store.task.id): \(String(describing: error))")
                report.problems.append(.init(task: store.task.id, message: "failed: \(error)"))
            }
        }
        let elapsed = started.duration(to: .now)
        report.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if acting {
            var details = ["at": ISO8601DateFormatter().string(from: instant), "register": register.version,
                           "seconds": String(format: "%.3f", report.seconds)]
            for line in report.lines { details["\(line.task).\(line.action)"] = "\(line.done)/\(line.due)" + (line.kept > 0 ? " kept \(line.kept)" : "") }
            for problem in report.problems { details["problem.\(problem.task)"] = problem.message }
            try await services.audit.record(AuditEvent(action: "retention.swept", purpose: nil, reason: "retention", details: details),
                                            by: "system", on: db)
        }
        return report
    }

    /// The receipts of past sweeps, newest first.
    func history(limit: Int = 20) async throws -> [AuditRecord] {
        try await AuditRecord.query(on: database).filter(\.$action == "retention.swept").sort(\.$sequence, .descending).limit(limit).all()
    }
}

/// What a store needs to act.
struct RetentionContext: Sendable {
    let services: DossierServices
    let logger: Logger
    /// The sweep's instant (`--at`), which may differ from the clock's.
    let at: Date
    /// Whether the engine may delete the data of the person an account is, now (read again for
    /// each person: a hold placed during a sweep takes effect at once): not while a hold
    /// stands, nor while they have restricted its processing (Art. 18: stored, nothing else).
    func mayAct(onAccount id: UUID, on db: any Database) async throws -> Bool {
        let holds = try await LegalHold.query(on: db).filter(\.$accountID == id).filter(\.$liftedAt == nil).count()
        let restrictions = try await RestrictedSubject.query(on: db).filter(\.$account.$id == id).count()
        return holds + restrictions == 0
    }

    /// Acts on each row due, one at a time, in its own transaction (`act`): the rows of a person
    /// held or restricted are kept, and so is one whose action the audit trail refuses for a
    /// restriction placed meanwhile; one gone meanwhile (404) is neither done nor kept.
    func each<Row: Model>(_ rows: [Row], account: (Row) -> UUID, on db: any Database,
                          _ act: (Row) async throws -> Void) async throws -> (done: [UUID], kept: Int) where Row.IDValue == UUID {
        var done: [UUID] = []
        var kept = 0
        for row in rows {
            guard try await mayAct(onAccount: account(row), on: db) else {
                kept += 1
                continue
            }
            do {
                try await act(row)
                done.append(try row.requireID())
            } catch let error as any AbortError where error.status == .notFound {
                // Gone meanwhile.
            } catch is ProcessingRestricted {
                kept += 1
            }
        }
        return (done, kept)
    }

    /// The connection log of people who are not held (and connections of no account).
    static func excludingHeld(_ query: QueryBuilder<ConnectionEvent>, _ held: LegalHold.Held) -> QueryBuilder<ConnectionEvent> {
        guard !held.accounts.isEmpty else { return query }
        return query.group(.or) { group in group.filter(\.$account.$id == nil).filter(\.$account.$id !~ held.accounts) }
    }
}

/// A kind of stored data the engine sweeps under one rule of the register.
protocol RetentionStore: Sendable {
    var task: RetentionTask { get }
    /// What is due at the context's instant, counted (with a few examples), nothing changed.
    func plan(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line]
    /// The same, acted on.
    func run(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line]
}

/// How many examples a line shows.
let retentionExamples = 3

extension RetentionStore {
    /// A line of the report for this store's rule: `action` by default the rule's own.
    func line(_ rule: RetentionRule, action: String? = nil, due: Int, done: Int = 0, kept: Int = 0, examples: [String] = []) -> RetentionReport.Line {
        .init(task: task.id, purpose: task.purpose, category: task.category, rule: RetentionReport.describe(rule), action: action ?? rule.then.rawValue,
              due: due, done: done, kept: kept, examples: Array(examples.prefix(retentionExamples)))
    }

    func line(_ rule: RetentionRule, action: String? = nil, due: Int, done: Int = 0, kept: Int = 0, examples: [UUID]) -> RetentionReport.Line {
        line(rule, action: action, due: due, done: done, kept: kept, examples: examples.map { $0.uuidString.lowercased() })
    }
}

/// The connection log: 6 months from each connection (the register's rule for connection data),
/// deleted in batches of 1,000 by the index on the connection's time.
struct ConnectionLog: RetentionStore {
    let task = RetentionTask(id: "connection-log", purpose: ConnectionEvent.purpose, category: ConnectionEvent.dataCategory,
                             subject: "tenant", events: [.collection])

    func plan(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let cutoff = RetentionSchedule.latestStart(keep: rule.keep, at: context.at)
        let due = try await ConnectionEvent.query(on: db).filter(\.$occurredAt <= cutoff).count()
        let examples = try await ConnectionEvent.query(on: db).filter(\.$occurredAt <= cutoff).sort(\.$occurredAt).limit(retentionExamples).all()
        return [line(rule, due: due, examples: examples.compactMap { $0.id?.uuidString.lowercased() })]
    }

    func run(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let cutoff = RetentionSchedule.latestStart(keep: rule.keep, at: context.at)
        let due = try await ConnectionEvent.query(on: db).filter(\.$occurredAt <= cutoff).count()
        var done = 0
        var examples: [String] = []
        while true {
            let held = try await LegalHold.held(on: db)
            let batch = try await RetentionContext.excludingHeld(ConnectionEvent.query(on: db).filter(\.$occurredAt <= cutoff), held)
                .sort(\.$occurredAt).limit(1000).all(\.$id)
            guard !batch.isEmpty else { break }
            try await ConnectionEvent.query(on: db).filter(\.$id ~~ batch).delete()
            if examples.isEmpty { examples = batch.prefix(retentionExamples).map { $0.uuidString.lowercased() } }
            done += batch.count
            if batch.count < 1000 { break }
        }
        return [line(rule, due: max(due, done), done: done, kept: max(0, due - done), examples: examples)]
    }

}

/// Records written with the end of their period (`keep_until`, set from the register when the
/// period started: a withdrawal, an objection, an answer, an erasure), deleted once it passed.
struct KeptUntil: RetentionStore {
    let task: RetentionTask
    let due: @Sendable (any Database, Date) async throws -> [String]
    /// Deletes what is due but what is held (the subjects given).
    let sweep: @Sendable (DossierServices, any Database, Date, Set<String>) async throws -> Int

    func plan(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let rows = try await due(db, context.at)
        return [line(rule, due: rows.count, examples: Array(rows.prefix(retentionExamples)))]
    }

    func run(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let rows = try await due(db, context.at)
        let done = try await sweep(context.services, db, context.at, try await LegalHold.held(on: db).subjects)
        let due = max(rows.count, done)
        return [line(rule, due: due, done: done, kept: due - done, examples: Array(rows.prefix(retentionExamples)))]
    }


    static let consents = KeptUntil(
        task: RetentionTask(id: "consent-ledger", purpose: ConsentRecord.purpose, category: ConsentRecord.dataCategory, events: [.consentWithdrawal]),
        due: { db, at in try await ConsentRecord.query(on: db).filter(\.$keepUntil <= at).all(\.$id).map { $0.uuidString.lowercased() } },
        sweep: { _, db, at, held in try await ConsentService.sweepConsents(on: db, now: at, excluding: held) })

    static let objections = KeptUntil(
        task: RetentionTask(id: "objection-list", purpose: ObjectionRecord.purpose, category: ObjectionRecord.dataCategory, events: [.objection]),
        due: { db, at in try await ConsentService.expiredObjections(on: db, now: at).compactMap { $0.id?.uuidString.lowercased() } },
        sweep: { _, db, at, held in try await ConsentService.sweepObjections(on: db, now: at, excluding: held) })

    static let requests = KeptUntil(
        task: RetentionTask(id: "rights-requests", purpose: RightsRequest.purpose, category: RightsRequest.dataCategory, events: [.requestProcessed]),
        due: { db, at in try await RightsRequest.query(on: db).filter(\.$keepUntil <= at).all(\.$id).map { $0.uuidString.lowercased() } },
        sweep: { services, db, at, held in try await RequestService.sweepExpired(services: services, on: db, now: at, excluding: held) })

    static let archive = KeptUntil(
        task: RetentionTask(id: "erasure-archive", purpose: ConnectionEvent.purpose, category: Account.dataCategory, subject: "tenant",
                            events: [.lastActivity]),
        due: { db, at in try await ArchiveEntry.query(on: db).filter(\.$keepUntil <= at).all(\.$id).map { $0.uuidString.lowercased() } },
        sweep: { services, db, at, held in try await ErasureService.sweepArchive(services: services, on: db, now: at, excluding: held) })

    static let erasureRecords = KeptUntil(
        task: RetentionTask(id: "erasure-records", purpose: ErasureRecord.purpose, category: ErasureRecord.dataCategory, events: [.requestProcessed]),
        due: { db, at in
            try await ErasureRecord.query(on: db).filter(\.$keepUntil <= at).filter(\.$completedAt != nil).all(\.$id).map { $0.uuidString.lowercased() }
        },
        sweep: { services, db, at, held in try await ErasureService.sweepRecords(services: services, on: db, now: at, excluding: held) })
}

/// Legal holds, under the register's rule for disputes (the shipped register: 5 years from
/// collection): a hold's record is complete when it is lifted, and deleted 5 years after that;
/// one that stands, never.
struct LiftedHolds: RetentionStore {
    let task = RetentionTask(id: "legal-holds", purpose: LegalHold.purpose, category: LegalHold.dataCategory, events: [.collection])

    private func due(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) -> QueryBuilder<LegalHold> {
        LegalHold.query(on: db).filter(\.$liftedAt <= RetentionSchedule.latestStart(keep: rule.keep, at: context.at))
    }

    func plan(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let ids = try await due(rule, context, on: db).all(\.$id)
        return [line(rule, due: ids.count, examples: ids)]
    }

    func run(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let ids = try await due(rule, context, on: db).all(\.$id)
        for batch in ids.batches(of: 1000) { try await LegalHold.query(on: db).filter(\.$id ~~ Array(batch)).delete() }
        return [line(rule, due: ids.count, done: ids.count, examples: ids)]
    }

}

/// Sessions, sign-in and reset tokens, and throttling traces, under the register's rule for the
/// `security` purpose's sessions (the shipped register: 6 months from collection): each expired
/// long before (a session lasts 30 days at most); their rows go 6 months after they were made.
struct SessionTraces: RetentionStore {
    let task = RetentionTask(id: "session-traces", purpose: "security", category: "sessions", events: [.collection])

    private func counts(_ cutoff: Date, on db: any Database) async throws -> [Int] {
        [try await Session.query(on: db).filter(\.$createdAt <= cutoff).count(),
         try await AccountToken.query(on: db).filter(\.$createdAt <= cutoff).count(),
         try await ThrottleEvent.query(on: db).filter(\.$occurredAt <= cutoff).count()]
    }

    func plan(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let due = try await counts(RetentionSchedule.latestStart(keep: rule.keep, at: context.at), on: db).reduce(0, +)
        return [line(rule, due: due)]
    }

    func run(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let cutoff = RetentionSchedule.latestStart(keep: rule.keep, at: context.at)
        let due = try await counts(cutoff, on: db).reduce(0, +)
        let held = try await LegalHold.held(on: db).accounts
        // A held person's sessions are kept with the rest of their data.
        let sessions = Session.query(on: db).filter(\.$createdAt <= cutoff)
        let tokens = AccountToken.query(on: db).filter(\.$createdAt <= cutoff)
        if !held.isEmpty {
            sessions.filter(\.$account.$id !~ held)
            tokens.filter(\.$account.$id !~ held)
        }
        try await sessions.delete()
        try await tokens.delete()
        try await ThrottleEvent.query(on: db).filter(\.$occurredAt <= cutoff).delete()
        let left = try await counts(cutoff, on: db).reduce(0, +)
        return [line(rule, due: due, done: due - left, kept: left)]
    }

}
