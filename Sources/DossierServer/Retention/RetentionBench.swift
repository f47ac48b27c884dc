import DossierCore
import Fluent
import Foundation
import SQLKit
import Vapor

/// The retention benchmark (`dossier bench retention`, run by `scripts/bench` on PostgreSQL):
/// whether a sweep costs in proportion to what is due, not to the size of the database.
///
/// It fills a new, empty database with `subjects` tenants, each with a profile, 2 documents,
/// 4 connection-log entries, a share link and a consent:
/// - 1 % of them (the due) through the models, as the server makes them, with their own keys
///   and blobs, 400 days ago: at the clock's instant their connections (6 months), documents and
///   link (12 months) are due, and their accounts a reminder (11 months without activity);
/// - the others now: 100 through the models, then copied in SQL with new ids, addresses and
///   tokens (never read: only the indexes see them).
///
/// Then it times, in this process, as the schedule runs it:
/// - a sweep the day after the due were made (nothing is due: 0 %), and its plan;
/// - a sweep now (1 % of the subjects due), and its plan; it checks that the sweep did all of
///   it (every due connection, document and link deleted, every due account reminded);
/// - beside each, the ceiling: plain SQL doing the same deletions and reminders in one
///   transaction, rolled back (no audit trail, blob, mail or hold check).
public enum RetentionBench {
    /// Median, p99 and count, as the rights benchmark reports them.
    public typealias Timing = RightsBench.Timing

    public struct Instant: Codable, Sendable {
        /// Rows the sweep acted on (deleted, or accounts reminded).
        public var acted: Int
        public var sweep: Timing
        public var plan: Timing
        public var ceiling: Timing
    }

    public struct Result: Codable, Sendable {
        public var subjects: Int
        public var dueSubjects: Int
        public var seedSeconds: Double
        public var idle: Instant
        /// Nil when only the sweep with nothing due was asked for.
        public var due: Instant?
    }

    typealias Failure = RightsBench.Failure

    /// What each tenant has.
    static let shape = RightsBench.Shape(documents: 2, connections: 4, shares: 1, consents: 1)
    /// Tenants made through the models, then copied.
    static let templates = 100
    /// How long ago the due were made.
    static let age: TimeInterval = 400 * 86_400

    /// With `nothingDueOnly`, the 1 % sweep (minutes at a million subjects) is left out.
    public static func run(_ app: Application, subjects: Int, nothingDueOnly: Bool = false, log: @Sendable (String) -> Void) async throws -> Result {
        let services = app.dossier
        let database = app.db
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" else {
            throw Failure(description: "the retention benchmark runs on PostgreSQL (it copies tenants in SQL): set DATABASE_URL, or use scripts/bench")
        }
        guard subjects % (templates * 100) == 0, subjects > 0 else {
            throw Failure(description: "subjects: a multiple of \(templates * 100)")
        }
        guard try await Account.query(on: database).count() == 0 else {
            throw Failure(description: "the database already holds accounts: the benchmark seeds an empty one only")
        }
        let now = services.clock.now
        let old = now - age
        let dueSubjects = subjects / 100
        let background = subjects - dueSubjects

        // The others: templates, then their copies (each table's unique columns made new).
        let seedStart = ContinuousClock.now
        _ = try await RightsBench.seed(templates, from: 0, shape: shape, at: now, services: services, on: database)
        let copies = background / templates - 1
        if copies > 0 {
            try await copy(copies, on: sql, log: log)
        }
        log("seeded \(background) tenants made now")
        // The due, through the models.
        var made = 0
        while made < dueSubjects {
            let count = min(250, dueSubjects - made)
            _ = try await RightsBench.seed(count, from: templates + made, shape: shape, at: old, services: services, on: database)
            made += count
        }
        try await sql.raw("ANALYZE").run()
        let seedSeconds = RightsBench.seconds(ContinuousClock.now - seedStart)
        log("seeded \(dueSubjects) tenants made 400 days ago")

