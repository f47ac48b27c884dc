import Fluent
import Foundation
import SQLKit

/// The security review's fixes: a keyed audit chain, approved joins, sealed outbox bodies, the
/// master-key check, request throttling, and AEAD contexts bound to the document.
struct M006SecurityHardening: AsyncMigration {
    var name: String { "M006SecurityHardening" }

    func prepare(on database: any Database) async throws {
        // SQLite adds one column per statement.
        try await database.schema(AuditRecord.schema).field("keyed", .bool, .required, .sql(.default(false))).update()
        try await database.schema(ApplicationMember.schema).field("approved_at", .datetime).update()
        try await database.schema(OutboxMessage.schema).field("subject", .string).update()
        try await database.schema(OutboxMessage.schema).field("sealed", .data).update()
        try await database.schema(DocumentFile.schema).field("aead_version", .int, .required, .sql(.default(1))).update()
        try await database.schema(KeyCheck.schema)
            .id()
            .field("purpose", .string, .required)
            .field("sealed", .data, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "purpose")
            .create()
        try await database.schema(ThrottleEvent.schema)
            .id()
            .field("scope", .string, .required)
            .field("key", .string, .required)
            .field("occurred_at", .datetime, .required)
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "throttle_events_lookup").on(ThrottleEvent.schema).column("scope").column("key").column("occurred_at").run()
            // Members who joined before approvals existed were let in by the code alone: only each
            // application's first member (its creator) stays in; the others wait for them again.
            let members = try await sql.select().column("id").column("application_id").column("joined_at")
                .from(ApplicationMember.schema).all()
            var first: [UUID: (id: UUID, joined: Date)] = [:]
            for row in members {
                let id = try row.decode(column: "id", as: UUID.self)
                let application = try row.decode(column: "application_id", as: UUID.self)
                let joined = try row.decode(column: "joined_at", as: Date.self)
                if let current = first[application], current.joined <= joined { continue }
                first[application] = (id, joined)
            }
            for creator in first.values {
                try await sql.update(ApplicationMember.schema).set("approved_at", to: SQLBind(creator.joined)).where("id", .equal, creator.id).run()
            }
            // Messages already delivered kept their links and tokens in clear: blank them.
            try await sql.update(OutboxMessage.schema).set("message", to: "")
                .where(SQLIdentifier("sent_at"), .isNot, SQLLiteral.null).orWhere(SQLIdentifier("failed_at"), .isNot, SQLLiteral.null).run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ThrottleEvent.schema).delete()
        try await database.schema(KeyCheck.schema).delete()
    }
}
