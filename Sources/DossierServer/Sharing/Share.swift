import DossierCore
import Fluent
import Foundation

/// A link through which a recipient (an agency, a landlord, an insurer) sees the tenant's file,
/// or chosen documents of it, for a stated purpose, until it expires or the tenant revokes it.
/// Only the token's hash is stored; who the recipient is and the purpose are sealed with the
/// tenant's key (erased with it).
final class Share: Model, @unchecked Sendable {
    static let schema = "shares"
    static let dataCategory = "supporting-documents"

    @ID(key: .id) var id: UUID?
    @Parent(key: "account_id") var account: Account
    /// The tenant's subject: their key seals the recipient and the renditions.
    @Field(key: "subject") var subject: String
    @Enum(key: "recipient_kind") var recipientKind: RecipientKind
    /// `ShareDetails`, sealed with the tenant's key.
    @Field(key: "sealed") var sealed: Data
    @Field(key: "token_hash") var tokenHash: String
    /// The whole file (as it is when the recipient looks), rather than chosen documents.
    @Field(key: "whole_file") var wholeFile: Bool
    /// The language of the tenant when they shared: the watermark's and the recipient page's.
    @Enum(key: "language") var language: Language
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date
    @OptionalField(key: "paused_at") var pausedAt: Date?
    @OptionalField(key: "revoked_at") var revokedAt: Date?
    /// A link protected by an access code (sent to the recipient apart from the link): its hash.
    @OptionalField(key: "code_hash") var codeHash: String?
    /// Locked after too many wrong codes, until the tenant resumes it.
    @OptionalField(key: "locked_at") var lockedAt: Date?
    /// The recipient's address as a keyed hash (`KeyVault.recipientIndex`): the link appears in
    /// the inbox of an organisation registered with that address, never the address itself.
    @OptionalField(key: "recipient_index") var recipientIndex: String?

    var properties: [any AnyProperty] {
        [$id, $account, $subject, $recipientKind, $sealed, $tokenHash, $wholeFile, $language, $createdAt, $expiresAt, $pausedAt, $revokedAt,
         $codeHash, $lockedAt, $recipientIndex]
    }

    init() {}

    init(id: UUID, accountID: UUID, subject: String, recipientKind: RecipientKind, sealed: Data, tokenHash: String,
         wholeFile: Bool, language: Language, now: Date, expiresAt: Date) {
        self.id = id
        $account.id = accountID
        self.subject = subject
        self.recipientKind = recipientKind
        self.sealed = sealed
        self.tokenHash = tokenHash
        self.wholeFile = wholeFile
        self.language = language
        createdAt = now
        self.expiresAt = expiresAt
    }

    func state(at now: Date) -> ShareState {
        ShareState.of(revokedAt: revokedAt, expiresAt: expiresAt, lockedAt: lockedAt, pausedAt: pausedAt, now: now)
    }

    /// The link's short reference, on the watermark and in the tenant's list.
    var reference: String { String((id?.uuidString ?? "").prefix(8)).lowercased() }

    /// The stored form of an access code: bound to the link, so equal codes of two links differ.
    static func codeHash(_ code: String, share: UUID) -> String {
        Digest.sha256Hex(Data("share-code:\(share.uuidString.lowercased()):\(code)".utf8))
    }

    /// The sealing context of the details.
    static func detailsContext(_ id: UUID) -> String { "share:\(id.uuidString.lowercased())" }
}

/// What is sealed in a share: the recipient and the purpose, as the tenant typed them.
struct ShareDetails: Codable, Sendable {
    var name: String
    var email: String
    var purpose: String
    /// The tenant's name when they shared: what a notice to the recipient calls them (a name
    /// rectified since is not disclosed by the notice).
    var tenant: String?
}

/// A document a share carries (when it is not the whole file).
final class ShareDocument: Model, @unchecked Sendable {
    static let schema = "share_documents"

    @ID(key: .id) var id: UUID?
    @Parent(key: "share_id") var share: Share
    @Parent(key: "document_id") var document: Document

    var properties: [any AnyProperty] { [$id, $share, $document] }

    init() {}

    init(shareID: UUID, documentID: UUID) {
        $share.id = shareID
        $document.id = documentID
    }
}

/// One view or download through a link: shown to the tenant, and audited.
final class ShareAccess: Model, @unchecked Sendable {
    static let schema = "share_accesses"

    enum Action: String, Codable, Sendable, CaseIterable {
        /// The recipient's page (the list of what is shared).
        case view
        /// One document, watermarked.
        case document
        /// The whole shared file as one PDF.
        case filePDF = "file.pdf"
        /// The whole shared file as a ZIP of PDFs.
        case fileZIP = "file.zip"
    }

    @ID(key: .id) var id: UUID?
    @Parent(key: "share_id") var share: Share
    @Field(key: "occurred_at") var occurredAt: Date
    @Enum(key: "action") var action: Action
    /// The document read (kept after the document is deleted: the log says what was seen).
    @OptionalField(key: "document_id") var documentID: UUID?
    @OptionalField(key: "document_type") var documentType: String?
    /// Through an organisation's inbox: the member who looked (`ShareViewer`), sealed with the
    /// tenant's key; nil through the link itself.
    @OptionalField(key: "viewer") var viewer: Data?

    var properties: [any AnyProperty] { [$id, $share, $occurredAt, $action, $documentID, $documentType, $viewer] }

    init() {}

    init(shareID: UUID, at date: Date, action: Action, documentID: UUID?, documentType: String?) {
        $share.id = shareID
        occurredAt = date
        self.action = action
        self.documentID = documentID
        self.documentType = documentType
    }

    /// A new row with the same values: what a retried transaction inserts (a model Fluent
    /// created once, in a transaction that rolled back, is taken as saved and cannot be created
    /// again).
    func unsaved() -> ShareAccess {
        let copy = ShareAccess(shareID: $share.id, at: occurredAt, action: action, documentID: documentID, documentType: documentType)
        copy.id = id
        copy.viewer = viewer
        return copy
    }
}

/// Who looked, when a member of a recipient organisation opens a file from its inbox: named in
/// the tenant's access log.
struct ShareViewer: Codable, Sendable, Equatable {
    var name: String
    var organisation: String

    static func context(_ access: UUID) -> String { "share-access:\(access.uuidString.lowercased())" }
}

/// A watermarked rendition kept for the life of its link, sealed with the tenant's key (never
/// in plaintext): what a recipient asks twice is rendered once.
final class ShareRendition: Model, @unchecked Sendable {
    static let schema = "share_renditions"

    @ID(key: .id) var id: UUID?
    @Parent(key: "share_id") var share: Share
    /// What it renders: "document:ID", or "file:" and a digest of the documents it holds.
    @Field(key: "key") var key: String
    @Field(key: "blob_key") var blobKey: String
    @Field(key: "size") var size: Int
    @Field(key: "created_at") var createdAt: Date

    var properties: [any AnyProperty] { [$id, $share, $key, $blobKey, $size, $createdAt] }

    init() {}

    init(shareID: UUID, key: String, blobKey: String, size: Int, now: Date) {
        $share.id = shareID
        self.key = key
        self.blobKey = blobKey
        self.size = size
        createdAt = now
    }

    static func context(share: UUID, key: String) -> String { "share-rendition:\(share.uuidString.lowercased()):\(key)" }
}