        let service = RetentionService(database: database, services: services, logger: app.logger)
        // 0 %: the day after the due were made, nothing is due yet (every rule is 6 months or more).
        let idleInstant = old + 86_400
        var idle = Instant(acted: 0, sweep: RightsBench.timing([]), plan: RightsBench.timing([]), ceiling: RightsBench.timing([]))
        var idleSweeps: [Double] = []
        var idlePlans: [Double] = []
        var idleCeilings: [Double] = []
        for _ in 0..<5 {
            idlePlans.append(try await RightsBench.time { _ = try await service.plan(at: idleInstant) })
            idleCeilings.append(try await RightsBench.time { _ = try await ceiling(at: idleInstant, services: services, on: database) })
            var acted = 0
            idleSweeps.append(try await RightsBench.time { acted = try await done(service.run(at: idleInstant)) })
            idle.acted = max(idle.acted, acted)
        }
        guard idle.acted == 0 else { throw Failure(description: "the sweep at 0 % acted on \(idle.acted) rows") }
        idle.sweep = RightsBench.timing(idleSweeps)
        idle.plan = RightsBench.timing(idlePlans)
        idle.ceiling = RightsBench.timing(idleCeilings)
        log("0 %: swept in \(idle.sweep.median) s")
        if nothingDueOnly {
            return Result(subjects: subjects, dueSubjects: dueSubjects, seedSeconds: seedSeconds, idle: idle, due: nil)
        }

