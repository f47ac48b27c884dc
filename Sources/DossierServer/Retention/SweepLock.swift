import Fluent
import FluentPostgresDriver
import Foundation
import NIOConcurrencyHelpers
import SQLKit
#if canImport(Glibc)
import Glibc
#endif

/// One retention sweep at a time, across every process on the database; released when the
/// holder ends, even by kill -9 (nothing to clean up, no lease to wait out).
/// - PostgreSQL: a session advisory lock, on a connection of its own held for the sweep.
/// - SQLite file: an exclusive `flock` on a file beside the database.
/// - SQLite in memory (tests): a lock in the process, whose memory the database is.
enum SweepLock {
    /// The key of the PostgreSQL advisory lock: "retain", and the schema the data is in (the
    /// lock is the database's; instances on one schema share it, those on another do not).
    static func advisoryKey(schema: String?) -> Int64 {
        var key: Int64 = 0x7265_7461_696E
        for byte in (schema ?? "").utf8 { key = (key &* 31) &+ Int64(byte) }
        return key
    }
    private static let inProcess = NIOLockedValueBox(false)

    /// Runs `body` under the lock; nil when another holds it.
    static func withLock<T: Sendable>(_ configuration: DossierConfiguration, database: any Database,
                                      _ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T? {
        let sql = try database.requireSQL()
        if sql.dialect.name == "postgresql", let url = configuration.databaseURL {
            // On a connection of its own, outside the pool: the sweep's transactions run on the
            // pool (a pooled connection lent for the whole sweep would make them no-ops, and
            // could leave the sweep waiting for itself on a pool of one).
            let core = try SQLPostgresConfiguration(url: url).coreConfiguration
            let connection = try await PostgresConnection.connect(on: database.eventLoop, configuration: core, id: 0, logger: database.logger)
            do {
                let key = advisoryKey(schema: configuration.databaseSchema)
                var locked = false
                for try await granted in try await connection.query("SELECT pg_try_advisory_lock(\(key))", logger: database.logger).decode(Bool.self) {
                    locked = granted
                }
                guard locked else {
                    try? await connection.close()
                    return nil
                }
                let result = try await body(database)
                try? await connection.close()
                return result
            } catch {
                try? await connection.close()
                throw error
            }
        }
        if configuration.inMemoryDatabase {
            guard inProcess.withLockedValue({ held in
                if held { return false }
                held = true
                return true
            }) else { return nil }
            defer { inProcess.withLockedValue { $0 = false } }
            return try await body(database)
        }
        let path = configuration.sqlitePath + ".retention-lock"
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw SweepLockFailure(description: "cannot open \(path) (errno \(errno))") }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            if errno == EWOULDBLOCK { return nil }
            throw SweepLockFailure(description: "cannot lock \(path) (errno \(errno))")
        }
        return try await body(database)
    }
}

struct SweepLockFailure: Error, CustomStringConvertible {
    var description: String
}
