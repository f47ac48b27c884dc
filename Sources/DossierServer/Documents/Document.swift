import DossierCore
import Fluent
import Foundation

/// A supporting document of a tenant's file: a type from the catalogue, one or more files,
/// a review status. It belongs to the tenant or to one of their guarantors.
final class Document: Model, @unchecked Sendable {
    static let schema = "documents"
    static let dataCategory = "supporting-documents"

    enum Status: String, Codable, Sendable, CaseIterable {
        case pending, validated, declined
    }

    /// How it reached Dossier.
    enum Source: String, Codable, Sendable, CaseIterable {
        case upload, email, post
    }

    @ID(key: .id) var id: UUID?
    @Parent(key: "account_id") var account: Account
    @OptionalParent(key: "guarantor_id") var guarantor: Guarantor?
    /// Whose data it is (the tenant's or the guarantor's subject): their key seals the files.
    @Field(key: "subject") var subject: String
    @Field(key: "type") var type: String
    @Field(key: "category") var category: String
    @Enum(key: "status") var status: Status
    @Enum(key: "source") var source: Source
    @OptionalField(key: "received_at") var receivedAt: Date?
    @OptionalField(key: "filed_by") var filedBy: String?
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "reviewed_at") var reviewedAt: Date?
    @Children(for: \.$document) var files: [DocumentFile]
    @Children(for: \.$document) var reviews: [DocumentReview]

    /// Listed, not found by reflection: Fluent reflects on the type for every row it reads
    /// otherwise (a fifth of an authenticated read, profiled). `ModelPropertiesTests` keeps
    /// the list equal to the declarations above.
    var properties: [any AnyProperty] { [$id, $account, $guarantor, $subject, $type, $category, $status, $source, $receivedAt, $filedBy, $createdAt, $reviewedAt, $files, $reviews] }

    init() {}

    init(accountID: UUID, guarantorID: UUID?, subject: String, type: String, category: String, source: Source,
         receivedAt: Date?, filedBy: String?, now: Date) {
        $account.id = accountID
        $guarantor.id = guarantorID
        self.subject = subject
        self.type = type
        self.category = category
        status = .pending
        self.source = source
        self.receivedAt = receivedAt
        self.filedBy = filedBy
        createdAt = now
    }
}
