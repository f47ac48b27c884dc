import Foundation
import Fluent
import SQLKit

extension Database {
    /// On SQLite, takes the write lock at the start of the current transaction, before it
    /// reads anything.
    ///
    /// Fluent begins SQLite transactions deferred: one that reads (the audit chain's head, a
    /// profile) and then writes while another connection has committed meanwhile fails with
    /// "database is locked" (SQLITE_BUSY_SNAPSHOT), which no waiting cures. A first statement that
    /// writes (here, one that changes no row) takes the lock at once, waiting for it if need be,
    /// so that what the transaction then reads is what it writes over. PostgreSQL needs nothing.
    func takeWriteLock() async throws {
        guard let sql = self as? any SQLDatabase, sql.dialect.name == "sqlite" else { return }
        try await sql.raw("UPDATE \(ident: "_fluent_migrations") SET \(ident: "batch") = \(ident: "batch") WHERE 0 = 1").run()
    }

    /// On PostgreSQL, holds the row `id` of `table` until the current transaction ends (SQLite's
    /// writers are serialised already: `takeWriteLock`).
    func lockRow(_ table: String, _ id: UUID) async throws {
        guard let sql = self as? any SQLDatabase, sql.dialect.name == "postgresql" else { return }
        try await sql.raw("SELECT 1 FROM \(ident: table) WHERE \(ident: "id") = \(bind: id) FOR UPDATE").run()
    }
}
