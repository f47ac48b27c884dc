import Crypto
import DossierCore
import Fluent
import Foundation
import SQLKit
import Vapor

/// The tenant's file: profile, guarantors, applications, documents and their review.
/// Everything personal is sealed with its data subject's key before it is stored.
struct RentalFileService: Sendable {
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

    var clock: any WallClock { services.clock }
    var vault: KeyVault { services.vault }

    /// The database in SQL, for the hand-written queries of the hot paths.
    var sql: any SQLDatabase {
        get throws { try database.requireSQL() }
    }
    var catalogue: DocumentCatalogue { services.catalogue }

    // MARK: Profile

    func profile(of account: Account) async throws -> RentalProfile {
        try await storedProfile(of: account)?.fields ?? RentalProfile()
    }

    /// The profile's row and its fields opened, or nil when the tenant has none yet.
    func storedProfile(of account: Account) async throws -> (row: Profile, fields: RentalProfile)? {
        // Hand-written SQL on this hot path (see `PrefixedRow`).
        guard let row = try await sql.raw(Self.profileQuery(of: account.requireID())).first()
        else {
            return nil
        }
        return try await opened(PrefixedRow.decode(Profile.self, from: row, prefix: "p_"), of: account)
    }

    /// A stored profile with its fields, opened under the account's key.
    func opened(_ stored: Profile, of account: Account) async throws -> (row: Profile, fields: RentalProfile) {
        (stored, try await vault.openJSON(RentalProfile.self, stored.sealed, for: account.subject, context: "profile"))
    }

