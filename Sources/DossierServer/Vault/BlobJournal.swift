import Fluent
import Foundation
import Logging

/// What the blob store is about to do, written to the database before it is done, so that a
/// crash at any point leaves no blob that nothing accounts for.
///
/// - An upload records `write` for each blob key, in its own transaction, before writing the
///   blobs; the transaction that records the document removes the entries. A crash in between
///   leaves entries whose blobs no document names: they are "in flight" for a grace period (a
///   slow upload on another instance), then removed with their blobs.
/// - A deletion records `delete` for each blob key in the transaction that removes the
///   document, then deletes the blobs and the entries. A crash in between leaves entries that
///   recovery completes at once.
final class BlobJournalEntry: Model, @unchecked Sendable {
    static let schema = "blob_journal"

    enum Action: String, Codable, Sendable {
        case write, delete
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "blob_key") var blobKey: String
    @Enum(key: "action") var action: Action
    @Field(key: "created_at") var createdAt: Date

    var properties: [any AnyProperty] { [$id, $blobKey, $action, $createdAt] }

    init() {}

    init(blobKey: String, action: Action, now: Date) {
        self.blobKey = blobKey
        self.action = action
        createdAt = now
    }
}

enum BlobJournal {
    /// How long an upload's blobs may wait for their document before recovery removes them.
    static let grace: TimeInterval = 15 * 60

    static func record(_ keys: [String], _ action: BlobJournalEntry.Action, at now: Date, on database: any Database) async throws {
        guard !keys.isEmpty else { return }
        try await keys.map { BlobJournalEntry(blobKey: $0, action: action, now: now) }.createInBatches(on: database)
    }

    /// The same, sent with a transaction's other writes (`WriteBatch`).
    static func record(_ keys: [String], _ action: BlobJournalEntry.Action, at now: Date, in writes: WriteBatch) {
        writes.insert(keys.map { BlobJournalEntry(blobKey: $0, action: action, now: now) })
    }

    static func clear(_ keys: [String], on database: any Database) async throws {
        guard !keys.isEmpty else { return }
        for batch in keys.batches(of: 1000) {
            try await BlobJournalEntry.query(on: database).filter(\.$blobKey ~~ Array(batch)).delete()
        }
    }

    /// Whether a row names the blob: a document's file, or a share link's cached rendition.
    static func isNamed(_ key: String, on database: any Database) async throws -> Bool {
        if try await DocumentFile.query(on: database).filter(\.$blobKey == key).count() > 0 { return true }
        if try await ShareRendition.query(on: database).filter(\.$blobKey == key).count() > 0 { return true }
        return try await RightsRequest.query(on: database).filter(\.$proofKey == key).count() > 0
    }

    /// Undoes the writes of an upload that failed before its document was recorded: each blob
    /// no document names is deleted with its entry; an entry whose blob could not be deleted
    /// stays for recovery.
    static func undoWrites(_ keys: [String], blobs: any BlobStore, on database: any Database) async {
        for key in keys {
            guard (try? await isNamed(key, on: database)) == false else { continue }
            do {
                try await blobs.delete(key)
                try await clear([key], on: database)
            } catch {
                continue
            }
        }
    }

    /// Entries older than the grace period: interrupted, waiting for recovery.
    static func stale(on database: any Database, now: Date) async throws -> [BlobJournalEntry] {
        try await BlobJournalEntry.query(on: database).filter(\.$createdAt < now - grace).all()
    }

    /// Deletes the blobs of `keys` and then their entries (a deletion already committed).
    static func completeDeletion(of keys: [String], blobs: any BlobStore, on database: any Database) async throws {
        try await blobs.delete(keys)
        try await clear(keys, on: database)
    }

    /// Finishes what a crash interrupted: every pending deletion, and the writes older than the
    /// grace period whose document never came. Returns how many blobs went.
    @discardableResult
    static func recover(blobs: any BlobStore, on database: any Database, now: Date, logger: Logger? = nil) async throws -> Int {
        let pending = try await BlobJournalEntry.query(on: database).all()
        var removed = 0
        for entry in pending {
            switch entry.action {
            case .delete:
                try await blobs.delete(entry.blobKey)
                try await entry.delete(on: database)
                removed += 1
            case .write:
                guard now.timeIntervalSince(entry.createdAt) >= grace else { continue }
                // Recorded after all (a document or a cached rendition names it): only the entry is left over.
                if try await !isNamed(entry.blobKey, on: database) {
                    try await blobs.delete(entry.blobKey)
                    removed += 1
                }
                try await entry.delete(on: database)
            }
        }
        if removed > 0 { logger?.notice("removed \(removed) blob(s) left by an interrupted upload or deletion") }
        return removed
    }
}
