import Fluent
import SQLKit

/// Consents (Art. 7) and objections (Art. 21); restriction (Art. 18): the restricted subjects. Erasure (Art. 17): the record of each erasure, with the keys still to destroy after a
/// crash, and the restricted archive of what the register obliges the service to keep.
struct M014RightsErasure: AsyncMigration {
    var name: String { "M014RightsErasure" }

    func prepare(on database: any Database) async throws {
        try await database.schema(ErasureRecord.schema)
            .id()
            .field("subject", .string, .required)
            .field("erased_at", .datetime, .required)
            .field("receipt", .string, .required)
            .field("pending_subjects", .string)
            .field("completed_at", .datetime)
            .field("mail_subject", .string)
            .field("keep_until", .datetime, .required)
            .create()
        try await database.schema(ArchiveEntry.schema)
            .id()
            .field("subject", .string, .required)
            .field("erasure_id", .uuid)
            .field("purposes", .string, .required)
            .field("categories", .string, .required)
            .field("sealed", .data, .required)
            .field("archived_at", .datetime, .required)
            .field("keep_until", .datetime, .required)
            .create()
        try await database.schema(RestrictedSubject.schema)
            .id()
            .field("account_id", .uuid, .required, .references(Account.schema, .id, onDelete: .cascade))
            .field("subject", .string, .required)
            .field("requested_at", .datetime, .required)
            .unique(on: "subject")
            .create()
        try await database.schema(ConsentRecord.schema)
            .id()
            .field("subject", .string, .required)
            .field("purpose", .string, .required)
            .field("position", .int, .required)
            .field("action", .string, .required)
            .field("occurred_at", .datetime, .required)
            .field("policy_version", .string, .required)
            .field("source", .string, .required)
            .field("keep_until", .datetime)
            .unique(on: "subject", "purpose", "position")
            .create()
        try await database.schema(ObjectionRecord.schema)
            .id()
            .field("subject", .string, .required)
            .field("address_index", .string, .required)
            .field("purpose", .string, .required)
            .field("outcome", .string, .required)
            .field("occurred_at", .datetime, .required)
            .field("due_at", .datetime)
            .field("keep_until", .datetime, .required)
            .unique(on: "subject", "purpose")
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.raw("CREATE INDEX consents_keep_until_subject ON consents (subject)").run()
            try await sql.raw("CREATE INDEX consents_keep_until ON consents (keep_until)").run()
            try await sql.raw("CREATE INDEX objections_address ON objections (address_index, purpose)").run()
            try await sql.raw("CREATE INDEX objections_keep_until ON objections (keep_until)").run()
            try await sql.raw("CREATE INDEX restrictions_account ON restrictions (account_id)").run()
            // The sweeps read what is due, and what is pending.
            try await sql.raw("CREATE INDEX erasures_keep_until ON erasures (keep_until)").run()
            try await sql.raw("CREATE INDEX erasures_completed ON erasures (completed_at)").run()
            try await sql.raw("CREATE INDEX archive_entries_keep_until ON archive_entries (keep_until)").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ObjectionRecord.schema).delete()
        try await database.schema(ConsentRecord.schema).delete()
        try await database.schema(RestrictedSubject.schema).delete()
        try await database.schema(ArchiveEntry.schema).delete()
        try await database.schema(ErasureRecord.schema).delete()
    }
}
