import DossierCore
import Fluent
import Foundation
import SQLKit
import Vapor

/// The right to erasure (GDPR Art. 17): deleting an account erases everything the register does
/// not oblige the service to keep. In one transaction: the rows (profile, documents, guarantors,
/// links and their logs, certificates, sessions, connection log, queued mail), the blobs'
/// deletion journaled, what must be kept moved to the restricted archive (`ArchiveEntry`), the
/// recipients told (Art. 19), the receipt mailed and recorded (`ErasureRecord`). Right after it,
/// the keys: documents and anything sealed are unreadable for good, in every backup too. A crash
/// in between is finished by the server (`finishPending`). The API (`DELETE /api/v1/me`) and
/// the page (`/account/delete`) share it.
struct ErasureService: Sendable {
    let database: any Database
    let services: DossierServices
    let logger: Logger

    init(_ request: Request) {
        self.init(database: request.db, services: request.dossier, logger: request.logger)
    }

    init(database: any Database, services: DossierServices, logger: Logger) {
        self.database = database
        self.services = services
        self.logger = logger
    }

    /// What the archive holds of an erased account: the proof it existed. Only categories the
    /// register archives (identification): never income, situation or documents.
    struct ArchivedIdentity: Codable, Sendable {
        struct GuarantorIdentity: Codable, Sendable {
            var kind: PersonKind
            var name: String
            var email: String?
            var phone: String?
        }

        var account: UUID
        var email: String
        var firstName: String
        var lastName: String
        var createdAt: Date
        var lastActivityAt: Date
        var erasedAt: Date
        /// The profile's identification fields (address, telephone, date of birth, pseudonym).
        var profile: [String: JSONValue]
        var guarantors: [GuarantorIdentity]
    }

    /// The register's data subject the account is, for rules that name some.
    static func registerSubject(of account: Account) -> String? { account.role == .tenant ? "tenant" : nil }

    /// What erasing `account` now would erase and keep (the page shows it before the person confirms).
    func preview(of account: Account, language: Language) async throws -> ErasurePlan.Receipt {
        let items = try await AccessService(database: database, services: services, logger: logger).items(of: account, language: language)
        return ErasurePlan.receipt(reference: "", items: items, register: services.register.register,
                                   subject: Self.registerSubject(of: account), at: services.clock.now, language: language)
    }

