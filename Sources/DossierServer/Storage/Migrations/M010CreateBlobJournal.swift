import Fluent

/// The blob journal (``BlobJournal``): blob writes and deletions under way, so that a crash
/// leaves no blob unaccounted for.
struct M010CreateBlobJournal: AsyncMigration {
    var name: String { "M010CreateBlobJournal" }

    func prepare(on database: any Database) async throws {
        try await database.schema(BlobJournalEntry.schema)
            .id()
            .field("blob_key", .string, .required)
            .field("action", .string, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "blob_key")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(BlobJournalEntry.schema).delete()
    }
}
