import Fluent
import SQLKit

/// The audit chain's lock and head in one round trip on PostgreSQL (`AuditTrail.append`): a
/// function takes the transaction-scoped advisory lock, then reads the head. It has to be a
/// function: a single statement reads on the snapshot it took before the lock was granted, so
/// it could return a head another instance has since moved past; each statement of a volatile
/// PL/pgSQL function takes a fresh snapshot, so the read after the lock sees every append
/// committed before it. Nothing to do on SQLite (its writers are serialised already).
struct M017AuditHeadUnderLock: AsyncMigration {
    var name: String { "M017AuditHeadUnderLock" }

    static let function = "dossier_audit_head"

    func prepare(on database: any Database) async throws {
        let sql = try database.requireSQL()
        guard sql.dialect.name == "postgresql" else { return }
        try await sql.raw("""
            CREATE OR REPLACE FUNCTION \(ident: Self.function)(lock_key BIGINT) RETURNS TABLE (head_sequence BIGINT, head_hash TEXT)
            LANGUAGE plpgsql VOLATILE AS $body$
            BEGIN
                PERFORM pg_advisory_xact_lock(lock_key);
                RETURN QUERY SELECT r."sequence", r."hash" FROM \(ident: AuditRecord.schema) r ORDER BY r."sequence" DESC LIMIT 1;
            END
            $body$
            """).run()
    }

    func revert(on database: any Database) async throws {
        let sql = try database.requireSQL()
        guard sql.dialect.name == "postgresql" else { return }
        try await sql.raw("DROP FUNCTION \(ident: Self.function)(BIGINT)").run()
    }
}
