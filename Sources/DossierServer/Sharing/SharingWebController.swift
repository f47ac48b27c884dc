import DossierCore
import Fluent
import Vapor

/// The tenant's sharing page: links (create, pause, resume, revoke) with each one's access log,
/// and file certificates (issue, download, revoke). Translates to `ShareService` and
/// `CertificateService`, as the API does.
struct SharingWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let web = routes.grouped(WebSessionMiddleware(), CSRFMiddleware())
        web.get("file", "sharing", use: Self.page).access(.signedIn)
        web.post("file", "sharing", use: Self.create).access(.signedIn)
        web.post("file", "sharing", ":share", "revoke", use: Self.revoke).access(.owner)
        web.post("file", "sharing", ":share", "pause", use: Self.pause).access(.owner)
        web.post("file", "sharing", ":share", "resume", use: Self.resume).access(.owner)
        web.post("file", "certificates", use: Self.issue).access(.signedIn)
        web.post("file", "certificates", ":certificate", "revoke", use: Self.revokeCertificate).access(.owner)
        web.get("file", "certificates", ":certificate", "certificate.pdf", use: Self.certificatePDF).access(.owner)
    }

    struct LinkRow: Encodable {
        struct Access: Encodable {
            var at: String
            var what: String
            /// Through an organisation's inbox: "name (organisation)".
            var who: String?
        }

        var id: String
        var reference: String
        var recipient: String
        var kind: String
        var purpose: String
        var documents: String
        var state: String
        var stateLabel: String
        var expires: String
        var open: Bool
        var paused: Bool
        var accesses: [Access]
        /// The recipient organisation whose inbox receives the link.
        var organisation: String?
    }

    struct CertificateRow: Encodable {
        var id: String
        var code: String
        var status: String
        var statusLabel: String
        var issued: String
        var expires: String
        var revocable: Bool
    }

    struct SharingPage: Encodable {
        var links: [LinkRow]
        var certificates: [CertificateRow]
        var kinds: [FileWebController.Option]
        var documents: [FileWebController.Option]
        var errors: [String: String]
        var hasErrors: Bool
        var submitted: [String: String]
        /// The address of a link just created, and its access code: shown once.
        var created: String?
        var createdCode: String?
        /// When the new link's address is a recipient organisation's: what that means.
        var createdNotice: String?
        var verified: Bool
    }

    static func render(_ req: Request, account: Account, problems: [FieldProblem] = [], submitted: [String: String] = [:],
                       created: String? = nil, createdCode: String? = nil, createdNotice: String? = nil,
                       status: HTTPResponseStatus = .ok) async throws -> Response {
        let language = req.webLanguage
        let labels = WebWording.labels(language)
        let shares = ShareService(req)
        let certificates = CertificateService(req)
        let catalogue = req.dossier.catalogue
        let name = { (type: String) -> String in catalogue.name(of: type, in: language) }
        let now = req.dossier.clock.now
        var links: [LinkRow] = []
        for share in try await shares.shares(of: account) {
            let details = try await shares.details(of: share)
            let state = share.state(at: now)
            let chosen = share.wholeFile ? [] : try await shares.chosenDocuments(of: share)
            let all = try await RentalFileService(req).documents(of: account)
            let documents = share.wholeFile ? labels["sharingWholeFile"] ?? "" : all.filter { chosen.contains($0.id) }.map { name($0.type) }.joined(separator: ", ")
            var accesses: [LinkRow.Access] = []
            for access in try await shares.accesses(of: share, limit: 50) {
                let viewer = try await shares.viewer(of: access, share: share)
                accesses.append(LinkRow.Access(at: ISO8601DateFormatter().string(from: access.occurredAt),
                                               what: access.documentType.map(name) ?? (labels["sharingAccess-\(access.action.rawValue)"] ?? access.action.rawValue),
                                               who: viewer.map { "\($0.name) (\($0.organisation))" }))
            }
            links.append(LinkRow(id: try share.requireID().uuidString.lowercased(), reference: share.reference, recipient: details.name,
                                 kind: labels["recipient-\(share.recipientKind.rawValue)"] ?? share.recipientKind.rawValue,
                                 purpose: details.purpose, documents: documents, state: state.rawValue,
                                 stateLabel: labels["shareState-\(state.rawValue)"] ?? state.rawValue, expires: ShareWatermark.day(of: share.expiresAt),
                                 open: !state.isFinal, paused: state == .paused || state == .locked, accesses: accesses,
                                 organisation: try await shares.receivingOrganisation(of: share)?.name))
        }
        var certificateRows: [CertificateRow] = []
        for record in try await certificates.certificates(of: account) {
            let status = try await certificates.status(of: record)
            certificateRows.append(CertificateRow(id: try record.requireID().uuidString.lowercased(),
                                                  code: try await certificates.content(of: record).code, status: status.rawValue,
                                                  statusLabel: labels["certificateState-\(status.rawValue)"] ?? status.rawValue,
                                                  issued: ShareWatermark.day(of: record.createdAt), expires: ShareWatermark.day(of: record.expiresAt),
                                                  revocable: status != .revoked && status != .expired))
        }
        let documents = try await RentalFileService(req).documents(of: account).filter { $0.status != .declined }.map {
            FileWebController.Option(value: $0.id.uuidString.lowercased(), label: name($0.type) + ($0.guarantorID != nil ? " (\(labels["sharedGuarantor"] ?? ""))" : ""),
                                     selected: (submitted["documents"] ?? "").contains($0.id.uuidString.lowercased()))
        }
        let kinds = ShareRules.recipients(in: req.register).map {
            FileWebController.Option(value: $0.kind.rawValue, label: labels["recipient-\($0.kind.rawValue)"] ?? $0.kind.rawValue,
                                     selected: submitted["kind"] == $0.kind.rawValue)
        }
        let page = SharingPage(links: links, certificates: certificateRows, kinds: kinds, documents: documents,
                               // The form's names: "recipient.name" is the field "name" here.
                               errors: Dictionary(problems.map { ($0.field.replacingOccurrences(of: "recipient.", with: ""), $0.message) }) { first, _ in first },
                               hasErrors: !problems.isEmpty,
                               submitted: submitted, created: created, createdCode: createdCode, createdNotice: createdNotice,
                               verified: account.emailVerifiedAt != nil)
        let response = try await req.page("sharing", titleKey: "sharing", body: page, status: status)
        // It may show a new link's address and code: kept by no cache.
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    static func page(req: Request) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        return try await render(req, account: current.account)
    }

    struct LinkForm: Content {
        var name: String?
        var email: String?
        var kind: String?
        var purpose: String?
        var scope: String?
        var documents: [String]?
        /// A day (YYYY-MM-DD): the link lasts until the end of it (UTC), or the register's limit.
        var until: String?
        /// "on": protect the link with an access code.
        var protect: String?
    }

    static func create(req: Request) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        let language = req.webLanguage
        let form = try req.content.decode(LinkForm.self)
        var submitted = ["name": form.name ?? "", "email": form.email ?? "", "kind": form.kind ?? "", "purpose": form.purpose ?? "",
                         "until": form.until ?? "", "documents": (form.documents ?? []).joined(separator: ",")]
        submitted["scope"] = form.scope ?? "whole"
        var problems: [FieldProblem] = []
        var documentIDs: [UUID]?
        if form.scope == "chosen" {
            let ids = (form.documents ?? []).compactMap(UUID.init(uuidString:))
            if ids.isEmpty || ids.count != (form.documents ?? []).count {
                problems.append(FieldProblem(field: "documentIds", message: SharingWording(language).documentsList))
            }
            documentIDs = ids
        }
        var expiresAt: Date?
        if let until = form.until, !until.isEmpty {
            if let day = PublicationDate(until) {
                let end = day.start.addingTimeInterval(86400 - 1)
                // The last day the register allows ends at the limit itself, not at midnight.
                let kind = RecipientKind(rawValue: form.kind ?? "")
                let latest = req.register.recipients.first { $0.kind == kind && $0.sharing != nil }?.sharing?.maximum.added(to: req.dossier.clock.now)
                if let latest, end > latest, end.timeIntervalSince(latest) < 86400 { expiresAt = latest } else { expiresAt = end }
            } else {
                problems.append(FieldProblem(field: "expiresAt", message: SharingWording(language).dateTime))
            }
        }
        do {
            guard problems.isEmpty else { throw ValidationFailure(problems: problems) }
            let service = ShareService(req)
            let created = try await service.create(.init(recipientName: form.name ?? "", recipientEmail: form.email ?? "",
                                                         recipientKind: form.kind ?? "", purpose: form.purpose ?? "",
                                                         documentIDs: documentIDs, expiresAt: expiresAt, accessCode: form.protect == "on"),
                                                   for: current.account, language: language)
            let notice = try await service.receivingOrganisation(of: created.share).map { OrganisationWording(language).sharedWithOrganisation($0.name) }
            return try await render(req, account: current.account, created: service.url(token: created.token), createdCode: created.accessCode,
                                    createdNotice: notice, status: .created)
        } catch let failure as ValidationFailure {
            return try await render(req, account: current.account, problems: failure.problems, submitted: submitted, status: .unprocessableEntity)
        } catch let abort as AbortError where abort.status == .forbidden || abort.status == .conflict {
            return try await render(req, account: current.account, problems: [FieldProblem(field: "form", message: abort.reason)],
                                    submitted: submitted, status: abort.status)
        }
    }

    static func change(_ req: Request, _ change: ShareService.Change) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        let service = ShareService(req)
        guard let share = try await service.share(try req.parameters.id("share"), of: current.account) else {
            return try await render(req, account: current.account, problems: [FieldProblem(field: "form", message: SharingWording(req.webLanguage).noSuchLink)],
                                    status: .notFound)
        }
        do {
            try await service.change(share, change, by: current.account, language: req.webLanguage)
        } catch let abort as AbortError where abort.status == .conflict {
            return try await render(req, account: current.account, problems: [FieldProblem(field: "form", message: abort.reason)], status: .conflict)
        }
        return req.redirect(to: "/file/sharing#links", redirectType: .normal)
    }

    static func revoke(req: Request) async throws -> Response { try await change(req, .revoke) }
    static func pause(req: Request) async throws -> Response { try await change(req, .pause) }
    static func resume(req: Request) async throws -> Response { try await change(req, .resume) }

    struct CertificateForm: Content {
        var rent: String?
    }

    static func issue(req: Request) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        let language = req.webLanguage
        let form = try req.content.decode(CertificateForm.self)
        let text = form.rent?.trimmingCharacters(in: .whitespaces) ?? ""
        do {
            guard text.isEmpty || Int(text) != nil else {
                throw ValidationFailure(problems: [FieldProblem(field: "rent", message: language == .fr ? "Nombre entier attendu." : "Whole number expected.")])
            }
            _ = try await CertificateService(req).issue(for: current.account, rent: Int(text), language: language)
            return req.redirect(to: "/file/sharing#certificates", redirectType: .normal)
        } catch let failure as ValidationFailure {
            return try await render(req, account: current.account, problems: failure.problems, submitted: ["rent": text], status: .unprocessableEntity)
        } catch let abort as AbortError where abort.status == .forbidden || abort.status == .conflict {
            return try await render(req, account: current.account, problems: [FieldProblem(field: "rent", message: abort.reason)],
                                    submitted: ["rent": text], status: abort.status)
        }
    }

    static func ownedCertificate(_ req: Request, _ account: Account) async throws -> FileCertificateRecord? {
        try await CertificateService(req).certificate(try req.parameters.id("certificate"), of: account)
    }

    static func revokeCertificate(req: Request) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        guard let record = try await ownedCertificate(req, current.account) else {
            return try await render(req, account: current.account, problems: [FieldProblem(field: "rent", message: SharingWording(req.webLanguage).noSuchCertificate)],
                                    status: .notFound)
        }
        try await CertificateService(req).revoke(record, by: current.account)
        return req.redirect(to: "/file/sharing#certificates", redirectType: .normal)
    }

    static func certificatePDF(req: Request) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        guard let record = try await ownedCertificate(req, current.account) else {
            return try await render(req, account: current.account, problems: [FieldProblem(field: "rent", message: SharingWording(req.webLanguage).noSuchCertificate)],
                                    status: .notFound)
        }
        let pdf = try await CertificateService(req).pdf(of: record)
        return SharesController.pdfResponse(pdf, name: "certificate-\(try record.requireID().uuidString.prefix(8).lowercased()).pdf")
    }
}
