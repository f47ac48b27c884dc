import Fluent

struct M004CreateOutboxAndAudit: AsyncMigration {
    var name: String { "M004CreateOutboxAndAudit" }

    func prepare(on database: any Database) async throws {
        try await database.schema(OutboxMessage.schema)
            .id()
            .field("account_id", .uuid, .references(Account.schema, .id, onDelete: .cascade))
            .field("sender", .string, .required)
            .field("recipient", .string, .required)
            .field("message", .string, .required)
            .field("created_at", .datetime, .required)
            .field("attempts", .int, .required)
            .field("next_attempt_at", .datetime, .required)
            .field("lease", .string)
            .field("last_error", .string)
            .field("sent_at", .datetime)
            .field("failed_at", .datetime)
            .create()
        try await database.schema(AuditRecord.schema)
            .id()
            .field("sequence", .int64, .required)
            .field("occurred_at", .int64, .required)
            .field("actor", .string, .required)
            .field("action", .string, .required)
            .field("subject", .string)
            .field("purpose", .string)
            .field("reason", .string)
            .field("details", .string, .required)
            .field("previous_hash", .string, .required)
            .field("hash", .string, .required)
            // Two writers can never both append entry N: the chain cannot fork.
            .unique(on: "sequence")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AuditRecord.schema).delete()
        try await database.schema(OutboxMessage.schema).delete()
    }
}
