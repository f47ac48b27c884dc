import Fluent

struct M001CreatePolicyVersions: AsyncMigration {
    var name: String { "M001CreatePolicyVersions" }

    func prepare(on database: any Database) async throws {
        try await database.schema(PolicyVersion.schema)
            .id()
            .field("version", .string, .required)
            .field("effective_date", .string, .required)
            .field("digest", .string, .required)
            .field("register_yaml", .string, .required)
            .field("published_at", .datetime, .required)
            .unique(on: "version")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(PolicyVersion.schema).delete()
    }
}
