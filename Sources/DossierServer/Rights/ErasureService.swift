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

    /// An erasure decided before (`stillDue`) that the account's state no longer warrants (409).
    struct NoLongerDue: AbortError {
        var status: HTTPResponseStatus { .conflict }
        var reason: String { "No longer due: the account was used since." }
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
    ///
    /// Costed in statements, each a round trip (`scripts/bench`): the account read under its
    /// lock, what is held in one (`AccessService.holdings`, which the receipt lists too), the
    /// writes sent together just before the audit entries (`AuditLog.writes`: one statement on
    /// PostgreSQL, none of them reading another's rows), and every row that names the account deleted with it by the
    /// database (`ON DELETE CASCADE`): the profile, the documents (their files and reviews), the
    /// guarantors, the household memberships, the links (their documents, access log and cached
    /// copies), the certificates, sessions, sign-in links, connection log, queued mail,
    /// directives and the restriction. The erasure tests check that none of them is left.
    /// `actor` and `reason`: who asked, for the audit trail (the person themselves, by default;
    /// "system" with "retention" when the retention engine closes an inactive account).
    /// `stillDue`: checked on the account read under its lock, for an erasure decided before
    /// (the retention engine's: a sign-in since then answers it); false refuses with 409.
    func erase(_ account: Account, language: Language, actor: String? = nil, reason: String? = nil,
               stillDue: (@Sendable (Account) -> Bool)? = nil) async throws -> ErasurePlan.Receipt {
        let words = RightsWording(language)
        // Staff accounts are closed by an administrator; an organisation keeps an administrator.
        guard account.role == .tenant || account.role == .member else { throw Abort(.conflict, reason: words.staffCannotErase) }
        let accountID = try account.requireID()
        let now = services.clock.now
        let register = services.register.register
        let reference = UUID()
        // Two keys of their own, made in one write to the key store (which refuses during a
        // rotation): the receipt's and the recipients' notices' (sent after the person's key is
        // gone, their text erased once sent, as all mail), and the archive entry's. The key
        // store is a database apart: they are made while the transaction reads.
        let mailSubject = UUID().uuidString.lowercased()
        let entrySubject = UUID().uuidString.lowercased()
        let vault = services.vault
        let erased: (receipt: ErasurePlan.Receipt, blobs: [String], subjects: [String])
        do {
            erased = try await services.audit.transaction(on: database) { db, audit -> (ErasurePlan.Receipt, [String], [String]) in
                // Read again under the account's row lock: a second erasure finds nothing.
                guard let current = try await Self.lockedAccount(accountID, on: db) else { throw Abort(.notFound, reason: words.alreadyErased) }
                if let stillDue, !stillDue(current) { throw NoLongerDue() }
                // Kept for a legal claim while a hold stands (GDPR Art. 17(3)(e)).
                guard try await !LegalHold.isHeld(current.subject, on: db) else { throw LegalHold.Refusal(reason: words.heldCannotErase) }
                if current.organisationAdmin, let organisationID = current.$organisation.id {
                    // Under the organisation's lock: two administrators leaving at once keep one.
                    try await OrganisationService.lock(organisationID, on: db)
                    let admins = try await Account.query(on: db).filter(\.$organisation.$id == organisationID).filter(\.$organisationAdmin == true).count()
                    guard admins > 1 else { throw Abort(.conflict, reason: words.lastAdminCannotErase) }
                }
                // Refusals above make no key.
                let keysMade = Task { try await vault.makeKeys(for: [mailSubject, entrySubject]) }
                let access = AccessService(database: db, services: services, logger: logger)
                let held: AccessService.Holdings
                let items: [AccessReport.Item]
                do {
                    held = try await access.holdings(of: current)
                    items = try await access.items(of: current, holdings: held, language: language)
                } catch {
                    _ = try? await keysMade.value
                    throw error
                }
                try await keysMade.value
                let subjectRole = Self.registerSubject(of: current)
                // The access view lists the latest connections; all of them go.
                let connections = held.connections.count < AccessService.maximumConnections ? held.connections.count
                    : try await ConnectionEvent.query(on: db).filter(\.$account.$id == accountID).count()
                let receipt = ErasurePlan.receipt(reference: reference.uuidString.lowercased(), items: items, register: register,
                                                  subject: subjectRole, at: now, language: language, counts: ["connection": connections])
                // Every consent given is withdrawn; the ledger is kept as the register says.
                let latest = Dictionary(grouping: held.consents) { $0.text ?? "" }.compactMap { purpose, rows -> (purpose: String, position: Int)? in
                    guard let last = rows.last, last.detail == ConsentRecord.Action.given.rawValue else { return nil }
                    return (purpose, last.number ?? 0)
                }
                try await ConsentService.withdrawAll(latest: latest.sorted { $0.purpose < $1.purpose }, of: current.subject, source: "erasure",
                                                     services: services, audit: audit, on: db)
                var subjects: Set<String> = [current.subject]
                // What the register keeps goes to the archive, under the archive entry's key.
                let archived = ErasurePlan.archived(items, register: register, subject: subjectRole, at: now)
                if let until = archived.values.flatMap(\.values).max() {
                    let identity = try await archivedIdentity(of: current, holdings: held, at: now, on: db)
                    let entryID = UUID()
                    let sealed = try await services.vault.sealJSON(identity, for: entrySubject, context: ArchiveEntry.context(entryID))
                    audit.writes.insert([ArchiveEntry(id: entryID, subject: entrySubject, erasureID: reference, purposes: archived.keys.sorted(),
                                                      categories: Array(Set(archived.values.flatMap(\.keys))).sorted(), sealed: sealed, now: now,
                                                      keepUntil: until)])
                } else {
                    // Nothing archived: its key sealed nothing, and goes with the others.
                    subjects.insert(entrySubject)
                }
                // Recipients who hold a link, or received through one, are told (Art. 19); the
                // notices and the receipt are stored together at the end.
                var mail = try await RecipientNotice.notices(.accountErased, for: current, shares: held.shares, received: Set(held.accesses.keys),
                                                             services: services, audit: audit, sealedFor: mailSubject, on: db)
                // Blobs: every file of the documents, every watermarked copy of the links.
                let blobs = held.documents.flatMap { $0.files.map(\.blobKey) } + held.renditions.compactMap(\.text)
                BlobJournal.record(blobs, .delete, at: now, in: audit.writes)
                subjects.formUnion(held.guarantors.map(\.subject))
                subjects.formUnion(held.documents.map(\.subject))
                subjects.formUnion(held.shares.map(\.subject))
                subjects.formUnion(held.certificates.compactMap(\.text))
                // The household: the person leaves it; an application left with no approved member
                // goes, with the requests to join it nobody could approve any more.
                if !held.applications.isEmpty {
                    try await ApplicationMember.query(on: db).filter(\.$account.$id == accountID).delete()
                    for application in held.applications.map(\.id) {
                        if try await ApplicationMember.query(on: db).filter(\.$application.$id == application).filter(\.$approvedAt != nil).count() == 0 {
                            try await ApplicationMember.query(on: db).filter(\.$application.$id == application).delete()
                            try await RentalApplication.query(on: db).filter(\.$id == application).delete()
                        }
                    }
                }
                // Mail about the person queued without an account (a guarantor's notice) is sealed
                // with a subject erased now: it could never be sent.
                for batch in Array(subjects).batches(of: 1000) {
                    audit.writes.delete(OutboxMessage.query(on: db).filter(\.$subject ~~ batch.map { Optional($0) }).filter(\.$sentAt == nil))
                }
                if let organisationID = current.$organisation.id {
                    let sent = try await OrganisationInvitation.query(on: db).filter(\.$organisation.$id == organisationID)
                        .filter(\.$invitedBy == current.subject).all()
                    try await OrganisationInvitation.query(on: db).filter(\.$organisation.$id == organisationID)
                        .filter(\.$invitedBy == current.subject).delete()
                    try await OrganisationService.dropQueuedInvitations(to: sent.map(\.email), of: organisationID, on: db)
                }
                // Invitations to the person's address, from any organisation (the holdings say
                // whether there are any).
                if !held.invitations.isEmpty {
                    let invitations = try await OrganisationInvitation.query(on: db).filter(\.$emailKey == current.emailKey).all()
                    try await OrganisationInvitation.query(on: db).filter(\.$emailKey == current.emailKey).delete()
                    for invitation in invitations {
                        try await OrganisationService.dropQueuedInvitations(to: [invitation.email], of: invitation.$organisation.id, on: db)
                    }
                }
                // The account, and with it every row that names it (see above): the foreign keys'
                // cascades run after the batch's statement, and see the rest of it.
                audit.writes.delete(Account.query(on: db).filter(\.$id == accountID))
                // The receipt, mailed to the address the account had, and kept as the request's record.
                mail.append(try await services.mailer.message(.erasureReceipt(receipt), to: current.email, language: language, subject: mailSubject,
                                                              accountID: nil))
                audit.writes.insert(mail)
                let record = receipt.kept.first { $0.category.id == ErasureRecord.dataCategory }?.until ?? RetentionPeriod(5, .year).added(to: now)
                let pending = subjects.sorted()
                audit.writes.insert([ErasureRecord(id: reference, subject: current.subject, erasedAt: now,
                                                   receipt: String(decoding: try JSONEncoder().encode(receipt), as: UTF8.self),
                                                   pendingSubjects: pending, mailSubject: mailSubject, keepUntil: record)])
                audit.record(AuditEvent(action: "account.erased", subject: current.subject, purpose: ErasureRecord.purpose, reason: reason,
                                        details: Dictionary(receipt.erased.map { ($0.kind, "\($0.count)") }) { first, _ in first }
                                            .merging(["erasure": reference.uuidString.lowercased()]) { first, _ in first }),
                             by: actor ?? current.subject)
                return (receipt, blobs, pending)
            }
        } catch {
            // Rolled back: the two keys, if made, sealed nothing that stays, and are removed. A
            // commit whose answer was lost has its record: then they stay (its receipt and
            // archive are sealed with them), and the server finishes the erasure.
            let committed: Bool
            do {
                committed = try await ErasureRecord.find(reference, on: database) != nil
            } catch {
                committed = true
            }
            if !committed { try? await services.vault.discardUnused([mailSubject, entrySubject]) }
            throw error
        }
        // Keys once the rows that named them are gone for good, and blobs, at the same time (the
        // key store and the blob store are apart). The erasure is committed: should the key
        // store not answer now, the server finishes it within the minute (`finishPending`), and
        // the person gets their receipt all the same; blobs left are deleted from the journal.
        async let shredded: Void = Self.finish(reference, subjects: erased.subjects, services: services, on: database)
        async let deleted: Void = BlobJournal.completeDeletion(of: erased.blobs, blobs: services.blobs, on: database)
        do {
            try await shredded
        } catch {
            logger.error("erasure \(reference): keys left for the background loop: \(String(reflecting: error))")
        }
        try? await deleted
        return erased.receipt
    }

    private func archivedIdentity(of account: Account, holdings held: AccessService.Holdings, at now: Date,
                                  on db: any Database) async throws -> ArchivedIdentity {
        let files = RentalFileService(database: db, services: services, logger: logger)
        var profile: [String: JSONValue] = [:]
        if let fields = held.profile?.fields {
            let all = try JSONDecoder().decode([String: JSONValue].self, from: JSONEncoder().encode(fields))
            profile = all.filter { RentalProfile.categories[$0.key] == Account.dataCategory }
        }
        var guarantors: [ArchivedIdentity.GuarantorIdentity] = []
        for guarantor in held.guarantors {
            let details = try await files.details(of: guarantor)
            guarantors.append(.init(kind: guarantor.kind, name: details.name, email: details.email, phone: details.phone))
        }
        return ArchivedIdentity(account: try account.requireID(), email: account.email, firstName: account.firstName, lastName: account.lastName,
                                createdAt: account.createdAt, lastActivityAt: account.lastActivityAt, erasedAt: now,
                                profile: profile, guarantors: guarantors)
    }

    /// Every column of the account, for the read under lock.
    private static let accountColumns = PrefixedRow.columns(of: Account.self, table: "a", prefix: "a_")

    /// The account read under its row lock, held until the transaction ends (PostgreSQL; SQLite's
    /// transactions are serialised by the write lock already), in one statement; nil when it is
    /// gone (a second erasure).
    static func lockedAccount(_ id: UUID, on db: any Database) async throws -> Account? {
        let sql = try db.requireSQL()
        let lock = sql.dialect.name == "postgresql" ? " FOR UPDATE" : ""
        guard let row = try await sql.raw("""
            SELECT \(unsafeRaw: accountColumns) FROM \(ident: Account.schema) a WHERE a."id" = \(bind: id)\(unsafeRaw: lock)
            """).first() else { return nil }
        return try PrefixedRow.decode(Account.self, from: row, prefix: "a_")
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
        try await finish(id, subjects: record.subjectsToShred, services: services, on: database)
    }

    /// The same, for the erasure that just committed and knows its keys (no read).
    static func finish(_ id: UUID, subjects: [String], services: DossierServices, on database: any Database) async throws {
        try await services.vault.shred(subjects)
        try await ErasureRecord.query(on: database).filter(\.$id == id).filter(\.$completedAt == nil)
            .set(\.$pendingSubjects, to: nil).set(\.$completedAt, to: services.clock.now).update()
    }

    /// Erasures a crash interrupted after their rows went: their keys destroyed now.
    @discardableResult
    static func finishPending(services: DossierServices, on database: any Database) async throws -> Int {
        let pending = try await ErasureRecord.query(on: database).filter(\.$completedAt == nil).all()
        for record in pending { try await finish(try record.requireID(), services: services, on: database) }
        return pending.count
    }

    /// The archive and the erasure records whose time is up (the retention engine runs each).
    @discardableResult
    static func sweepExpired(services: DossierServices, on database: any Database, now: Date) async throws -> Int {
        try await sweepArchive(services: services, on: database, now: now) + sweepRecords(services: services, on: database, now: now)
    }

    /// The archive entries whose time is up: the entry's key destroyed first (a crash then leaves
    /// a row nobody can read, deleted by the next sweep), then the row.
    @discardableResult
    static func sweepArchive(services: DossierServices, on database: any Database, now: Date, excluding held: Set<String> = []) async throws -> Int {
        var due = try await ArchiveEntry.query(on: database).filter(\.$keepUntil <= now).all()
        if !held.isEmpty {
            // The person an entry is about is named by its erasure's record.
            let records = try await ErasureRecord.query(on: database).filter(\.$id ~~ due.compactMap(\.erasureID)).all()
            let heldErasures = Set(records.filter { held.contains($0.subject) }.compactMap(\.id))
            due = due.filter { entry in entry.erasureID.map { !heldErasures.contains($0) } ?? true }
        }
        for entry in due {
            try await services.vault.shred(entry.subject)
            try await entry.delete(on: database)
        }
        return due.count
    }

    /// The key of an erasure's receipt and recipients' notices, as soon as none of its messages
    /// waits to be sent (the outbox's loop, every minute).
    static func shredSentMailKeys(services: DossierServices, on database: any Database) async throws {
        for record in try await ErasureRecord.query(on: database).filter(\.$mailSubject != nil).filter(\.$completedAt != nil).all() {
            guard let subject = record.mailSubject else { continue }
            let waiting = try await OutboxMessage.query(on: database).filter(\.$subject == subject).filter(\.$sentAt == nil)
                .filter(\.$failedAt == nil).count()
            guard waiting == 0 else { continue }
            try await services.vault.shred(subject)
            record.mailSubject = nil
            try await record.save(on: database)
        }
    }

    /// The erasure records whose time is up.
    @discardableResult
    static func sweepRecords(services: DossierServices, on database: any Database, now: Date, excluding held: Set<String> = []) async throws -> Int {
        try await shredSentMailKeys(services: services, on: database)
        let records = try await ErasureRecord.query(on: database).filter(\.$keepUntil <= now).filter(\.$completedAt != nil).all()
            .filter { !held.contains($0.subject) }
        for record in records {
            if let subject = record.mailSubject { try await services.vault.shred(subject) }
            try await record.delete(on: database)
        }
        return records.count
    }
}
