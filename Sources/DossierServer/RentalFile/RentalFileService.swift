import DossierCore
import Fluent
import Foundation
import Vapor

/// The tenant's file: profile, guarantors, applications, documents and their review.
/// Everything personal is sealed with its data subject's key before it is stored.
struct RentalFileService {
    let database: any Database
    let services: DossierServices
    let logger: Logger

    init(_ request: Request) {
        database = request.db
        services = request.dossier
        logger = request.logger
    }

    var clock: any WallClock { services.clock }
    var vault: KeyVault { services.vault }
    var catalogue: DocumentCatalogue { services.catalogue }

    // MARK: Profile

    func profile(of account: Account) async throws -> RentalProfile {
        guard let stored = try await Profile.query(on: database).filter(\.$account.$id == account.requireID()).first() else {
            return RentalProfile()
        }
        return try await vault.openJSON(RentalProfile.self, stored.sealed, for: account.subject, context: "profile", on: database)
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

        let sealed = try await vault.sealJSON(updated, for: account.subject, context: "profile", on: database)
        let accountID = try account.requireID()
        let newNames = names
        try await database.transaction { db in
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
        }
        try await services.audit.record(
            AuditEvent(action: "profile.rectified", subject: account.subject, purpose: "services",
                       details: ["fields": patch.keys.sorted().joined(separator: ",")]),
            by: account.subject, on: database
        )
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
        try await vault.openJSON(GuarantorDetails.self, guarantor.sealed, for: guarantor.subject, context: "guarantor", on: database)
    }

    func addGuarantor(to account: Account, kind: PersonKind, details: GuarantorDetails, language: Language) async throws -> Guarantor {
        let fr = language == .fr
        guard GuarantorRules.kinds.contains(kind) else {
            throw ValidationFailure(problems: [FieldProblem(field: "kind", message: fr ? "Valeur attendue : guarantor, company ou organisation." : "Expected guarantor, company or organisation.")])
        }
        let name = details.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200 else {
            throw ValidationFailure(problems: [FieldProblem(field: "name", message: AccountWording(language).required)])
        }
        if let email = details.email, !email.isEmpty, EmailAddress(email) == nil {
            throw ValidationFailure(problems: [FieldProblem(field: "email", message: AccountWording(language).invalidEmail)])
        }
        let existing = try await guarantors(of: account).count
        guard existing < GuarantorRules.maximumPerTenant else {
            throw Abort(.conflict, reason: fr ? "Deux garants au plus par locataire." : "At most two guarantors per tenant.")
        }
        let subjectID = UUID()
        let sealed = try await vault.sealJSON(GuarantorDetails(name: name, email: details.email, phone: details.phone),
                                              for: subjectID.uuidString.lowercased(), context: "guarantor", on: database)
        let guarantor = Guarantor(accountID: try account.requireID(), kind: kind, sealed: sealed, subjectID: subjectID, now: clock.now)
        try await guarantor.create(on: database)
        try await services.audit.record(
            AuditEvent(action: "guarantor.added", subject: guarantor.subject, purpose: "services", details: ["kind": kind.rawValue, "tenant": account.subject]),
            by: account.subject, on: database
        )
        return guarantor
    }

    /// Removes a guarantor, their documents and their key.
    func removeGuarantor(_ guarantor: Guarantor, by account: Account) async throws {
        let documents = try await Document.query(on: database).filter(\.$guarantor.$id == guarantor.requireID()).all()
        for document in documents { try await delete(document, by: account.subject) }
        try await guarantor.delete(on: database)
        try await vault.shred(guarantor.subject, on: database)
        try await services.audit.record(AuditEvent(action: "guarantor.removed", subject: guarantor.subject, purpose: "services"),
                                        by: account.subject, on: database)
    }

    // MARK: Applications

    func application(of account: Account) async throws -> RentalApplication? {
        guard let membership = try await ApplicationMember.query(on: database).filter(\.$account.$id == account.requireID())
            .with(\.$application) { $0.with(\.$members) { $0.with(\.$account) } }.first()
        else { return nil }
        return membership.application
    }