    /// Erases the account; returns the receipt.
    func erase(_ account: Account, language: Language) async throws -> ErasurePlan.Receipt {
        let words = RightsWording(language)
        // Staff accounts are closed by an administrator; an organisation keeps an administrator.
        guard account.role == .tenant || account.role == .member else { throw Abort(.conflict, reason: words.staffCannotErase) }
        try await services.vault.requireNoRotation()
        let accountID = try account.requireID()
        let now = services.clock.now
        let register = services.register.register
        let reference = UUID()
        // The receipt and the recipients' notices are sealed under a key of their own: they are
        // sent after the person's key is gone (and their text erased once sent, as all mail).
        let mailSubject = UUID().uuidString.lowercased()
        let (receipt, blobs) = try await services.audit.transaction(on: database) { db, audit -> (ErasurePlan.Receipt, [String]) in
            // Read again under the account's row lock: a second erasure finds nothing.
            try await Self.lockAccount(accountID, on: db)
            guard let current = try await Account.find(accountID, on: db) else { throw Abort(.notFound, reason: words.alreadyErased) }
            if current.organisationAdmin, let organisationID = current.$organisation.id {
                // Under the organisation's lock: two administrators leaving at once keep one.
                try await OrganisationService.lock(organisationID, on: db)
                let admins = try await Account.query(on: db).filter(\.$organisation.$id == organisationID).filter(\.$organisationAdmin == true).count()
                guard admins > 1 else { throw Abort(.conflict, reason: words.lastAdminCannotErase) }
            }
            let items = try await AccessService(database: db, services: services, logger: logger).items(of: current, language: language)
            let subjectRole = Self.registerSubject(of: current)
            // The access view lists the latest connections; all of them go.
            let connections = try await ConnectionEvent.query(on: db).filter(\.$account.$id == accountID).count()
            let receipt = ErasurePlan.receipt(reference: reference.uuidString.lowercased(), items: items, register: register,
                                              subject: subjectRole, at: now, language: language, counts: ["connection": connections])
            // Every consent given is withdrawn; the ledger is kept as the register says.
            for purpose in Set(try await ConsentRecord.query(on: db).filter(\.$subject == current.subject).all().map(\.purpose)) {
                _ = try await ConsentService.withdraw(purpose, of: current.subject, source: "erasure", services: services, audit: audit, on: db)
            }
            var subjects: Set<String> = [current.subject]
            // What the register keeps goes to the archive, under a key of the archive entry's own.
            let archived = ErasurePlan.archived(items, register: register, subject: subjectRole, at: now)
            if let until = archived.values.flatMap(\.values).max() {
                let identity = try await archivedIdentity(of: current, at: now, on: db)
                let entryID = UUID()
                let entrySubject = UUID().uuidString.lowercased()
                let sealed = try await services.vault.sealJSON(identity, for: entrySubject, context: ArchiveEntry.context(entryID))
                try await ArchiveEntry(id: entryID, subject: entrySubject, erasureID: reference, purposes: archived.keys.sorted(),
                                       categories: Array(Set(archived.values.flatMap(\.keys))).sorted(), sealed: sealed, now: now,
                                       keepUntil: until).create(on: db)
            }
            // Recipients who hold a link, or received through one, are told (Art. 19).
            try await RecipientNotice.enqueue(.accountErased, for: current, services: services, audit: audit, sealedFor: mailSubject, on: db)
            // Blobs: every file of the documents, every watermarked copy of the links.
            let documents = try await Document.query(on: db).filter(\.$account.$id == accountID).with(\.$files).all()
            let shares = try await Share.query(on: db).filter(\.$account.$id == accountID).all()
            let shareIDs = try shares.map { try $0.requireID() }
            let renditions = shareIDs.isEmpty ? [] : try await ShareRendition.query(on: db).filter(\.$share.$id ~~ shareIDs).all()
            let blobs = documents.flatMap { $0.files.map(\.blobKey) } + renditions.map(\.blobKey)
            try await BlobJournal.record(blobs, .delete, at: now, on: db)
            let guarantors = try await Guarantor.query(on: db).filter(\.$account.$id == accountID).all()
            let certificates = try await FileCertificateRecord.query(on: db).filter(\.$account.$id == accountID).all()
            subjects.formUnion(guarantors.map(\.subject))
            subjects.formUnion(documents.map(\.subject))
            subjects.formUnion(shares.map(\.subject))
            subjects.formUnion(certificates.map(\.subject))
            // The household: the person leaves it; an application left with no approved member
            // goes, with the requests to join it nobody could approve any more.
            let memberships = try await ApplicationMember.query(on: db).filter(\.$account.$id == accountID).all()
            try await ApplicationMember.query(on: db).filter(\.$account.$id == accountID).delete()
            for membership in memberships {
                let applicationID = membership.$application.id
                if try await ApplicationMember.query(on: db).filter(\.$application.$id == applicationID).filter(\.$approvedAt != nil).count() == 0 {
                    try await ApplicationMember.query(on: db).filter(\.$application.$id == applicationID).delete()
                    try await RentalApplication.query(on: db).filter(\.$id == applicationID).delete()
                }
            }
            // The rest, table by table (the foreign keys would cascade; said here, so that the
            // list of what goes is read in one place).
            if !shareIDs.isEmpty {
                try await ShareAccess.query(on: db).filter(\.$share.$id ~~ shareIDs).delete()
                try await ShareRendition.query(on: db).filter(\.$share.$id ~~ shareIDs).delete()
                try await ShareDocument.query(on: db).filter(\.$share.$id ~~ shareIDs).delete()
            }
            try await Share.query(on: db).filter(\.$account.$id == accountID).delete()
            try await FileCertificateRecord.query(on: db).filter(\.$account.$id == accountID).delete()
            for document in documents { try await document.delete(on: db) }
            try await Guarantor.query(on: db).filter(\.$account.$id == accountID).delete()
            try await Profile.query(on: db).filter(\.$account.$id == accountID).delete()
            try await DirectiveRecord.query(on: db).filter(\.$account.$id == accountID).delete()
            try await ConnectionEvent.query(on: db).filter(\.$account.$id == accountID).delete()
            try await Session.query(on: db).filter(\.$account.$id == accountID).delete()
            try await AccountToken.query(on: db).filter(\.$account.$id == accountID).delete()
            try await OutboxMessage.query(on: db).filter(\.$account.$id == accountID).delete()
            // Mail about the person queued without an account (a guarantor's notice) is sealed
            // with a subject erased now: it could never be sent.
            try await OutboxMessage.query(on: db).filter(\.$subject ~~ subjects.map { Optional($0) }).filter(\.$sentAt == nil).delete()
            if let organisationID = current.$organisation.id {
                let sent = try await OrganisationInvitation.query(on: db).filter(\.$organisation.$id == organisationID)
                    .filter(\.$invitedBy == current.subject).all()
                try await OrganisationInvitation.query(on: db).filter(\.$organisation.$id == organisationID)
                    .filter(\.$invitedBy == current.subject).delete()
                try await OrganisationService.dropQueuedInvitations(to: sent.map(\.email), of: organisationID, on: db)
            }
            // Invitations to the person's address, from any organisation.
            let invitations = try await OrganisationInvitation.query(on: db).filter(\.$emailKey == current.emailKey).all()
            try await OrganisationInvitation.query(on: db).filter(\.$emailKey == current.emailKey).delete()
            for invitation in invitations {
                try await OrganisationService.dropQueuedInvitations(to: [invitation.email], of: invitation.$organisation.id, on: db)
            }
            try await current.delete(on: db)
            // The receipt, mailed to the address the account had, and kept as the request's record.
            try await services.mailer.enqueue(.erasureReceipt(receipt), to: current.email, language: language, subject: mailSubject,
                                              accountID: nil, on: db)
            let record = receipt.kept.first { $0.category.id == ErasureRecord.dataCategory }?.until ?? RetentionPeriod(5, .year).added(to: now)
            try await ErasureRecord(id: reference, subject: current.subject, erasedAt: now,
                                    receipt: String(decoding: try JSONEncoder().encode(receipt), as: UTF8.self),
                                    pendingSubjects: subjects.sorted(), mailSubject: mailSubject, keepUntil: record).create(on: db)
            audit.record(AuditEvent(action: "account.erased", subject: current.subject, purpose: ErasureRecord.purpose,
                                    details: Dictionary(receipt.erased.map { ($0.kind, "\($0.count)") }) { first, _ in first }
                                        .merging(["erasure": reference.uuidString.lowercased()]) { first, _ in first }),
                         by: current.subject)
            return (receipt, blobs)
        }
        // Keys once the rows that named them are gone for good; blobs after. The erasure is
        // committed: should the key store not answer now, the server finishes it within the
        // minute (`finishPending`), and the person gets their receipt all the same.
        do {
            try await Self.finish(reference, services: services, on: database)
        } catch {
            logger.error("erasure \(reference): keys left for the background loop: \(String(reflecting: error))")
        }
        try? await BlobJournal.completeDeletion(of: blobs, blobs: services.blobs, on: database)
        return receipt
    }

