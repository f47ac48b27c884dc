import Fluent
import SQLKit

/// Share links, what they carry, who looked, and their cached renditions.
struct M011CreateShares: AsyncMigration {
    var name: String { "M011CreateShares" }

    func prepare(on database: any Database) async throws {
        try await database.schema(Share.schema)
            .id()
            .field("account_id", .uuid, .required, .references(Account.schema, .id, onDelete: .cascade))
            .field("subject", .string, .required)
            .field("recipient_kind", .string, .required)
            .field("sealed", .data, .required)
            .field("token_hash", .string, .required)
            .field("whole_file", .bool, .required)
            .field("language", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("paused_at", .datetime)
            .field("revoked_at", .datetime)
            .field("code_hash", .string)
            .field("locked_at", .datetime)
            .unique(on: "token_hash")
            .create()
        try await database.schema(ShareDocument.schema)
            .id()
            .field("share_id", .uuid, .required, .references(Share.schema, .id, onDelete: .cascade))
            .field("document_id", .uuid, .required, .references(Document.schema, .id, onDelete: .cascade))
            .unique(on: "share_id", "document_id")
            .create()
        try await database.schema(ShareAccess.schema)
            .id()
            .field("share_id", .uuid, .required, .references(Share.schema, .id, onDelete: .cascade))
            .field("occurred_at", .datetime, .required)
            .field("action", .string, .required)
            .field("document_id", .uuid)
            .field("document_type", .string)
            .create()
        try await database.schema(ShareRendition.schema)
            .id()
            .field("share_id", .uuid, .required, .references(Share.schema, .id, onDelete: .cascade))
            .field("key", .string, .required)
            .field("blob_key", .string, .required)
            .field("size", .int, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "share_id", "key")
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.raw("CREATE INDEX shares_account ON shares (account_id)").run()
            try await sql.raw("CREATE INDEX share_accesses_share ON share_accesses (share_id, occurred_at)").run()
        }
    }

    func revert(on database: any Database) async throws {
        for schema in [ShareRendition.schema, ShareAccess.schema, ShareDocument.schema, Share.schema] {
            try await database.schema(schema).delete()
        }
    }
}
