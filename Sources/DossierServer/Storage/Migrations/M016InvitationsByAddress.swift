import Fluent
import SQLKit

/// Invitations found by the invited address alone: the holdings read (access view and erasure)
/// finds those sent to a person's address, which an erasure deletes (the unique index on
/// organisation and address leads with the organisation, so it cannot serve that search).
struct M016InvitationsByAddress: AsyncMigration {
    var name: String { "M016InvitationsByAddress" }

    func prepare(on database: any Database) async throws {
        try await database.requireSQL().raw("CREATE INDEX organisation_invitations_email_key ON organisation_invitations (email_key)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.requireSQL().raw("DROP INDEX organisation_invitations_email_key").run()
    }
}
