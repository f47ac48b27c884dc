import DossierCore
import Fluent
import Foundation

/// A tenant's profile, sealed with the tenant's key (see ``RentalProfile``).
final class Profile: Model, @unchecked Sendable {
    static let schema = "profiles"

    @ID(key: .id) var id: UUID?
    @Parent(key: "account_id") var account: Account
    @Field(key: "sealed") var sealed: Data
    @Field(key: "updated_at") var updatedAt: Date

    init() {}

    init(accountID: UUID, sealed: Data, now: Date) {
        $account.id = accountID
        self.sealed = sealed
        updatedAt = now
    }
}

/// Someone who stands surety for a tenant: a person, a company or a guarantee body. A data
/// subject of their own, with their own key.
final class Guarantor: Model, @unchecked Sendable {
    static let schema = "guarantors"

    @ID(key: .id) var id: UUID?
    @Parent(key: "account_id") var account: Account
    @Field(key: "subject_id") var subjectID: UUID
    @Enum(key: "kind") var kind: PersonKind
    /// Name and details, sealed with the guarantor's key.
    @Field(key: "sealed") var sealed: Data
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(accountID: UUID, kind: PersonKind, sealed: Data, subjectID: UUID, now: Date) {
        $account.id = accountID
        self.kind = kind
        self.sealed = sealed
        self.subjectID = subjectID
        createdAt = now
    }

    var subject: String { subjectID.uuidString.lowercased() }
}

/// Tenants applying together: a couple sees each other's files, flatmates do not.
final class RentalApplication: Model, @unchecked Sendable {
    static let schema = "applications"

    @ID(key: .id) var id: UUID?
    @Enum(key: "kind") var kind: ApplicationKind
    /// Hash of the code the creator hands to the others to join.
    @Field(key: "join_code_hash") var joinCodeHash: String
    @Field(key: "created_at") var createdAt: Date
    @Children(for: \.$application) var members: [ApplicationMember]

    init() {}

    init(kind: ApplicationKind, joinCodeHash: String, now: Date) {
        self.kind = kind
        self.joinCodeHash = joinCodeHash
        createdAt = now
    }
}

final class ApplicationMember: Model, @unchecked Sendable {
    static let schema = "application_members"

    @ID(key: .id) var id: UUID?
    @Parent(key: "application_id") var application: RentalApplication
    @Parent(key: "account_id") var account: Account
    @Field(key: "joined_at") var joinedAt: Date

    init() {}

    init(applicationID: UUID, accountID: UUID, now: Date) {
        $application.id = applicationID
        $account.id = accountID
        joinedAt = now
    }
}

/// A supporting document of a tenant's file: a type from the catalogue, one or more files,
/// a review status. It belongs to the tenant or to one of their guarantors.
final class Document: Model, @unchecked Sendable {
    static let schema = "documents"
    static let dataCategory = "supporting-documents"

    enum Status: String, Codable, Sendable {
        case pending, validated, declined
    }

    /// How it reached Dossier.
    enum Source: String, Codable, Sendable {
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

/// One file of a document: its sealed bytes are in the blob store under `blobKey`.
final class DocumentFile: Model, @unchecked Sendable {
    static let schema = "document_files"

    @ID(key: .id) var id: UUID?
    @Parent(key: "document_id") var document: Document
    @Field(key: "position") var position: Int
    @Field(key: "blob_key") var blobKey: String
    @Field(key: "kind") var kind: String
    @Field(key: "size") var size: Int
    /// SHA-256 of the sealed bytes as stored: integrity of the blob.
    @Field(key: "digest") var digest: String
    /// The original file name, sealed (it is personal data too).
    @Field(key: "sealed_name") var sealedName: Data
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(documentID: UUID, position: Int, blobKey: String, kind: FileInspector.Kind, size: Int, digest: String,
         sealedName: Data, now: Date) {
        $document.id = documentID
        self.position = position
        self.blobKey = blobKey
        self.kind = kind.rawValue
        self.size = size
        self.digest = digest
        self.sealedName = sealedName
        createdAt = now
    }
}

/// A staff decision on a document, with the reasons the tenant reads.
final class DocumentReview: Model, @unchecked Sendable {
    static let schema = "document_reviews"

    @ID(key: .id) var id: UUID?
    @Parent(key: "document_id") var document: Document
    @Field(key: "reviewer") var reviewer: String
    @Enum(key: "decision") var decision: Document.Status
    /// Decline reason ids from the catalogue, comma-separated.
    @Field(key: "reasons") var reasons: String
    @OptionalField(key: "comment") var comment: String?
    @Field(key: "created_at") var createdAt: Date

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

