import Fluent
import SQLKit

/// Requests to exercise a right that staff handle (GDPR Art. 12), and post-mortem directives.
/// And the indexes the rights read and delete by: the access view, the export and an erasure
/// find a person's rows in every table by account (without them, each scans every tenant's
/// rows: `scripts/bench`'s rights rows, 10,000 tenants, measured it).
struct M015RightsRequests: AsyncMigration {
    var name: String { "M015RightsRequests" }

    func prepare(on database: any Database) async throws {
        try await database.schema(RightsRequest.schema)
            .id()
            .field("reference", .string, .required)
            .field("subject", .string, .required)
            .field("account_subject", .string)
            .field("right_id", .string, .required)
            .field("channel", .string, .required)
            .field("status", .string, .required)
            .field("sealed", .data, .required)
            .field("language", .string, .required)
            .field("received_at", .datetime, .required)
            .field("due_at", .datetime, .required)
            .field("due_day", .string, .required)
            .field("extended_at", .datetime)
            .field("proof_key", .string)
            .field("identity", .string)
            .field("identity_checked_at", .datetime)
            .field("objection_id", .uuid)
            .field("refusal", .string)
            .field("closed_at", .datetime)
            .field("closed_by", .string)
            .field("reminders", .int, .required)
            .field("keep_until", .datetime)
            .unique(on: "reference")
            .create()
        try await database.schema(DirectiveRecord.schema)
            .id()
            .field("account_id", .uuid, .required, .references(Account.schema, .id, onDelete: .cascade))
            .field("subject", .string, .required)
            .field("sealed", .data, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "subject")
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.raw("CREATE INDEX rights_requests_account ON rights_requests (account_subject)").run()
            try await sql.raw("CREATE INDEX rights_requests_status_due ON rights_requests (status, due_at)").run()
            try await sql.raw("CREATE INDEX rights_requests_keep_until ON rights_requests (keep_until)").run()
            try await sql.raw("CREATE INDEX directives_account ON directives (account_id)").run()
            for (name, table, columns) in Self.byAccount {
                try await sql.raw("CREATE INDEX IF NOT EXISTS \(ident: name) ON \(ident: table) (\(unsafeRaw: columns))").run()
            }
        }
    }

    static let byAccount: [(String, String, String)] = [
        ("connection_events_by_account", "connection_events", "account_id, occurred_at"),
        ("sessions_by_account", "sessions", "account_id"),
        ("account_tokens_by_account", "account_tokens", "account_id"),
        ("outbox_messages_by_account", "outbox_messages", "account_id"),
        ("outbox_messages_by_subject", "outbox_messages", "subject"),
        ("guarantors_by_account", "guarantors", "account_id"),
        ("certificates_by_account", "certificates", "account_id"),
        ("documents_by_subject", "documents", "subject"),
    ]

    func revert(on database: any Database) async throws {
        if let sql = database as? any SQLDatabase {
            for (name, _, _) in Self.byAccount { try await sql.raw("DROP INDEX IF EXISTS \(ident: name)").run() }
        }
        try await database.schema(DirectiveRecord.schema).delete()
        try await database.schema(RightsRequest.schema).delete()
    }
}
