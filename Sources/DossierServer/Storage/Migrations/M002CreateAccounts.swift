import Fluent

struct M002CreateAccounts: AsyncMigration {
    var name: String { "M002CreateAccounts" }

    func prepare(on database: any Database) async throws {
        try await database.schema(Organisation.schema)
            .id()
            .field("name", .string, .required)
            .field("kind", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema(Account.schema)
            .id()
            .field("subject_id", .uuid, .required)
            .field("email", .string, .required)
            .field("email_key", .string, .required)
            .field("password_hash", .string, .required)
            .field("first_name", .string, .required)
            .field("last_name", .string, .required)
            .field("language", .string, .required)
            .field("role", .string, .required)
            .field("organisation_id", .uuid, .references(Organisation.schema, .id, onDelete: .restrict))
            .field("email_verified_at", .datetime)
            .field("created_at", .datetime, .required)
            .field("last_activity_at", .datetime, .required)
            .unique(on: "email_key")
            .unique(on: "subject_id")
            .create()
        try await database.schema(AccountToken.schema)
            .id()
            .field("account_id", .uuid, .required, .references(Account.schema, .id, onDelete: .cascade))
            .field("purpose", .string, .required)
            .field("token_hash", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("used_at", .datetime)
            .unique(on: "token_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AccountToken.schema).delete()
        try await database.schema(Account.schema).delete()
        try await database.schema(Organisation.schema).delete()
    }
}
