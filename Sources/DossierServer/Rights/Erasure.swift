import DossierCore
import Fluent
import Foundation

/// The record of an account's erasure (GDPR Art. 17): its receipt (categories and counts, no
/// personal data), kept as the register keeps a rights request; and, until they are destroyed,
/// the pseudonymous subjects whose keys the erasure shreds. The rows go in one transaction and
/// the keys (in the key store, another database) right after it: a crash in between leaves this
/// record pending, and the server finishes it (`ErasureService.finishPending`).
final class ErasureRecord: Model, @unchecked Sendable {
    static let schema = "erasures"
    static let purpose = "rights-requests"
    static let dataCategory = "rights-requests"

    @ID(key: .id) var id: UUID?
    /// The erased person's pseudonymous id (the audit trail's).
    @Field(key: "subject") var subject: String
    @Field(key: "erased_at") var erasedAt: Date
    /// The receipt as JSON (`ErasurePlan.Receipt`).
    @Field(key: "receipt") var receipt: String
    /// Subjects whose keys are still to destroy, as JSON; nil once they are.
    @OptionalField(key: "pending_subjects") var pendingSubjects: String?
    @OptionalField(key: "completed_at") var completedAt: Date?
    /// The key the receipt and the recipients' notices are sealed with, destroyed once they are
    /// sent; nil then.
    @OptionalField(key: "mail_subject") var mailSubject: String?
    /// When the register lets this record go.
    @Field(key: "keep_until") var keepUntil: Date

    var properties: [any AnyProperty] { [$id, $subject, $erasedAt, $receipt, $pendingSubjects, $completedAt, $mailSubject, $keepUntil] }

    init() {}

    init(id: UUID, subject: String, erasedAt: Date, receipt: String, pendingSubjects: [String], mailSubject: String?, keepUntil: Date) {
        self.id = id
        self.subject = subject
        self.erasedAt = erasedAt
        self.receipt = receipt
        self.pendingSubjects = String(decoding: (try? JSONEncoder().encode(pendingSubjects)) ?? Data("[]".utf8), as: UTF8.self)
        self.mailSubject = mailSubject
        self.keepUntil = keepUntil
    }

    var subjectsToShred: [String] {
        pendingSubjects.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
    }
}

/// What the register obliges the service to keep of an erased account, in the restricted
/// archive: sealed under a key of its own (destroyed with the entry when its time is up),
/// readable by the DPO alone. Categories the register excludes from the archive (income,
/// situation, bank details) never reach it.
final class ArchiveEntry: Model, @unchecked Sendable {
    static let schema = "archive_entries"

    @ID(key: .id) var id: UUID?
    /// The entry's own key's subject (random): not the person's.
    @Field(key: "subject") var subject: String
    @OptionalField(key: "erasure_id") var erasureID: UUID?
    /// The register's purposes and categories it keeps, comma-separated.
    @Field(key: "purposes") var purposes: String
    @Field(key: "categories") var categories: String
    @Field(key: "sealed") var sealed: Data
    @Field(key: "archived_at") var archivedAt: Date
    @Field(key: "keep_until") var keepUntil: Date

    var properties: [any AnyProperty] { [$id, $subject, $erasureID, $purposes, $categories, $sealed, $archivedAt, $keepUntil] }

    static func context(_ id: UUID) -> String { "archive:\(id.uuidString.lowercased())" }

    init() {}

    init(id: UUID, subject: String, erasureID: UUID?, purposes: [String], categories: [String], sealed: Data, now: Date, keepUntil: Date) {
        self.id = id
        self.subject = subject
        self.erasureID = erasureID
        self.purposes = purposes.joined(separator: ",")
        self.categories = categories.joined(separator: ",")
        self.sealed = sealed
        archivedAt = now
        self.keepUntil = keepUntil
    }
}
