import Fluent

/// File certificates: verified facts about a tenant's file, checked by their code.
struct M012CreateCertificates: AsyncMigration {
    var name: String { "M012CreateCertificates" }

    func prepare(on database: any Database) async throws {
        try await database.schema(FileCertificateRecord.schema)
            .id()
            .field("account_id", .uuid, .required, .references(Account.schema, .id, onDelete: .cascade))
            .field("subject", .string, .required)
            .field("code_hash", .string, .required)
            .field("facts_digest", .string, .required)
            .field("sealed", .data, .required)
            .field("language", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("revoked_at", .datetime)
            .unique(on: "code_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(FileCertificateRecord.schema).delete()
    }
}