    /// Starts an application; returns it and the code the others use to join.
    func createApplication(for account: Account, kind: ApplicationKind, language: Language) async throws -> (RentalApplication, code: String) {
        if try await application(of: account) != nil {
            throw Abort(.conflict, reason: language == .fr ? "Vous faites déjà partie d'une candidature." : "You are already part of an application.")
        }
        let code = SecretToken.generate()
        let application = RentalApplication(kind: kind, joinCodeHash: SecretToken.hash(code), now: clock.now)
        try await database.transaction { db in
            try await application.create(on: db)
            try await ApplicationMember(applicationID: try application.requireID(), accountID: try account.requireID(), now: clock.now).create(on: db)
        }
        return (application, code)
    }

    func join(_ account: Account, code: String, language: Language) async throws -> RentalApplication {
        let fr = language == .fr
        guard let application = try await RentalApplication.query(on: database).filter(\.$joinCodeHash == SecretToken.hash(code))
            .with(\.$members).first() else {
            throw Abort(.notFound, reason: fr ? "Code de candidature inconnu." : "Unknown application code.")
        }
        if try await self.application(of: account) != nil {
            throw Abort(.conflict, reason: fr ? "Vous faites déjà partie d'une candidature." : "You are already part of an application.")
        }
        guard application.members.count < application.kind.maximumMembers else {
            throw Abort(.conflict, reason: fr ? "Cette candidature est complète." : "This application is full.")
        }
        try await ApplicationMember(applicationID: try application.requireID(), accountID: try account.requireID(), now: clock.now).create(on: database)
        try await services.audit.record(
            AuditEvent(action: "application.joined", subject: account.subject, purpose: "services", details: ["kind": application.kind.rawValue]),
            by: account.subject, on: database
        )
        return application
    }

    /// Whether `viewer` may see `owner`'s file: their own, or their partner's in a couple.
    func may(_ viewer: Account, see ownerID: UUID) async throws -> Bool {
        if try viewer.requireID() == ownerID { return true }
        guard let application = try await application(of: viewer), application.kind.membersSeeEachOther() else { return false }
        return application.members.contains { $0.$account.id == ownerID }
    }

    // MARK: Documents

    /// Files in one document (e.g. three payslips), and so the request size a route accepts.
    static let maximumFiles = 5
    static var maximumBody: ByteCount { ByteCount(value: maximumFiles * FileInspector.maximumSize + 1024 * 1024) }

    /// Stores a document after every file passed inspection; nothing is stored otherwise.
    func upload(for account: Account, guarantorID: UUID?, type typeID: String, files: [MultipartUpload.FilePart],
                source: Document.Source, receivedAt: Date?, filedBy actor: String, language: Language) async throws -> Document {
        let fr = language == .fr
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
        var accepted: [(FileInspector.Accepted, String?)] = []
        for file in files {
            switch FileInspector.inspect(file.data, fileName: file.fileName, declaredType: file.contentType) {
            case let .success(result): accepted.append((result, file.fileName))
            case let .failure(refusal):
                let name = file.fileName.map { "\($0): " } ?? ""
                throw Abort(Self.status(for: refusal), reason: name + refusal.message(language))
            }
        }

        let subject = guarantor?.subject ?? account.subject
        let document = Document(accountID: try account.requireID(), guarantorID: guarantorID, subject: subject, type: type.id,
                                category: category.id, source: source, receivedAt: receivedAt,
                                filedBy: actor == account.subject ? nil : actor, now: clock.now)
        document.id = UUID()
        var records: [DocumentFile] = []
        var written: [String] = []
        do {
            for (index, (file, name)) in accepted.enumerated() {
                let key = UUID().uuidString.lowercased()
                let sealed = try await vault.seal(file.bytes, for: subject, context: "document-file:\(key)", on: database)
                try await services.blobs.put(sealed, key: key)
                written.append(key)
                let sealedName = try await vault.seal(Data((name ?? "\(type.id).\(file.kind.fileExtension)").utf8), for: subject,
                                                      context: "document-name:\(key)", on: database)
                records.append(DocumentFile(documentID: document.id!, position: index + 1, blobKey: key, kind: file.kind,
                                            size: file.bytes.count, digest: Digest.sha256Hex(sealed), sealedName: sealedName, now: clock.now))
            }
            let records = records
            try await database.transaction { db in
                try await document.create(on: db)
                for record in records { try await record.create(on: db) }
            }
        } catch {
            for key in written { try? await services.blobs.delete(key) }
            throw error
        }
        try await services.audit.record(
            AuditEvent(action: document.filedBy == nil ? "document.uploaded" : "document.filed", subject: subject, purpose: "services",
                       details: ["type": type.id, "files": "\(accepted.count)", "source": source.rawValue]),
            by: actor, on: database
        )
        return document
    }

