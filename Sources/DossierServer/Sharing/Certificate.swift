import DossierCore
import Fluent
import Foundation

/// A file certificate the tenant issued: its code's hash (the code itself, and the facts it
/// states, sealed with the tenant's key, to print it again), the digest of those facts (to tell
/// "current" from "outdated"), and its dates.
final class FileCertificateRecord: Model, @unchecked Sendable {
    static let schema = "certificates"

    @ID(key: .id) var id: UUID?
    @Parent(key: "account_id") var account: Account
    @Field(key: "subject") var subject: String
    @Field(key: "code_hash") var codeHash: String
    @Field(key: "facts_digest") var factsDigest: String
    /// `CertificateContent`, sealed with the tenant's key.
    @Field(key: "sealed") var sealed: Data
    @Enum(key: "language") var language: Language
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date
    @OptionalField(key: "revoked_at") var revokedAt: Date?

    var properties: [any AnyProperty] { [$id, $account, $subject, $codeHash, $factsDigest, $sealed, $language, $createdAt, $expiresAt, $revokedAt] }

    init() {}

    init(id: UUID, accountID: UUID, subject: String, codeHash: String, factsDigest: String, sealed: Data, language: Language,
         now: Date, expiresAt: Date) {
        self.id = id
        $account.id = accountID
        self.subject = subject
        self.codeHash = codeHash
        self.factsDigest = factsDigest
        self.sealed = sealed
        self.language = language
        createdAt = now
        self.expiresAt = expiresAt
    }

    static func context(_ id: UUID) -> String { "certificate:\(id.uuidString.lowercased())" }
}

/// What is sealed in a certificate: its code and the facts it states.
struct CertificateContent: Codable, Sendable {
    var code: String
    var facts: CertificateFacts
}
