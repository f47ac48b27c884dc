import Fluent
import SQLKit

/// Recipient organisations receive links: their address (and its keyed hash, which links now
/// carry), their administrators, invitations, and who looked through their inbox.
struct M013RecipientOrganisations: AsyncMigration {
    var name: String { "M013RecipientOrganisations" }

    func prepare(on database: any Database) async throws {
        try await database.schema(Organisation.schema).field("email", .string).update()
        try await database.schema(Organisation.schema).field("recipient_index", .string).update()
        try await database.schema(Organisation.schema).field("address_token_hash", .string).update()
        try await database.schema(Organisation.schema).field("address_requested_at", .datetime).update()
        try await database.schema(Organisation.schema).field("address_confirmed_at", .datetime).update()
        try await database.schema(Account.schema).field("organisation_admin", .bool, .required, .sql(.default(false))).update()
        try await database.schema(Share.schema).field("recipient_index", .string).update()
        try await database.schema(ShareAccess.schema).field("viewer", .data).update()
        try await database.schema(OrganisationInvitation.schema)
            .id()
            .field("organisation_id", .uuid, .required, .references(Organisation.schema, .id, onDelete: .cascade))
            .field("email", .string, .required)
            .field("email_key", .string, .required)
            .field("admin", .bool, .required)
            .field("token_hash", .string, .required)
            .field("invited_by", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .unique(on: "token_hash")
            .unique(on: "organisation_id", "email_key")
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.raw("CREATE UNIQUE INDEX organisations_recipient_index ON organisations (recipient_index)").run()
            try await sql.raw("CREATE INDEX shares_recipient_index ON shares (recipient_index)").run()
            try await sql.raw("CREATE INDEX accounts_organisation ON accounts (organisation_id)").run()
        }
    }

    func revert(on database: any Database) async throws {
        if let sql = database as? any SQLDatabase {
            for index in ["organisations_recipient_index", "shares_recipient_index", "accounts_organisation"] {
                try await sql.raw("DROP INDEX IF EXISTS \(unsafeRaw: index)").run()
            }
        }
        try await database.schema(OrganisationInvitation.schema).delete()
        try await database.schema(ShareAccess.schema).deleteField("viewer").update()
        try await database.schema(Share.schema).deleteField("recipient_index").update()
        try await database.schema(Account.schema).deleteField("organisation_admin").update()
        try await database.schema(Organisation.schema).deleteField("recipient_index").update()
        try await database.schema(Organisation.schema).deleteField("address_token_hash").update()
        try await database.schema(Organisation.schema).deleteField("address_requested_at").update()
        try await database.schema(Organisation.schema).deleteField("address_confirmed_at").update()
        try await database.schema(Organisation.schema).deleteField("email").update()
    }
}
