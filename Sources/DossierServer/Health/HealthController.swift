import Fluent
import NIOConcurrencyHelpers
import SQLKit
import Vapor

/// `GET /health`: 200 when the process and its database answer. `GET /health/ready`: 200 when
/// everything a request may need answers (the database, the key store, the blob store), 503
/// with what does not otherwise: a load balancer sends no traffic to an instance that could
/// store a document but not its key, or read a row but not its blob.
struct HealthController: RouteCollection {
    struct Status: Content {
        var status: String
        var database: String
        var registerVersion: String
    }

    /// Each part's answer: `ok`, or why not (no detail an outsider could use); when one is not
    /// ok, the error object every 4xx and 5xx of the API has.
    struct Readiness: Content {
        var status: String
        var database: String
        var keys: String
        var blobs: String
        var error: APIErrorMiddleware.Body.Detail?
    }

    /// How long each part has to answer: a database that hangs is a database that is not ready.
    static let deadline: Duration = .seconds(2)

    func boot(routes: any RoutesBuilder) throws {
        routes.get("health", use: Self.health).access(.anyone)
        routes.get("health", "ready", use: Self.ready).access(.anyone)
    }

    static func health(req: Request) async throws -> Response {
        guard let sql = req.db as? any SQLDatabase else {
            throw Abort(.serviceUnavailable, reason: "The database does not speak SQL.")
        }
        do {
            try await sql.raw("SELECT 1").run()
        } catch {
            req.logger.warning("health check: database unreachable")
            throw Abort(.serviceUnavailable, reason: "The database is unreachable.")
        }
        let status = Status(status: "ok", database: sql.dialect.name, registerVersion: req.register.version)
        return try await status.encodeResponse(for: req)
    }

    static func ready(req: Request) async throws -> Response {
        let configuration = req.dossier.configuration
        let dataFile = configuration.databaseURL == nil && !configuration.inMemoryDatabase ? configuration.sqlitePath : nil
        var keysFile: String?
        if case let .sqliteFile(path) = KeyStore.location(configuration) { keysFile = path }
        async let database = answers(req.db, reading: Account.schema, file: dataFile)
        async let keys = answers(req.db(.keys), reading: SubjectKey.schema, file: keysFile)
        async let blobs = within(deadline) { await req.dossier.blobs.isReady() }
        let (databaseReady, keysReady, blobsReady) = (await database, await keys, await blobs ?? false)
        var body = Readiness(status: "ready", database: databaseReady ? "ok" : "unreachable", keys: keysReady ? "ok" : "unreachable",
                             blobs: blobsReady ? "ok" : "unavailable", error: nil)
        let ready = databaseReady && keysReady && blobsReady
        if !ready {
            body.status = "unavailable"
            let parts = [("the database", databaseReady), ("the key store", keysReady), ("the blob store", blobsReady)].filter { !$0.1 }.map(\.0)
            body.error = .init(code: "not-ready", message: "Not ready: \(parts.joined(separator: ", ")) does not answer.", fields: nil)
            req.logger.warning("readiness: database \(body.database), key store \(body.keys), blob store \(body.blobs)")
        }
        let response = try await body.encodeResponse(status: ready ? .ok : .serviceUnavailable, for: req)
        response.headers.cacheControl = .init(noStore: true)
        return response
    }

    /// Whether `database` reads one of its tables within the deadline: its file still there
    /// (SQLite reads a deleted file through the handle it holds), and on PostgreSQL a server
    /// that takes writes (a standby after a failover does not).
    private static func answers(_ database: any Database, reading table: String, file: String?) async -> Bool {
        if let file, !FileManager.default.fileExists(atPath: file) { return false }
        guard let sql = database as? any SQLDatabase else { return false }
        return await within(deadline) {
            do {
                guard sql.dialect.name == "postgresql" else {
                    try await sql.raw("SELECT 1 FROM \(ident: table) LIMIT 1").run()
                    return true
                }
                // The server ends the read itself at the deadline (a table locked by a migration
                // or a VACUUM FULL), and the connection goes back to the pool.
                return try await database.transaction { transaction in
                    guard let sql = transaction as? any SQLDatabase else { return false }
                    try await sql.raw("SET LOCAL statement_timeout = \(unsafeRaw: String(deadline.components.seconds * 1000))").run()
                    try await sql.raw("SELECT 1 FROM \(ident: table) LIMIT 1").run()
                    let recovering = try await sql.raw("SELECT pg_is_in_recovery() AS \"standby\"").first(decoding: Standby.self)
                    return recovering?.standby == false
                }
            } catch {
                return false
            }
        } ?? false
    }

    private struct Standby: Decodable { var standby: Bool }

    /// `body`'s answer, or nil when it takes longer than `limit`. The answer comes at the
    /// deadline even when `body` cannot be cancelled (a database call waiting on a future, a
    /// file system that hangs): it finishes on its own, its answer unused.
    private static func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async -> T) async -> T? {
        let waiting = NIOLockedValueBox<CheckedContinuation<T?, Never>?>(nil)
        return await withCheckedContinuation { continuation in
            waiting.withLockedValue { $0 = continuation }
            let work = Task { await body() }
            let deadline = Task {
                try? await Task.sleep(for: limit)
                waiting.withLockedValue { $0?.resume(returning: nil); $0 = nil }
                work.cancel()
            }
            Task {
                let answer = await work.value
                // First: the answer; the deadline's timer ends with it.
                waiting.withLockedValue { $0?.resume(returning: answer); $0 = nil }
                deadline.cancel()
            }
        }
    }
}