    /// Rectification: names on the account, the rest in the sealed profile. All or nothing.
    func updateProfile(of account: Account, patch: [String: JSONValue], language: Language) async throws -> RentalProfile {
        var profilePatch = patch
        var problems: [FieldProblem] = []
        var names: [String: String] = [:]
        let rules = SignUpRules(register: services.register.register)
        for field in ["firstName", "lastName"] {
            guard let value = profilePatch.removeValue(forKey: field) else { continue }
            guard case let .string(text) = value else {
                problems.append(FieldProblem(field: field, message: AccountWording(language).required)); continue
            }
            let form = SignUpRules.Form(email: account.email, password: "", firstName: field == "firstName" ? text : account.firstName,
                                        lastName: field == "lastName" ? text : account.lastName)
            problems += rules.problems(in: form, language: language).filter { $0.field == field }
            names[field] = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let current = try await profile(of: account)
        let updated: RentalProfile
        switch ProfilePatch.apply(profilePatch, to: current, language: language, today: clock.now) {
        case let .success(profile): updated = profile
        case let .failure(failure): problems += failure.problems; updated = current
        }
        guard problems.isEmpty else { throw ValidationFailure(problems: problems) }

        let sealed = try await vault.sealJSON(updated, for: account.subject, context: "profile")
        let accountID = try account.requireID()
        let newNames = names
        let changed = updated != current || newNames["firstName"].map { $0 != account.firstName } == true
            || newNames["lastName"].map { $0 != account.lastName } == true
        try await services.audit.transaction(on: database) { db, audit in
            if let stored = try await Profile.query(on: db).filter(\.$account.$id == accountID).first() {
                stored.sealed = sealed
                stored.updatedAt = clock.now
                try await stored.save(on: db)
            } else {
                try await Profile(accountID: accountID, sealed: sealed, now: clock.now).create(on: db)
            }
            if let first = newNames["firstName"] { account.firstName = first }
            if let last = newNames["lastName"] { account.lastName = last }
            if !newNames.isEmpty { try await account.save(on: db) }
            audit.record(AuditEvent(action: "profile.rectified", subject: account.subject, purpose: "services",
                                    details: ["fields": patch.keys.sorted().joined(separator: ",")]), by: account.subject)
            // Told only of a change: a form sent again as it was rectifies nothing.
            if changed { try await RecipientNotice.enqueue(.rectified, for: account, services: services, audit: audit, on: db) }
        }
        return updated
    }

    // MARK: Guarantors

    struct GuarantorDetails: Codable, Sendable {
        var name: String
        var email: String?
        var phone: String?
    }

    func guarantors(of account: Account) async throws -> [Guarantor] {
        try await Guarantor.query(on: database).filter(\.$account.$id == account.requireID()).sort(\.$createdAt).all()
    }

    /// One of the account's guarantors, or nil (also for someone else's).
    func guarantor(_ id: UUID, of account: Account) async throws -> Guarantor? {
        try await Guarantor.query(on: database).filter(\.$id == id).filter(\.$account.$id == account.requireID()).first()
    }

    func details(of guarantor: Guarantor) async throws -> GuarantorDetails {
        try await vault.openJSON(GuarantorDetails.self, guarantor.sealed, for: guarantor.subject, context: "guarantor")
    }

    func addGuarantor(to account: Account, kind: PersonKind, details: GuarantorDetails, language: Language) async throws -> Guarantor {
        let fr = language == .fr
        guard GuarantorRules.kinds.contains(kind) else {
            throw ValidationFailure(problems: [FieldProblem(field: "kind", message: fr ? "Valeur attendue : guarantor, company ou organisation." : "Expected guarantor, company or organisation.")])
        }
        let problems = GuarantorRules.problems(name: details.name, email: details.email, phone: details.phone, language: language)
        guard problems.isEmpty else { throw ValidationFailure(problems: problems) }
        let name = details.name.trimmingCharacters(in: .whitespacesAndNewlines)
        // Checked again in the transaction; here so that a refusal makes no key.
        guard try await guarantors(of: account).count < GuarantorRules.maximumPerTenant else {
            throw Abort(.conflict, reason: fr ? "Deux garants au plus par locataire." : "At most two guarantors per tenant.")
        }
        let subjectID = UUID()
        let sealed = try await vault.sealJSON(GuarantorDetails(name: name, email: details.email.flatMap(EmailAddress.init)?.value,
                                                                               phone: details.phone.flatMap { try? ProfilePatch.phone($0) }),
                                              for: subjectID.uuidString.lowercased(), context: "guarantor")
        let accountID = try account.requireID()
        let guarantor = Guarantor(accountID: accountID, kind: kind, sealed: sealed, subjectID: subjectID, now: clock.now)
        let noticeAddress = details.email.flatMap(EmailAddress.init)
        // The notice goes to an address the tenant typed: only from a confirmed account.
        if noticeAddress != nil { try requireVerified(account, language: language) }
        let now = clock.now
        let perTenant = ThrottleLedger.Key("guarantor-notice:tenant", account.subject)
        let perPair = ThrottleLedger.Key("guarantor-notice:pair", account.subject, noticeAddress?.canonical ?? "")
        let perAddress = ThrottleLedger.Key("guarantor-notice:address", noticeAddress?.canonical ?? "")
        let since = now - 24 * 3600
        // The limits are counted and the guarantor created in one audited transaction, which
        // runs one at a time: a burst of requests in parallel cannot slip past them. Refused,
        // the key made for the guarantor goes.
        do {
            try await services.audit.transaction(on: database) { db, audit in
                guard try await Guarantor.query(on: db).filter(\.$account.$id == accountID).count() < GuarantorRules.maximumPerTenant else {
                    throw Abort(.conflict, reason: fr ? "Deux garants au plus par locataire." : "At most two guarantors per tenant.")
                }
                var notifies = false
                if noticeAddress != nil {
                    // A few notices a day per tenant; once a day to the same address from the same
                    // tenant (a guarantor removed and named again was already told); three a day
                    // to one address whoever names it.
                    let ledger = ThrottleLedger(database: db)
                    if try await ledger.times(perTenant, since: since).count >= GuarantorNotice.perTenantPerDay {
                        throw Abort(.tooManyRequests, headers: ["Retry-After": "3600"],
                                    reason: fr ? "Trop de garants désignés aujourd'hui : réessayez demain." : "Too many guarantors named today: try again tomorrow.")
                    }
                    let toldByThisTenant = try await !ledger.times(perPair, since: since).isEmpty
                    let toldToday = try await ledger.times(perAddress, since: since).count
                    notifies = !toldByThisTenant && toldToday < GuarantorNotice.perAddressPerDay
                }
                try await guarantor.create(on: db)
                audit.record(AuditEvent(action: "guarantor.added", subject: guarantor.subject, purpose: "services",
                                        details: ["kind": kind.rawValue, "tenant": account.subject]), by: account.subject)
                if let noticeAddress, notifies {
                    // GDPR Art. 14: the guarantor did not give these data; they are told at once (the
                    // register promises within a month), in the same transaction as the data.
                    try await GuarantorNotice.enqueue(for: guarantor, at: noticeAddress, namedBy: account, services: services, on: db)
                    try await ThrottleLedger(database: db).record([perTenant, perPair, perAddress], at: now)
                    audit.record(AuditEvent(action: "guarantor.notified", subject: guarantor.subject, purpose: "services"), by: account.subject)
                }
            }
        } catch {
            try? await vault.shred(guarantor.subject)
            throw error
        }
        return guarantor
    }

    /// Removes a guarantor, their documents and their key.
    func removeGuarantor(_ guarantor: Guarantor, by account: Account) async throws {
        let documents = try await Document.query(on: database).filter(\.$guarantor.$id == guarantor.requireID()).all()
        for document in documents { try await delete(document, by: account.subject) }
        try await services.audit.transaction(on: database) { db, audit in
            try await guarantor.delete(on: db)
            // The notice sealed under the guarantor's key, sent or not: its address goes too.
            try await OutboxMessage.query(on: db).filter(\.$subject == guarantor.subject).delete()
            audit.record(AuditEvent(action: "guarantor.removed", subject: guarantor.subject, purpose: "services"), by: account.subject)
            try await RecipientNotice.enqueue(.erased, for: account, services: services, audit: audit, on: db)
        }
        // The key goes once the row that named it is gone for good (the key store is another
        // database: a shred inside a transaction that rolls back would strand the row).
        try await vault.shred(guarantor.subject)
    }

    /// What a reset link discards when it claims an account whose address was never verified:
    /// the applications it belongs to, its profile, guarantors and documents, their keys shredded.
    /// Runs inside the reset's transaction; returns the blob keys to delete and the subjects whose
    /// keys to shred once it commits.
    func discardUnverifiedFile(of account: Account, audit: AuditLog) async throws -> (blobs: [String], subjects: [String]) {
        let accountID = try account.requireID()
        let documents = try await Document.query(on: database).filter(\.$account.$id == accountID).with(\.$files).all()
        let blobs = documents.flatMap { $0.files.map(\.blobKey) }
        for document in documents { try await document.delete(on: database) }
        // Deleted once this transaction commits; journaled in it so that a crash cannot strand them.
        try await BlobJournal.record(blobs, .delete, at: clock.now, on: database)
        let guarantors = try await Guarantor.query(on: database).filter(\.$account.$id == accountID).all()
        for guarantor in guarantors {
            try await guarantor.delete(on: database)
        }
        try await ApplicationMember.query(on: database).filter(\.$account.$id == accountID).delete()
        try await Profile.query(on: database).filter(\.$account.$id == accountID).delete()
        // Whatever was sealed under the old key (queued mail included) is unreadable for good; the
        // owner starts afresh under a new pseudonymous id.
        let previous = account.subject
        account.subjectID = UUID()
        try await account.save(on: database)
        audit.record(AuditEvent(action: "file.discarded", subject: previous, purpose: "account",
                                reason: "address claimed by a password reset before it was ever verified",
                                details: ["documents": "\(documents.count)", "guarantors": "\(guarantors.count)", "now": account.subject]),
                     by: account.subject)
        return (blobs, guarantors.map(\.subject) + [previous])
    }

    // MARK: Applications

    /// A verified address is needed before a tenant's file can be shared with a partner or hold
    /// documents: otherwise whoever signed up first with someone else's address could watch what
    /// its owner later adds.
    func requireVerified(_ account: Account, language: Language) throws {
        try Self.requireVerified(account, language: language)
    }

    static func requireVerified(_ account: Account, language: Language) throws {
        guard account.emailVerifiedAt != nil else {
            throw Abort(.forbidden, reason: language == .fr
                ? "Confirmez d'abord votre adresse électronique (lien envoyé à l'inscription)."
                : "Confirm your email address first (the link sent when you signed up).")
        }
    }

    /// The account's membership, approved or waiting, with its application and members loaded.
    func membership(of account: Account) async throws -> ApplicationMember? {
        // The member's own account too: a member still waiting is shown alone, from this row
        // (not loading it stopped the server on the file page of anyone waiting to join).
        try await ApplicationMember.query(on: database).filter(\.$account.$id == account.requireID())
            .with(\.$account)
            .with(\.$application) { $0.with(\.$members) { $0.with(\.$account) } }.first()
    }

    /// The application the account is an approved member of.
    func application(of account: Account) async throws -> RentalApplication? {
        guard let membership = try await membership(of: account), membership.isApproved else { return nil }
        return membership.application
    }

    /// Starts an application; returns it and the code the others use to join.
    func createApplication(for account: Account, kind: ApplicationKind, language: Language) async throws -> (RentalApplication, code: String) {
        try requireVerified(account, language: language)
        if try await membership(of: account) != nil {
            throw Abort(.conflict, reason: language == .fr ? "Vous faites déjà partie d'une candidature." : "You are already part of an application.")
        }
        let code = SecretToken.generate()
        let application = RentalApplication(kind: kind, joinCodeHash: SecretToken.hash(code), now: clock.now)
        try await services.audit.transaction(on: database) { db, audit in
            try await application.create(on: db)
            try await ApplicationMember(applicationID: try application.requireID(), accountID: try account.requireID(), now: clock.now,
                                        approved: true).create(on: db)
            audit.record(AuditEvent(action: "application.created", subject: account.subject, purpose: "services",
                                    details: ["kind": kind.rawValue]), by: account.subject)
        }
        return (application, code)
    }

    /// Asks to join with the code: the newcomer waits, seeing nothing and shown to nobody's file,
    /// until a member already in approves. The members are told by email.
    func join(_ account: Account, code: String, client: ClientInfo, language: Language) async throws -> RentalApplication {
        let fr = language == .fr
        try requireVerified(account, language: language)
        // Asking again and again would mail the members each time: a few asks an hour.
        try await ThrottleLedger(database: database).limit("join", client: client, target: account.subject, now: clock.now,
                                                           language: language, logger: logger,
                                                           development: services.configuration.isDevelopmentInstance)
        guard let application = try await RentalApplication.query(on: database).filter(\.$joinCodeHash == SecretToken.hash(code))
            .with(\.$members, { $0.with(\.$account) }).first() else {
            throw Abort(.notFound, reason: fr ? "Code de candidature inconnu." : "Unknown application code.")
        }
        if try await membership(of: account) != nil {
            throw Abort(.conflict, reason: fr ? "Vous faites déjà partie d'une candidature." : "You are already part of an application.")
        }
        guard application.members.count < application.kind.maximumMembers else {
            throw Abort(.conflict, reason: fr ? "Cette candidature est complète." : "This application is full.")
        }
        let members = application.members.filter(\.isApproved).map(\.account)
        try await services.audit.transaction(on: database) { db, audit in
            try await ApplicationMember(applicationID: try application.requireID(), accountID: try account.requireID(), now: clock.now,
                                        approved: false).create(on: db)
            for member in members {
                try await services.mailer.enqueue(.joinRequested(link: services.mailer.page("/file", language: member.language) + "#household"),
                                                  to: member, on: db)
            }
            audit.record(AuditEvent(action: "application.join-requested", subject: account.subject, purpose: "services",
                                    details: ["kind": application.kind.rawValue]), by: account.subject)
        }
        return application
    }

    /// An approved member lets a waiting one in, or turns them away (`approve == false`). 404 for
    /// anyone not waiting in the member's own application.
    func decide(on candidateID: UUID, approve: Bool, by member: Account, language: Language) async throws {
        guard let application = try await application(of: member),
              let candidate = try await ApplicationMember.query(on: database).filter(\.$application.$id == application.requireID())
                .filter(\.$account.$id == candidateID).filter(\.$approvedAt == nil).with(\.$account).first()
        else {
            throw Abort(.notFound, reason: language == .fr ? "Aucune demande de cette personne." : "No request from this person.")
        }
        try await services.audit.transaction(on: database) { db, audit in
            if approve {
                candidate.approvedAt = clock.now
                try await candidate.save(on: db)
            } else {
                try await candidate.delete(on: db)
            }
            audit.record(AuditEvent(action: approve ? "application.joined" : "application.join-declined", subject: candidate.account.subject,
                                    purpose: "services", details: ["kind": application.kind.rawValue]), by: member.subject)
        }
    }

    /// Leaves the application (a waiting request is withdrawn the same way); the last to leave
    /// closes it. What a partner could see is no longer shown from then on.
    func leave(_ account: Account, language: Language) async throws {
        guard let membership = try await membership(of: account) else {
            throw Abort(.notFound, reason: language == .fr ? "Vous ne faites partie d'aucune candidature." : "You are not part of an application.")
        }
        let application = membership.application
        let others = application.members.filter { $0.id != membership.id }
        try await services.audit.transaction(on: database) { db, audit in
            try await membership.delete(on: db)
            if others.isEmpty { try await application.delete(on: db) }
            audit.record(AuditEvent(action: "application.left", subject: account.subject, purpose: "services",
                                    details: ["kind": application.kind.rawValue]), by: account.subject)
        }
    }

    /// Whether `viewer` may see `owner`'s file: their own, or their partner's in a couple, both
    /// members approved.
    func may(_ viewer: Account, see ownerID: UUID) async throws -> Bool {
        if try viewer.requireID() == ownerID { return true }
        guard let application = try await application(of: viewer), application.kind.membersSeeEachOther() else { return false }
        return application.members.contains { $0.$account.id == ownerID && $0.isApproved }
    }

    // MARK: Documents

    /// Files in one document (e.g. three payslips), and so the request size a route accepts.
    static let maximumFiles = 5
    static var maximumBody: Int { maximumFiles * FileInspector.maximumSize + 1024 * 1024 }
    /// What one tenant may keep: documents (theirs and their guarantors'), and bytes in all.
    static let maximumDocuments = 100
    static let maximumStoredBytes = 300 * 1024 * 1024

    /// Refuses an upload that would take the tenant past their quota (413).
    func checkQuota(of account: Account, adding bytes: Int, language: Language) async throws {
        let documents = try await Document.query(on: database).filter(\.$account.$id == account.requireID()).with(\.$files).all()
        let stored = documents.flatMap(\.files).reduce(0) { $0 + $1.size }
        let fr = language == .fr
        guard documents.count < Self.maximumDocuments else {
            throw Abort(.payloadTooLarge, reason: fr ? "\(Self.maximumDocuments) pièces au plus par dossier : supprimez-en avant d'en ajouter."
                                                    : "At most \(Self.maximumDocuments) documents per file: delete some before adding more.")
        }
        guard stored + bytes <= Self.maximumStoredBytes else {
            throw Abort(.payloadTooLarge, reason: fr ? "Votre dossier dépasserait \(Self.maximumStoredBytes / 1024 / 1024) Mo : supprimez des pièces avant d'en ajouter."
                                                    : "Your file would exceed \(Self.maximumStoredBytes / 1024 / 1024) MB: delete documents before adding more.")
        }
    }

    /// Stores a document after every file passed inspection; nothing is stored otherwise.
    func upload(for account: Account, guarantorID: UUID?, type typeID: String, files: [MultipartUpload.FilePart],
                source: Document.Source, receivedAt: Date?, filedBy actor: String, language: Language) async throws -> Document {
        let fr = language == .fr
        if actor == account.subject { try requireVerified(account, language: language) }
        guard !files.isEmpty else { throw Abort(.badRequest, reason: fr ? "Ajoutez au moins un fichier (champ 'file')." : "Attach at least one file (field 'file').") }
        guard files.count <= Self.maximumFiles else { throw Abort(.payloadTooLarge, reason: fr ? "\(Self.maximumFiles) fichiers au plus par pièce." : "At most \(Self.maximumFiles) files per document.") }
        let (type, category): (DocumentCatalogue.DocumentType, DocumentCatalogue.Category)
        switch catalogue.lookup(typeID) {
        case let .allowed(found, category: found2): (type, category) = (found, found2)
        case let .forbidden(forbidden):
            throw Abort(.unprocessableEntity, reason: "\(forbidden.name[language]): \(catalogue.forbiddenReason[language])")
        case .unknown:
            throw Abort(.unprocessableEntity, reason: fr ? "Type de pièce inconnu '\(typeID)' : voir GET /api/v1/catalogue/documents." : "Unknown document type '\(typeID)': see GET /api/v1/catalogue/documents.")
        }
        var guarantor: Guarantor?
        if let guarantorID {
            guarantor = try await self.guarantor(guarantorID, of: account)
            guard guarantor != nil else { throw Abort(.notFound, reason: fr ? "Garant inconnu." : "Unknown guarantor.") }
        }
        let kind = guarantor?.kind ?? .tenant
        guard type.for.contains(kind) else {
            throw Abort(.unprocessableEntity, reason: fr ? "Cette pièce ne concerne pas ce type de personne (\(kind.rawValue))." : "This document type is not for this kind of person (\(kind.rawValue)).")
        }
        try await checkQuota(of: account, adding: files.reduce(0) { $0 + $1.size }, language: language)
        let subject = guarantor?.subject ?? account.subject
        let document = Document(accountID: try account.requireID(), guarantorID: guarantorID, subject: subject, type: type.id,
                                category: category.id, source: source, receivedAt: receivedAt,
                                filedBy: actor == account.subject ? nil : actor, now: clock.now)
        let documentID = UUID()
        document.id = documentID

        // One file at a time: its plaintext out of the sealed spool into the scratch directory,
        // inspected, sealed under the subject's key, and the plaintext deleted before the next
        // (the scratch directory never holds more than one file's plaintext for an upload).
        // The sealed files wait there until every file has passed, then go to the blob store.
        var sealedFiles: [URL] = []
        defer { for url in sealedFiles { unlink(url.path) } }
        var accepted: [(blobKey: String, kind: FileInspector.Kind, sealed: SealedDocument.Written, name: String?)] = []
        var key: SymmetricKey?
        for (index, file) in files.enumerated() {
            let position = index + 1
            let blobKey = UUID().uuidString.lowercased()
            let scratch = services.inspector.scratch
            let plain = scratch.appendingPathComponent("inspect-\(blobKey).in")
            var rewritten: URL?
            defer {
                unlink(plain.path)
                if let rewritten { unlink(rewritten.path) }
            }
            // Off the event loops and the shared pool: a hostile file costs its own thread only.
            let sandbox = services.inspector
            let result = try await services.inspections.run(in: language) {
                try file.open(to: plain)
                return try sandbox.inspect(fileAt: plain, fileName: file.fileName, declaredType: file.contentType)
            }
            let inspected: InspectionSandbox.Inspected
            switch result {
            case let .success(result):
                inspected = result
                if result.isRewritten { rewritten = result.file }
            case let .failure(refusal):
                let name = file.fileName.map { "\($0): " } ?? ""
                throw Abort(Self.status(for: refusal), reason: name + refusal.message(language))
            }
            let subjectKey: SymmetricKey
            if let key { subjectKey = key } else { subjectKey = try await vault.sealingKey(for: subject) }
            key = subjectKey
            // Bound to the document and the position: a blob moved elsewhere does not open.
            let context = vault.fullContext(DocumentFile.contentContext(document: documentID, position: position, blobKey: blobKey), of: subject)
            let sealedFile = scratch.appendingPathComponent("seal-\(blobKey).blob")
            sealedFiles.append(sealedFile)
            let sealed = try await services.inspections.run(in: language) {
                try SealedDocument.seal(inspected.file, to: sealedFile, key: subjectKey, context: context)
            }
            accepted.append((blobKey, inspected.kind, sealed, file.fileName))
        }

        var records: [DocumentFile] = []
        var written: [String] = []
        // Recorded before a byte is written: a crash from here on leaves no blob unaccounted for.
        let keys = accepted.map(\.blobKey)
        try await BlobJournal.record(keys, .write, at: clock.now, on: database)
        do {
            for (index, file) in accepted.enumerated() {
                let position = index + 1
                try await services.blobs.put(fileAt: sealedFiles[index], key: file.blobKey)
                written.append(file.blobKey)
                let sealedName = try await vault.seal(Data((file.name ?? "\(type.id).\(file.kind.fileExtension)").utf8), for: subject,
                                                      context: DocumentFile.nameContext(document: documentID, position: position, blobKey: file.blobKey))
                records.append(DocumentFile(documentID: documentID, position: position, blobKey: file.blobKey, kind: file.kind,
                                            size: file.sealed.size, digest: file.sealed.digest, sealedName: sealedName, now: clock.now))
            }
            let records = records
            let count = accepted.count
            try await services.audit.transaction(on: database) { db, audit in
                try await document.create(on: db)
                for record in records { try await record.create(on: db) }
                try await BlobJournal.clear(keys, on: db)
                audit.record(AuditEvent(action: document.filedBy == nil ? "document.uploaded" : "document.filed", subject: subject, purpose: "services",
                                        details: ["type": type.id, "files": "\(count)", "source": source.rawValue]), by: actor)
            }
        } catch {
            // What no document names goes; anything left stays journaled for recovery.
            await BlobJournal.undoWrites(keys, blobs: services.blobs, on: database)
            throw error
        }
        return document
    }

    static func status(for refusal: FileInspector.Refusal) -> HTTPResponseStatus {
        switch refusal {
        case .tooLarge: .payloadTooLarge
        case .unsupported, .heic, .nameMismatch, .declaredMismatch, .polyglot: .unsupportedMediaType
        case .empty, .activeContent, .encryptedPDF, .damaged, .tooComplex, .tooManyPixels, .hiddenData, .overLimits: .unprocessableEntity
        }
    }

    static let profileColumns = PrefixedRow.columns(of: Profile.self, table: "p", prefix: "p_")

    /// The account's profile row, its columns prefixed `p_` (here and in the holdings read).
    static func profileQuery(of accountID: UUID) -> SQLQueryString {
        """
        SELECT \(unsafeRaw: profileColumns) FROM "profiles" p WHERE p."account_id" = \(bind: accountID) LIMIT 1
        """
    }

    /// The account's documents joined with their files and reviews (`DocumentListing.columns`),
    /// in no order: the caller orders them so that a document's rows follow each other.
    static func documentsQuery(of accountID: UUID) -> SQLQueryString {
        """
        SELECT \(unsafeRaw: DocumentListing.columns) FROM "documents" d
          LEFT JOIN "document_files" f ON f."document_id" = d."id"
          LEFT JOIN "document_reviews" r ON r."document_id" = d."id"
         WHERE d."account_id" = \(bind: accountID)
        """
    }
    /// The account's documents, oldest first, with their files and reviews: one query in SQL
    /// written once, read into plain values (`DocumentListing`). With Fluent's eager loading it
    /// was three queries, each built anew, and a model per row, profiled. A document with
    /// several files and several reviews comes back on files × reviews rows, each file and
    /// review kept once.
    func documents(of account: Account) async throws -> [DocumentListing] {
        let rows = try await sql.raw(Self.documentsQuery(of: account.requireID())
            + #" ORDER BY d."created_at", d."id", f."position", r."created_at""#).all()
        var documents: [DocumentListing] = []
        for row in rows { try DocumentListing.collect(row, into: &documents) }
        return documents
    }

    /// A file of a document, opened for reading a chunk at a time (its first chunk already
    /// checked), with its kind and original name.
    func content(of document: Document, position: Int) async throws -> (content: OpenedDocument, kind: FileInspector.Kind, name: String) {
        guard let file = try await DocumentFile.query(on: database).filter(\.$document.$id == document.requireID())
            .filter(\.$position == position).first() else {
            throw Abort(.notFound, reason: "No file \(position) in this document.")
        }
        let name = try await vault.open(file.sealedName, for: document.subject, context: file.nameContext)
        let kind = FileInspector.Kind(rawValue: file.kind) ?? .pdf
        let content: OpenedDocument
        do {
            content = try await open(file, of: document.subject)
        } catch let error as SealedStream.Failure {
            logger.error("blob \(file.blobKey) does not open: \(error)")
            throw Abort(.internalServerError, reason: "Stored file failed its integrity check.")
        }
        return (content, kind, String(decoding: name, as: UTF8.self))
    }

    /// A stored file opened: streamed (vault format 3), or whole after its digest is checked
    /// (files sealed by earlier versions).
    func open(_ file: DocumentFile, of subject: String) async throws -> OpenedDocument {
        if file.aeadVersion >= 3 {
            let key = try await vault.openingKey(for: subject)
            return try OpenedDocument(streaming: try await services.blobs.reader(file.blobKey), key: key,
                                      context: vault.fullContext(file.contentContext, of: subject), size: file.size)
        }
        let sealed = try await services.blobs.get(file.blobKey)
        guard Digest.sha256Hex(sealed) == file.digest else {
            logger.error("blob \(file.blobKey) does not match its recorded digest")
            throw Abort(.internalServerError, reason: "Stored file failed its integrity check.")
        }
        return OpenedDocument(whole: try await vault.open(sealed, for: subject, context: file.contentContext))
    }

    /// One of the account's documents, or nil (also for someone else's).
    func document(_ id: UUID, of account: Account) async throws -> Document? {
        try await Document.query(on: database).filter(\.$id == id).filter(\.$account.$id == account.requireID()).first()
    }

    /// The document's files in order, with their original names unsealed.
    func namedFiles(of document: DocumentListing) async throws -> [(file: DocumentListing.File, name: String)] {
        var result: [(file: DocumentListing.File, name: String)] = []
        for file in document.files.sorted(by: { $0.position < $1.position }) {
            let name = try await vault.open(file.sealedName, for: document.subject, context: document.nameContext(of: file))
            result.append((file, String(decoding: name, as: UTF8.self)))
        }
        return result
    }

    func delete(_ document: Document, by actor: String) async throws {
        let files = try await DocumentFile.query(on: database).filter(\.$document.$id == document.requireID()).all()
        let keys = files.map(\.blobKey)
        let documentID = try document.requireID()
        let renditions = try await services.audit.transaction(on: database) { db, audit in
            // Deleted by a request running beside this one (a form sent twice): gone, as asked.
            guard try await Document.find(documentID, on: db) != nil else {
                throw Abort(.notFound, reason: "No such document.")
            }
            try await document.delete(on: db)
            // Journaled with the rows' removal: a crash before the blobs go leaves entries that
            // recovery completes, never an orphan blob nor a row naming a missing blob.
            try await BlobJournal.record(keys, .delete, at: clock.now, on: db)
            audit.record(AuditEvent(action: "document.deleted", subject: document.subject, purpose: "services",
                                    details: ["type": document.type]), by: actor)
            if let owner = try await Account.find(document.$account.id, on: db) {
                try await RecipientNotice.enqueue(.erased, for: owner, services: services, audit: audit, on: db)
            }
            // Recipients' watermarked copies of it go too (those of its file, all of them: they
            // are made again on demand).
            return try await ShareService.dropRenditions(of: ShareService.shareIDs(of: document.$account.id, on: db), at: clock.now, on: db)
        }
        try await BlobJournal.completeDeletion(of: keys + renditions, blobs: services.blobs, on: database)
    }

    // MARK: Completeness

    struct PersonCompleteness: Content {
        var person: String
        var kind: PersonKind
        var name: String
        var complete: Bool
        var categories: [Completeness.Entry]
    }

    func completeness(of account: Account) async throws -> [PersonCompleteness] {
        let documents = try await self.documents(of: account).filter { $0.status != .declined }
        let counts = { (guarantorID: UUID?) in
            documents.filter { $0.guarantorID == guarantorID }.map { (type: $0.type, files: $0.files.count) }
        }
        let status = try await profile(of: account).catalogueStatus
        let tenant = catalogue.completeness(for: .tenant, status: status, documents: counts(nil))
        var result = [PersonCompleteness(person: try account.requireID().uuidString.lowercased(), kind: .tenant,
                                         name: "\(account.firstName) \(account.lastName)", complete: tenant.isComplete, categories: tenant.entries)]
        for guarantor in try await guarantors(of: account) {
            let entry = catalogue.completeness(for: guarantor.kind, status: nil, documents: counts(guarantor.id))
            result.append(PersonCompleteness(person: try guarantor.requireID().uuidString.lowercased(), kind: guarantor.kind,
                                             name: try await details(of: guarantor).name, complete: entry.isComplete, categories: entry.entries))
        }
        return result
    }

    // MARK: Review

    /// Validates or declines a document; the tenant is told by email, in their language, why.
    func review(_ document: Document, validated: Bool, reasons: [String], comment: String?, by reviewer: Account,
                language: Language) async throws {
        let fr = language == .fr
        let found = reasons.compactMap { catalogue.declineReason($0) }
        guard found.count == reasons.count else {
            let known = catalogue.declineReasons.map(\.id).joined(separator: ", ")
            throw ValidationFailure(problems: [FieldProblem(field: "reasons", message: fr ? "Motifs connus : \(known)." : "Known reasons: \(known).")])
        }
        guard validated || !found.isEmpty else {
            throw ValidationFailure(problems: [FieldProblem(field: "reasons", message: fr ? "Indiquez au moins un motif de refus." : "Give at least one reason to decline.")])
        }
        if let comment, TextRules.length(comment) > DocumentReview.maximumComment || TextRules.hasForbidden(comment, multiline: true) {
            throw ValidationFailure(problems: [FieldProblem(field: "comment", message: fr
                    ? "\(DocumentReview.maximumComment) caractères au plus, sans caractères de contrôle."
                    : "At most \(DocumentReview.maximumComment) characters, no control characters.")])
        }
        let comment = comment?.trimmingCharacters(in: .whitespacesAndNewlines)
        let decision: Document.Status = validated ? .validated : .declined
        try await services.audit.transaction(on: database) { db, audit in
            try await DocumentReview(documentID: try document.requireID(), reviewer: reviewer.subject, decision: decision,
                                     reasons: validated ? [] : reasons, comment: comment?.isEmpty == true ? nil : comment, now: clock.now).create(on: db)
            document.status = decision
            document.reviewedAt = clock.now
            try await document.save(on: db)
            let tenant = try await document.$account.get(on: db)
            let typeName = catalogue.categories.flatMap(\.types).first { $0.id == document.type }?.name ?? LocalizedText(fr: document.type, en: document.type)
            let link = services.configuration.baseURL + "/file?lang=\(tenant.language.rawValue)"
            try await services.mailer.enqueue(.documentReviewed(document: typeName, validated: validated,
                                                                reasons: validated ? [] : found.map(\.name), comment: comment, link: link),
                                              to: tenant, on: db)
            audit.record(AuditEvent(action: "document.reviewed", subject: document.subject, purpose: "services",
                                    details: ["decision": decision.rawValue, "reasons": reasons.joined(separator: ",")]), by: reviewer.subject)
        }
    }
}
