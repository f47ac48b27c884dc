import DossierCore
import Fluent
import Foundation
import Vapor

/// File certificates: the tenant issues one (for a rent, optionally), downloads it as a PDF with
/// its QR code, revokes it; anyone checks a code at `/verify/{code}` and learns only whether it
/// is genuine and current. The API and the pages share it.
struct CertificateService: Sendable {
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
    var files: RentalFileService { RentalFileService(database: database, services: services, logger: logger) }

    /// Certificates a tenant may hold open (not revoked, not expired) at once.
    static let maximumOpen = 10

    /// The address a certificate's QR code leads to.
    func verifyURL(code: String) -> String {
        let base = services.configuration.baseURL
        return (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/verify/" + code
    }

    /// What a certificate for `account` states now: the household's declared income (the tenant's
    /// and an approved couple partner's), whether a proof of income was validated, the documents
    /// staff validated for each person, the guarantors.
    func facts(of account: Account, rent: Int?) async throws -> CertificateFacts {
        let files = self.files
        let profile = try await files.profile(of: account)
        var income = profile.monthlyIncome
        let documents = try await files.documents(of: account)
        var people = [CertificateFacts.Person(role: "tenant", validatedDocuments: documents.filter { $0.guarantorID == nil && $0.status == .validated }.map(\.type))]
        var proof = documents.contains { $0.guarantorID == nil && $0.status == .validated && $0.category == "resources" }
        if let application = try await files.application(of: account), application.kind.membersSeeEachOther(),
           let partnerMember = application.members.first(where: { $0.$account.id != account.id && $0.isApproved }) {
            let partner = partnerMember.account
            let partnerProfile = try await files.profile(of: partner)
            if let partnerIncome = partnerProfile.monthlyIncome { income = (income ?? 0) + partnerIncome }
            let partnerDocuments = try await files.documents(of: partner).filter { $0.guarantorID == nil && $0.status == .validated }
            people.append(.init(role: "partner", validatedDocuments: partnerDocuments.map(\.type)))
            proof = proof || partnerDocuments.contains { $0.category == "resources" }
        }
        let guarantors = try await files.guarantors(of: account)
        for guarantor in guarantors {
            people.append(.init(role: "guarantor", validatedDocuments: documents.filter { $0.guarantorID == guarantor.id && $0.status == .validated }.map(\.type)))
        }
        return CertificateFacts(tenant: "\(account.firstName) \(account.lastName)", householdIncome: income, incomeProofValidated: proof,
                                rent: rent, people: people, guarantors: guarantors.map(\.kind.rawValue))
    }

    func issue(for account: Account, rent: Int?, language: Language) async throws -> (FileCertificateRecord, code: String) {
        try files.requireVerified(account, language: language)
        if let rent, !CertificateFacts.rentRange.contains(rent) {
            throw ValidationFailure(problems: [FieldProblem(field: "rent", message: language == .fr
                ? "Un loyer mensuel de 1 à 100 000 € est attendu." : "Expected a monthly rent of 1 to 100,000 €.")])
        }
        let now = clock.now
        let facts = try await facts(of: account, rent: rent)
        let code = CertificateCode.generate()
        let id = UUID()
        let sealed = try await vault.sealJSON(CertificateContent(code: code, facts: facts), for: account.subject, context: FileCertificateRecord.context(id))
        let accountID = try account.requireID()
        let record = FileCertificateRecord(id: id, accountID: accountID, subject: account.subject,
                                           codeHash: CertificateCode.hash(CertificateCode.normalized(code) ?? ""), factsDigest: facts.digest,
                                           sealed: sealed, language: language, now: now, expiresAt: CertificateStatus.validity.added(to: now))
        try await services.audit.transaction(on: database) { db, audit in
            let open = try await FileCertificateRecord.query(on: db).filter(\.$account.$id == accountID).filter(\.$revokedAt == nil)
                .filter(\.$expiresAt > now).count()
            guard open < Self.maximumOpen else {
                throw Abort(.conflict, reason: language == .fr ? "\(Self.maximumOpen) attestations valides au plus : révoquez-en une d'abord."
                    : "At most \(Self.maximumOpen) valid certificates: revoke one first.")
            }
            try await record.create(on: db)
            audit.record(AuditEvent(action: "certificate.issued", subject: account.subject, purpose: "services",
                                    details: ["certificate": id.uuidString.lowercased()]), by: account.subject)
        }
        return (record, code)
    }

    func certificates(of account: Account) async throws -> [FileCertificateRecord] {
        try await FileCertificateRecord.query(on: database).filter(\.$account.$id == account.requireID()).sort(\.$createdAt, .descending).all()
    }

    func certificate(_ id: UUID, of account: Account) async throws -> FileCertificateRecord? {
        try await FileCertificateRecord.query(on: database).filter(\.$id == id).filter(\.$account.$id == account.requireID()).first()
    }

    func content(of record: FileCertificateRecord) async throws -> CertificateContent {
        try await vault.openJSON(CertificateContent.self, record.sealed, for: record.subject, context: FileCertificateRecord.context(record.requireID()))
    }

    func revoke(_ record: FileCertificateRecord, by account: Account) async throws {
        guard record.revokedAt == nil else { return }
        record.revokedAt = clock.now
        try await services.audit.transaction(on: database) { db, audit in
            try await record.save(on: db)
            audit.record(AuditEvent(action: "certificate.revoked", subject: account.subject, purpose: "services",
                                    details: ["certificate": try record.requireID().uuidString.lowercased()]), by: account.subject)
        }
    }

    /// Where a certificate stands now; nil for a code that is no certificate's.
    func status(of record: FileCertificateRecord) async throws -> CertificateStatus {
        let now = clock.now
        if record.revokedAt != nil || now >= record.expiresAt {
            return .of(revokedAt: record.revokedAt, expiresAt: record.expiresAt, issuedDigest: record.factsDigest, currentDigest: nil, now: now)
        }
        let content = try await content(of: record)
        guard let account = try await Account.find(record.$account.id, on: database) else { return .outdated }
        let current = try await facts(of: account, rent: content.facts.rent)
        return .of(revokedAt: nil, expiresAt: record.expiresAt, issuedDigest: record.factsDigest, currentDigest: current.digest, now: now)
    }

    /// The certificate a code names, if any. Unknown codes count against the client's address,
    /// as unknown share links do.
    func verify(code text: String, client: String, language: Language) async throws -> FileCertificateRecord? {
        let now = clock.now
        let ledger = ThrottleLedger(database: database)
        let key = try await ledger.admitGuesses("certificate-code:client", client: client, policy: ShareRules.guessing, now: now, language: language)
        guard let code = CertificateCode.normalized(text),
              let record = try await FileCertificateRecord.query(on: database).filter(\.$codeHash == CertificateCode.hash(code)).first() else {
            try await ledger.record([key], at: now)
            return nil
        }
        // A check reads the tenant's facts and tells them to a third party: not while the tenant
        // restricts processing (Art. 18; it writes no audit entry for `RestrictionGuard` to refuse).
        // Answered as an unknown code: a third party learns nothing, not even that Art. 18 was used.
        if try await !RestrictionService.restricted(among: [record.subject], on: database).isEmpty {
            return nil
        }
        return record
    }

    /// The certificate as a PDF: its facts, and a QR code of its verification address.
    func pdf(of record: FileCertificateRecord) async throws -> Data {
        let content = try await content(of: record)
        let words = CertificateWording(record.language)
        let day = ShareWatermark.day(of:)
        let catalogue = services.catalogue
        let names = { (type: String) -> String in catalogue.name(of: type, in: record.language) }
        let url = verifyURL(code: content.code)
        let job = RenditionJob(mark: nil, parts: [.text(title: words.title(content.facts.tenant),
                                                        lines: words.lines(content.facts, code: content.code, issued: day(record.createdAt),
                                                                           expires: day(record.expiresAt), names: names),
                                                        qr: url, qrCaption: words.verifyCaption(url))])
        let renderer = services.renderer
        do {
            return try await services.renditions.run(in: record.language) { try renderer.render(job, files: []) }
        } catch let failure as RenditionSandbox.Failure {
            logger.error("certificate rendition failed: \(failure)")
            throw Abort(.internalServerError, reason: SharingWording(record.language).renditionFailed)
        }
    }
}
