import DossierCore
import Fluent
import Foundation
import Vapor

/// The file shared with agencies and landlords, under the register's rule for supporting
/// documents (the shipped register: 12 months from collection, no archive of the documents):
/// each document 12 months after it was collected (its files' blobs with it, and the recipients
/// told, Art. 19, as when the person deletes it). Two stores: what the person uploaded, for the
/// `services` purpose, from its upload; what staff filed from an email or a letter, for the
/// `contract-documents` purpose, from the day it was received (as the access view says). And
/// each share link 12 months after it was made (its access log and watermarked copies with it;
/// a link lasts 12 months at most); each file certificate 12 months after it was issued (valid 3
/// months). What is held, or restricted (Art. 18), is kept and counted.
struct SharedDocuments: RetentionStore {
    let task: RetentionTask
    /// Documents filed by staff (received by email or post), else uploaded by the person.
    let filedByStaff: Bool

    static let uploaded = SharedDocuments(task: RetentionTask(id: "shared-documents", purpose: "services", category: Document.dataCategory,
                                                              events: [.collection]), filedByStaff: false)
    static let filed = SharedDocuments(task: RetentionTask(id: "filed-documents", purpose: "contract-documents", category: Document.dataCategory,
                                                           events: [.collection]), filedByStaff: true)

    /// What is due, each query a range of one date index (M018): uploads from `created_at`;
    /// filed documents from `received_at`, or from `created_at` for those filed without a day
    /// (a filter on `source` or an `OR` of the two would read every document of the table).
    private func due(_ cutoff: Date, on db: any Database) -> [QueryBuilder<Document>] {
        filedByStaff
            ? [Document.query(on: db).filter(\.$receivedAt <= cutoff).filter(\.$source != .upload),
               Document.query(on: db).filter(\.$createdAt <= cutoff).filter(\.$receivedAt == nil).filter(\.$source != .upload)]
            : [Document.query(on: db).filter(\.$createdAt <= cutoff).filter(\.$source == .upload)]
    }

    func plan(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let cutoff = RetentionSchedule.latestStart(keep: rule.keep, at: context.at)
        var count = 0
        var examples: [UUID] = []
        for query in due(cutoff, on: db) {
            count += try await query.count()
        }
        for query in due(cutoff, on: db) {
            examples += try await query.sort(\.$createdAt).limit(retentionExamples).all(\.$id)
        }
        return [line(rule, due: count, examples: examples)]
    }

    func run(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let cutoff = RetentionSchedule.latestStart(keep: rule.keep, at: context.at)
        var due: [Document] = []
        for query in self.due(cutoff, on: db) {
            due += try await query.all()
        }
        due.sort { $0.createdAt < $1.createdAt }
        let files = RentalFileService(database: db, services: context.services, logger: context.logger)
        let (done, kept) = try await context.each(due, account: { $0.$account.id }, on: db) { document in
            try await files.delete(document, by: "system")
        }
        return [line(rule, due: done.count + kept, done: done.count, kept: kept, examples: done)]
    }

}

struct SharedLinks: RetentionStore {
    let task = RetentionTask(id: "share-links", purpose: "services", category: Share.dataCategory, events: [.collection])

    func plan(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let cutoff = RetentionSchedule.latestStart(keep: rule.keep, at: context.at)
        let due = try await Share.query(on: db).filter(\.$createdAt <= cutoff).count()
        let examples = try await Share.query(on: db).filter(\.$createdAt <= cutoff).sort(\.$createdAt).limit(retentionExamples).all(\.$id)
        return [line(rule, due: due, examples: examples)]
    }

    func run(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let cutoff = RetentionSchedule.latestStart(keep: rule.keep, at: context.at)
        let due = try await Share.query(on: db).filter(\.$createdAt <= cutoff).sort(\.$createdAt).all()
        let services = context.services
        let (done, kept) = try await context.each(due, account: { $0.$account.id }, on: db) { share in
            let id = try share.requireID()
            let blobs = try await services.audit.transaction(on: db) { db, audit -> [String] in
                guard try await Share.find(id, on: db) != nil else { return [] }
                let blobs = try await ShareService.dropRenditions(of: [id], at: context.at, on: db)
                try await Share.query(on: db).filter(\.$id == id).delete()
                audit.record(AuditEvent(action: "share.deleted", subject: share.subject, purpose: task.purpose, reason: "retention",
                                        details: ["share": id.uuidString.lowercased()]), by: "system")
                return blobs
            }
            try? await BlobJournal.completeDeletion(of: blobs, blobs: services.blobs, on: db)
        }
        return [line(rule, due: done.count + kept, done: done.count, kept: kept, examples: done)]
    }

}

struct FileCertificates: RetentionStore {
    let task = RetentionTask(id: "file-certificates", purpose: "services", category: Share.dataCategory, events: [.collection])

    func plan(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let cutoff = RetentionSchedule.latestStart(keep: rule.keep, at: context.at)
        let ids = try await FileCertificateRecord.query(on: db).filter(\.$createdAt <= cutoff).sort(\.$createdAt).all(\.$id)
        return [line(rule, due: ids.count, examples: ids)]
    }

    func run(_ rule: RetentionRule, _ context: RetentionContext, on db: any Database) async throws -> [RetentionReport.Line] {
        let cutoff = RetentionSchedule.latestStart(keep: rule.keep, at: context.at)
        let due = try await FileCertificateRecord.query(on: db).filter(\.$createdAt <= cutoff).sort(\.$createdAt).all()
        let (done, kept) = try await context.each(due, account: { $0.$account.id }, on: db) { certificate in
            let id = try certificate.requireID()
            try await context.services.audit.transaction(on: db) { db, audit in
                try await FileCertificateRecord.query(on: db).filter(\.$id == id).delete()
                audit.record(AuditEvent(action: "certificate.deleted", subject: certificate.subject, purpose: task.purpose, reason: "retention",
                                        details: ["certificate": id.uuidString.lowercased()]), by: "system")
            }
            // (Sealed with the tenant's key, which lives on: the row's going is its deletion.)
        }
        return [line(rule, due: done.count + kept, done: done.count, kept: kept, examples: done)]
    }
}
