import DossierCore
import Fluent
import Foundation

/// A staff decision on a document, with the reasons the tenant reads.
final class DocumentReview: Model, @unchecked Sendable {
    /// The longest comment a reviewer may write to the tenant.
    static let maximumComment = 2000

    static let schema = "document_reviews"

    @ID(key: .id) var id: UUID?
    @Parent(key: "document_id") var document: Document
    @Field(key: "reviewer") var reviewer: String
    @Enum(key: "decision") var decision: Document.Status
    /// Decline reason ids from the catalogue, comma-separated.
    @Field(key: "reasons") var reasons: String
    @OptionalField(key: "comment") var comment: String?
    @Field(key: "created_at") var createdAt: Date

    /// Listed, not found by reflection: Fluent reflects on the type for every row it reads
    /// otherwise (a fifth of an authenticated read, profiled). `ModelPropertiesTests` keeps
    /// the list equal to the declarations above.
    var properties: [any AnyProperty] { [$id, $document, $reviewer, $decision, $reasons, $comment, $createdAt] }

    init() {}

    init(documentID: UUID, reviewer: String, decision: Document.Status, reasons: [String], comment: String?, now: Date) {
        $document.id = documentID
        self.reviewer = reviewer
        self.decision = decision
        self.reasons = reasons.joined(separator: ",")
        self.comment = comment
        createdAt = now
    }

    var reasonIDs: [String] { reasons.split(separator: ",").map(String.init) }
}