    static func status(for refusal: FileInspector.Refusal) -> HTTPResponseStatus {
        switch refusal {
        case .tooLarge: .payloadTooLarge
        case .unsupported, .heic, .nameMismatch, .declaredMismatch: .unsupportedMediaType
        case .empty, .activeContent, .encryptedPDF, .damaged: .unprocessableEntity
        }
    }

    func documents(of account: Account) async throws -> [Document] {
        try await Document.query(on: database).filter(\.$account.$id == account.requireID())
            .with(\.$files).with(\.$reviews).sort(\.$createdAt).all()
    }

    /// A file's bytes, after checking the stored blob is the one written.
    func content(of document: Document, position: Int) async throws -> (data: Data, kind: FileInspector.Kind, name: String) {
        guard let file = try await DocumentFile.query(on: database).filter(\.$document.$id == document.requireID())
            .filter(\.$position == position).first() else {
            throw Abort(.notFound, reason: "No file \(position) in this document.")
        }
        let sealed = try await services.blobs.get(file.blobKey)
        guard Digest.sha256Hex(sealed) == file.digest else {
            logger.error("blob \(file.blobKey) does not match its recorded digest")
            throw Abort(.internalServerError, reason: "Stored file failed its integrity check.")
        }
        let data = try await vault.open(sealed, for: document.subject, context: "document-file:\(file.blobKey)", on: database)
        let name = try await vault.open(file.sealedName, for: document.subject, context: "document-name:\(file.blobKey)", on: database)
        return (data, FileInspector.Kind(rawValue: file.kind) ?? .pdf, String(decoding: name, as: UTF8.self))
    }

    /// One of the account's documents, or nil (also for someone else's).
    func document(_ id: UUID, of account: Account) async throws -> Document? {
        try await Document.query(on: database).filter(\.$id == id).filter(\.$account.$id == account.requireID()).first()
    }

    /// The document's files in order, with their original names unsealed (files must be loaded).
    func namedFiles(of document: Document) async throws -> [(file: DocumentFile, name: String)] {
        var result: [(file: DocumentFile, name: String)] = []
        for file in document.files.sorted(by: { $0.position < $1.position }) {
            let name = try await vault.open(file.sealedName, for: document.subject, context: "document-name:\(file.blobKey)", on: database)
            result.append((file, String(decoding: name, as: UTF8.self)))
        }
        return result
    }

    func delete(_ document: Document, by actor: String) async throws {
        let files = try await DocumentFile.query(on: database).filter(\.$document.$id == document.requireID()).all()
        try await document.delete(on: database)
        for file in files { try await services.blobs.delete(file.blobKey) }
        try await services.audit.record(AuditEvent(action: "document.deleted", subject: document.subject, purpose: "services",
                                                    details: ["type": document.type]), by: actor, on: database)
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
            documents.filter { $0.$guarantor.id == guarantorID }.map { (type: $0.type, files: $0.files.count) }
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
        let comment = comment?.trimmingCharacters(in: .whitespacesAndNewlines).prefix(2000).description
        let decision: Document.Status = validated ? .validated : .declined
        try await database.transaction { db in
            try await DocumentReview(documentID: try document.requireID(), reviewer: reviewer.subject, decision: decision,
                                     reasons: validated ? [] : reasons, comment: comment?.isEmpty == true ? nil : comment, now: clock.now).create(on: db)
            document.status = decision
            document.reviewedAt = clock.now
            try await document.save(on: db)
            let tenant = try await document.$account.get(on: db)
            let typeName = catalogue.categories.flatMap(\.types).first { $0.id == document.type }?.name ?? LocalizedText(fr: document.type, en: document.type)
            let link = services.configuration.baseURL + "/file?lang=\(tenant.language.rawValue)"
            try await services.mailer.enqueue(.documentReviewed(firstName: tenant.firstName, document: typeName, validated: validated,
                                                                reasons: validated ? [] : found.map(\.name), comment: comment, link: link),
                                              to: tenant, on: db)
        }
        try await services.audit.record(
            AuditEvent(action: "document.reviewed", subject: document.subject, purpose: "services",
                       details: ["decision": decision.rawValue, "reasons": reasons.joined(separator: ",")]),
            by: reviewer.subject, on: database
        )
    }
}
