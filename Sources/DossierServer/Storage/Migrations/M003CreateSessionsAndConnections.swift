import Fluent

struct M003CreateSessionsAndConnections: AsyncMigration {
    var name: String { "M003CreateSessionsAndConnections" }

    func prepare(on database: any Database) async throws {
        try await database.schema(Session.schema)
            .id()
            .field("account_id", .uuid, .required, .references(Account.schema, .id, onDelete: .cascade))
            .field("kind", .string, .required)
            .field("token_hash", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("last_seen_at", .datetime, .required)
            .field("ended_at", .datetime)
            .unique(on: "token_hash")
            .create()
        try await database.schema(ConnectionEvent.schema)
            .id()
            .field("account_id", .uuid, .references(Account.schema, .id, onDelete: .cascade))
            .field("kind", .string, .required)
            .field("outcome", .string, .required)
            .field("ip_address", .string, .required)
            .field("user_agent", .string, .required)
            .field("occurred_at", .datetime, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ConnectionEvent.schema).delete()
        try await database.schema(Session.schema).delete()
    }
}