    private func archivedIdentity(of account: Account, at now: Date, on db: any Database) async throws -> ArchivedIdentity {
        let files = RentalFileService(database: db, services: services, logger: logger)
        var profile: [String: JSONValue] = [:]
        if try await Profile.query(on: db).filter(\.$account.$id == account.requireID()).first() != nil {
            let fields = try JSONDecoder().decode([String: JSONValue].self, from: JSONEncoder().encode(try await files.profile(of: account)))
            profile = fields.filter { RentalProfile.categories[$0.key] == Account.dataCategory }
        }
        var guarantors: [ArchivedIdentity.GuarantorIdentity] = []
        for guarantor in try await files.guarantors(of: account) {
            let details = try await files.details(of: guarantor)
            guarantors.append(.init(kind: guarantor.kind, name: details.name, email: details.email, phone: details.phone))
        }
        return ArchivedIdentity(account: try account.requireID(), email: account.email, firstName: account.firstName, lastName: account.lastName,
                                createdAt: account.createdAt, lastActivityAt: account.lastActivityAt, erasedAt: now,
                                profile: profile, guarantors: guarantors)
    }

    /// The account's row, locked until the transaction ends (PostgreSQL; SQLite's transactions
    /// are serialised by the write lock already): an erasure and a restriction of one account,
    /// or two of either, run one after the other.
    /// A request that raced the account's erasure finds it gone: 404, nothing written.
    static func lockAccount(_ id: UUID, on db: any Database) async throws {
        try await db.lockRow(Account.schema, id)
        guard try await Account.query(on: db).filter(\.$id == id).count() == 1 else {
            throw Abort(.notFound, reason: "This account no longer exists.")
        }
    }

    /// Destroys the keys an erasure left to destroy, and marks it complete.
    static func finish(_ id: UUID, services: DossierServices, on database: any Database) async throws {
        guard let record = try await ErasureRecord.find(id, on: database), record.completedAt == nil else { return }
        for subject in record.subjectsToShred { try await services.vault.shred(subject) }
        record.pendingSubjects = nil
        record.completedAt = services.clock.now
        try await record.save(on: database)
    }

    /// Erasures a crash interrupted after their rows went: their keys destroyed now.
    @discardableResult
    static func finishPending(services: DossierServices, on database: any Database) async throws -> Int {
        let pending = try await ErasureRecord.query(on: database).filter(\.$completedAt == nil).all()
        for record in pending { try await finish(try record.requireID(), services: services, on: database) }
        return pending.count
    }

    /// The archive and the erasure records whose time is up: the archive's key destroyed first
    /// (a crash then leaves a row nobody can read, deleted by the next sweep), then the rows.
    @discardableResult
    static func sweepExpired(services: DossierServices, on database: any Database, now: Date) async throws -> Int {
        let due = try await ArchiveEntry.query(on: database).filter(\.$keepUntil <= now).all()
        for entry in due {
            try await services.vault.shred(entry.subject)
            try await entry.delete(on: database)
        }
        // The key of the receipt and the recipients' notices, once none is waiting to be sent.
        for record in try await ErasureRecord.query(on: database).filter(\.$mailSubject != nil).filter(\.$completedAt != nil).all() {
            guard let subject = record.mailSubject else { continue }
            let waiting = try await OutboxMessage.query(on: database).filter(\.$subject == subject).filter(\.$sentAt == nil)
                .filter(\.$failedAt == nil).count()
            guard waiting == 0 else { continue }
            try await services.vault.shred(subject)
            record.mailSubject = nil
            try await record.save(on: database)
        }
        let records = try await ErasureRecord.query(on: database).filter(\.$keepUntil <= now).filter(\.$completedAt != nil).all()
        for record in records {
            if let subject = record.mailSubject { try await services.vault.shred(subject) }
            try await record.delete(on: database)
        }
        return due.count + records.count
    }
}
