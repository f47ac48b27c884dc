import Fluent

/// Each published version keeps the capabilities of the build that published it: the policy's
/// wording depends on them (a right's link, a measure), so an archived version is rendered as it
/// was, and a build that would change the wording under the same version is noticed.
struct M009PolicyVersionCapabilities: AsyncMigration {
    var name: String { "M009PolicyVersionCapabilities" }

    func prepare(on database: any Database) async throws {
        try await database.schema(PolicyVersion.schema).field("capabilities", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(PolicyVersion.schema).deleteField("capabilities").update()
    }
}
