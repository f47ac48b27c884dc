import Fluent
import SQLKit

/// The retention engine's indexes and marks: what is due is found by an index on the date its
/// period starts from (a sweep costs what is due, not the size of the table), an account
/// records when it was warned that inactivity would close it, and legal holds are kept.
struct M018Retention: AsyncMigration {
    var name: String { "M018Retention" }

    func prepare(on database: any Database) async throws {
        try await database.schema(Account.schema).field("inactivity_reminded_at", .datetime).update()
        let sql = try database.requireSQL()
        try await sql.raw("CREATE INDEX connection_events_occurred_at ON connection_events (occurred_at)").run()
        try await sql.raw("CREATE INDEX accounts_last_activity_at ON accounts (last_activity_at)").run()
        try await sql.raw("CREATE INDEX documents_created_at ON documents (created_at)").run()
        try await sql.raw("CREATE INDEX documents_received_at ON documents (received_at)").run()
        try await sql.raw("CREATE INDEX shares_created_at ON shares (created_at)").run()
        try await sql.raw("CREATE INDEX sessions_created_at ON sessions (created_at)").run()
        try await sql.raw("CREATE INDEX account_tokens_created_at ON account_tokens (created_at)").run()
        try await sql.raw("CREATE INDEX throttle_events_occurred_at ON throttle_events (occurred_at)").run()
        try await sql.raw("CREATE INDEX \(ident: FileCertificateRecord.schema + "_created_at") ON \(ident: FileCertificateRecord.schema) (created_at)").run()
        // The sweeps' receipts and the records of the audit trail's pruning, by action.
        try await sql.raw("CREATE INDEX audit_entries_action ON \(ident: AuditRecord.schema) (action, sequence)").run()
        try await database.schema(LegalHold.schema)
            .id()
            .field("account_id", .uuid, .required)
            .field("subject", .string, .required)
            .field("reason", .string, .required)
            .field("placed_by", .string, .required)
            .field("placed_at", .datetime, .required)
            .field("lifted_by", .string)
            .field("lifted_at", .datetime)
            .create()
        try await sql.raw("CREATE INDEX legal_holds_standing ON legal_holds (account_id, lifted_at)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(LegalHold.schema).delete()
        let sql = try database.requireSQL()
        for index in ["throttle_events_occurred_at", "account_tokens_created_at", "sessions_created_at", "shares_created_at"] {
            try await sql.raw("DROP INDEX \(unsafeRaw: index)").run()
        }
        try await sql.raw("DROP INDEX documents_created_at").run()
        try await sql.raw("DROP INDEX documents_received_at").run()
        try await sql.raw("DROP INDEX \(ident: FileCertificateRecord.schema + "_created_at")").run()
        try await sql.raw("DROP INDEX audit_entries_action").run()
        try await sql.raw("DROP INDEX accounts_last_activity_at").run()
        try await sql.raw("DROP INDEX connection_events_occurred_at").run()
        try await database.schema(Account.schema).deleteField("inactivity_reminded_at").update()
    }
}
