import Fluent
import SQLKit

/// Indexes for the hot reads: the document list joins a tenant's documents to their files and
/// reviews, and finds them by owner; without these, each list read scans every tenant's rows.
struct M007ReadIndexes: AsyncMigration {
    var name: String { "M007ReadIndexes" }

    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "documents_by_account").on(Document.schema).column("account_id").column("created_at").run()
        try await sql.create(index: "document_files_by_document").on(DocumentFile.schema).column("document_id").column("position").run()
        try await sql.create(index: "document_reviews_by_document").on(DocumentReview.schema).column("document_id").column("created_at").run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        for index in ["documents_by_account", "document_files_by_document", "document_reviews_by_document"] {
            try await sql.drop(index: index).run()
        }
    }
}