        // 1 %: now. The plan and the ceiling (rolled back) first; the sweep once: it deletes.
        var duePlans: [Double] = []
        var dueCeilings: [Double] = []
        var expected = 0
        for _ in 0..<3 {
            duePlans.append(try await RightsBench.time { _ = try await service.plan(at: now) })
            dueCeilings.append(try await RightsBench.time { expected = try await ceiling(at: now, services: services, on: database) })
        }
        let wanted = dueSubjects * (1 + shape.documents + shape.connections + shape.shares)
        guard expected == wanted else { throw Failure(description: "the ceiling found \(expected) rows due, not \(wanted)") }
        var acted = 0
        let sweep = try await RightsBench.time { acted = try await done(service.run(at: now)) }
        guard acted == wanted else { throw Failure(description: "the sweep at 1 % acted on \(acted) rows, not \(wanted)") }
        let left = try await ConnectionEvent.query(on: database).filter(\.$occurredAt <= old).count()
            + Document.query(on: database).filter(\.$createdAt <= old).count()
            + Share.query(on: database).filter(\.$createdAt <= old).count()
        guard left == 0 else { throw Failure(description: "\(left) rows due were left after the sweep") }
        log("1 %: swept \(acted) rows in \(sweep) s")
        return Result(subjects: subjects, dueSubjects: dueSubjects, seedSeconds: seedSeconds, idle: idle,
                      due: Instant(acted: acted, sweep: RightsBench.timing([sweep]), plan: RightsBench.timing(duePlans), ceiling: RightsBench.timing(dueCeilings)))
    }

    /// Rows a sweep acted on: deleted, or accounts reminded.
    private static func done(_ report: RetentionReport) throws -> Int {
        if !report.problems.isEmpty {
            throw Failure(description: "the sweep reported problems: \(report.problems.map(\.message).joined(separator: "; "))")
        }
        return report.lines.map(\.done).reduce(0, +)
    }

    /// Copies the templates' rows `copies` times, each copy with ids, addresses, subjects and
    /// tokens of its own (md5 of the template's and the copy's number: the same for a person's
    /// account and everything that names it).
    private static func copy(_ copies: Int, on sql: any SQLDatabase, log: @Sendable (String) -> Void) async throws {
        func mapped(_ column: String) -> String { "md5(t.\(column)::text || ':' || g)" }
        let tables: [(table: String, overrides: [(String, String)])] = [
            ("accounts", [("id", mapped("id") + "::uuid"), ("subject_id", mapped("subject_id") + "::uuid"), ("email_key", mapped("email_key"))]),
            ("profiles", [("id", "gen_random_uuid()"), ("account_id", mapped("account_id") + "::uuid")]),
            ("documents", [("id", mapped("id") + "::uuid"), ("account_id", mapped("account_id") + "::uuid")]),
            ("document_files", [("id", "gen_random_uuid()"), ("document_id", mapped("document_id") + "::uuid"), ("blob_key", mapped("blob_key"))]),
            ("connection_events", [("id", "gen_random_uuid()"), ("account_id", mapped("account_id") + "::uuid")]),
            ("shares", [("id", "gen_random_uuid()"), ("account_id", mapped("account_id") + "::uuid"), ("token_hash", mapped("token_hash"))]),
            ("consents", [("id", "gen_random_uuid()"), ("subject", mapped("subject"))]),
        ]
        for (table, overrides) in tables {
            // Every column of the table as it is (read from the catalogue), but those made new.
            let columns = try await sql.raw("""
                SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = \(bind: table)
                ORDER BY ordinal_position
                """).all().map { try $0.decode(column: "column_name", as: String.self) }
            let made = Dictionary(uniqueKeysWithValues: overrides)
            guard Set(made.keys).isSubset(of: columns) else {
                throw Failure(description: "\(table) has no column \(Set(made.keys).subtracting(columns).sorted().joined(separator: ", "))")
            }
            let names = columns.map { "\"\($0)\"" }.joined(separator: ", ")
            let values = columns.map { made[$0] ?? "t.\"\($0)\"" }.joined(separator: ", ")
            let started = ContinuousClock.now
            try await sql.raw("""
                INSERT INTO \(ident: table) (\(unsafeRaw: names))
                SELECT \(unsafeRaw: values) FROM \(ident: table) t, generate_series(1, \(unsafeRaw: String(copies))) g
                """).run()
            log("copied \(table) in \(String(format: "%.1f", RightsBench.seconds(ContinuousClock.now - started))) s")
        }
    }

    /// Carries the ceiling's count out of its transaction, which it rolls back.
    private struct RolledBack: Error {
        let touched: Int
    }

    /// Plain SQL doing what the sweep at `instant` does to what the benchmark seeds, with the
    /// engine's own cutoffs, in one transaction rolled back; returns the rows it touched.
    private static func ceiling(at instant: Date, services: DossierServices, on database: any Database) async throws -> Int {
        let register = services.register.register
        func rule(_ id: String) throws -> RetentionRule {
            guard let store = RetentionService.stores.first(where: { $0.task.id == id }), case let .success(rule) = store.task.rule(in: register) else {
                throw Failure(description: "no rule for \(id)")
            }
            return rule
        }
        let account = try rule("inactive-accounts")
        guard let remind = account.remind else { throw Failure(description: "no reminder in the register's account rule") }
        let remindCutoff = RetentionSchedule.latestReminderStart(keep: account.keep, remind: remind, at: instant)
        let documents = RetentionSchedule.latestStart(keep: try rule("shared-documents").keep, at: instant)
        let links = RetentionSchedule.latestStart(keep: try rule("share-links").keep, at: instant)
        let connections = RetentionSchedule.latestStart(keep: try rule("connection-log").keep, at: instant)
        do {
            try await database.transaction { db in
                guard let sql = db as? any SQLDatabase else { return }
                func count(_ query: SQLQueryString) async throws -> Int {
                    try await sql.raw(query).all().count
                }
                let touched = try await count("""
                    UPDATE accounts SET inactivity_reminded_at = \(bind: instant) WHERE role = 'tenant' AND last_activity_at <= \(bind: remindCutoff)
                    AND (inactivity_reminded_at IS NULL OR inactivity_reminded_at < last_activity_at) RETURNING id
                    """)
                    + count("DELETE FROM documents WHERE source = 'upload' AND created_at <= \(bind: documents) RETURNING id")
                    + count("DELETE FROM shares WHERE created_at <= \(bind: links) RETURNING id")
                    + count("DELETE FROM connection_events WHERE occurred_at <= \(bind: connections) RETURNING id")
                throw RolledBack(touched: touched)
            }
        } catch let rolledBack as RolledBack {
            return rolledBack.touched
        }
        throw Failure(description: "the ceiling's transaction did not run on PostgreSQL")
    }
}
