import DossierCore
import Fluent
import Vapor

/// Share links: the tenant's API (create, list, pause, resume, revoke, access log) and the
/// recipient's pages and downloads under `/s/{token}`. Both translate to `ShareService`.
struct SharesController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let me = routes.grouped("api", "v1").grouped(BearerAuthMiddleware()).grouped("me")
        me.post("shares", use: Self.create).access(.signedIn)
        me.get("shares", use: Self.list).access(.signedIn)
        me.delete("shares", ":share", use: Self.revoke).access(.owner)
        me.post("shares", ":share", "pause", use: Self.pause).access(.owner)
        me.post("shares", ":share", "resume", use: Self.resume).access(.owner)
        me.get("shares", ":share", "accesses", use: Self.accesses).access(.owner)

        // The token is the credential: whoever holds the link, signed in or not. (CSRF: the form
        // that takes an access code.)
        let link = routes.grouped(WebSessionMiddleware(), CSRFMiddleware()).grouped("s", ":token")
        link.get(use: Self.recipientPage).access(.linkHolder)
        link.post("code", use: Self.enterCode).access(.linkHolder)
        link.get("documents", ":document", use: Self.recipientDocument).access(.linkHolder)
        link.get("file.pdf", use: Self.recipientFilePDF).access(.linkHolder)
        link.get("file.zip", use: Self.recipientFileZIP).access(.linkHolder)
    }

    // MARK: The tenant's API

    struct NewShareBody: Content {
        struct Recipient: Content {
            var name: String
            var email: String
            var kind: String
        }

        var recipient: Recipient
        var purpose: String
        var documentIds: [UUID]?
        /// RFC 3339, with or without fractional seconds (read by `expiry`).
        var expiresAt: String?
        /// Protect the link with a 6-digit access code (given in the answer, once).
        var accessCode: Bool?
        /// `"documentIds": null` was sent: refused, never read as "the whole file".
        var documentIdsIsNull = false

        enum CodingKeys: String, CodingKey {
            case recipient, purpose, documentIds, expiresAt, accessCode
        }

        init(recipient: Recipient, purpose: String, documentIds: [UUID]?, expiresAt: Date?) {
            self.recipient = recipient
            self.purpose = purpose
            self.documentIds = documentIds
            self.expiresAt = expiresAt.map { ISO8601DateFormatter().string(from: $0) }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            recipient = try container.decode(Recipient.self, forKey: .recipient)
            purpose = try container.decode(String.self, forKey: .purpose)
            if container.contains(.documentIds), try container.decodeNil(forKey: .documentIds) {
                documentIdsIsNull = true
            } else {
                documentIds = try container.decodeIfPresent([UUID].self, forKey: .documentIds)
            }
            expiresAt = try container.decodeIfPresent(String.self, forKey: .expiresAt)
            accessCode = try container.decodeIfPresent(Bool.self, forKey: .accessCode)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(recipient, forKey: .recipient)
            try container.encode(purpose, forKey: .purpose)
            try container.encodeIfPresent(documentIds, forKey: .documentIds)
            try container.encodeIfPresent(expiresAt, forKey: .expiresAt)
            try container.encodeIfPresent(accessCode, forKey: .accessCode)
        }

        /// The expiry asked for: nil when absent; a problem when it is not an RFC 3339 date-time.
        func expiry(language: Language) -> Result<Date?, ValidationFailure> {
            guard let expiresAt else { return .success(nil) }
            let text = expiresAt.uppercased()
            let plain = ISO8601DateFormatter()
            let fractional = ISO8601DateFormatter()
            fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            guard let date = plain.date(from: text) ?? fractional.date(from: text) else {
                return .failure(ValidationFailure(problems: [FieldProblem(field: "expiresAt", message: SharingWording(language).dateTime)]))
            }
            return .success(date)
        }
    }

    struct ShareBody: Content {
        struct Recipient: Content {
            var name: String
            var email: String
            var kind: RecipientKind
        }

        var id: UUID
        /// The link's address: given once, at creation (only its hash is kept).
        var url: String?
        /// Its access code, given once, at creation, when it has one.
        var accessCode: String?
        /// Whether a recipient must type an access code.
        var protected: Bool
        var reference: String
        var recipient: Recipient
        var purpose: String
        var wholeFile: Bool
        var documentIds: [UUID]
        var state: ShareState
        var createdAt: Date
        var expiresAt: Date
        var accesses: Int
        /// The recipient organisation whose address this is: its members open the link from
        /// their inbox, signed in, without the access code.
        var organisation: String?
    }

    struct AccessBody: Content {
        var at: Date
        var action: ShareAccess.Action
        var documentId: UUID?
        var documentType: String?
        /// Through an organisation's inbox: the member who looked.
        var viewer: Viewer?

        struct Viewer: Content {
            var name: String
            var organisation: String
        }
    }

    static func body(_ share: Share, _ service: ShareService, url: String? = nil, accessCode: String? = nil) async throws -> ShareBody {
        let details = try await service.details(of: share)
        return ShareBody(id: try share.requireID(), url: url, accessCode: accessCode, protected: share.codeHash != nil, reference: share.reference,
                         recipient: .init(name: details.name, email: details.email, kind: share.recipientKind),
                         purpose: details.purpose, wholeFile: share.wholeFile,
                         documentIds: share.wholeFile ? [] : try await service.chosenDocuments(of: share),
                         state: share.state(at: service.clock.now), createdAt: share.createdAt, expiresAt: share.expiresAt,
                         accesses: try await ShareAccess.query(on: service.database).filter(\.$share.$id == share.requireID()).count(),
                         organisation: try await service.receivingOrganisation(of: share)?.name)
    }

    static func create(req: Request) async throws -> Response {
        let account = try req.requireAuthenticated().account
        let input = try req.decodeBody(NewShareBody.self, language: account.language)
        guard !input.documentIdsIsNull else {
            throw ValidationFailure(problems: [FieldProblem(field: "documentIds", message: SharingWording(account.language).documentsList)])
        }
        let expiresAt = try input.expiry(language: account.language).get()
        let service = ShareService(req)
        let created = try await service.create(.init(recipientName: input.recipient.name, recipientEmail: input.recipient.email,
                                                     recipientKind: input.recipient.kind, purpose: input.purpose,
                                                     documentIDs: input.documentIds, expiresAt: expiresAt, accessCode: input.accessCode ?? false),
                                               for: account, language: account.language)
        return try await body(created.share, service, url: service.url(token: created.token), accessCode: created.accessCode)
            .encodeResponse(status: .created, for: req)
    }

    static func list(req: Request) async throws -> [ShareBody] {
        let service = ShareService(req)
        var result: [ShareBody] = []
        for share in try await service.shares(of: req.requireAuthenticated().account) {
            result.append(try await body(share, service))
        }
        return result
    }

    static func owned(_ req: Request) async throws -> (Share, ShareService, Account) {
        let account = try req.requireAuthenticated().account
        let service = ShareService(req)
        guard let share = try await service.share(try req.parameters.id("share"), of: account) else {
            throw Abort(.notFound, reason: "No such share.")
        }
        return (share, service, account)
    }

    static func revoke(req: Request) async throws -> HTTPStatus {
        let (share, service, account) = try await owned(req)
        try await service.change(share, .revoke, by: account, language: account.language)
        return .noContent
    }

    static func pause(req: Request) async throws -> ShareBody {
        let (share, service, account) = try await owned(req)
        try await service.change(share, .pause, by: account, language: account.language)
        return try await body(share, service)
    }

    static func resume(req: Request) async throws -> ShareBody {
        let (share, service, account) = try await owned(req)
        try await service.change(share, .resume, by: account, language: account.language)
        return try await body(share, service)
    }

    static func accesses(req: Request) async throws -> [AccessBody] {
        let (share, service, _) = try await owned(req)
        var result: [AccessBody] = []
        for access in try await service.accesses(of: share) {
            let viewer = try await service.viewer(of: access, share: share)
            result.append(AccessBody(at: access.occurredAt, action: access.action, documentId: access.documentID, documentType: access.documentType,
                                     viewer: viewer.map { .init(name: $0.name, organisation: $0.organisation) }))
        }
        return result
    }

    // MARK: The recipient's pages

    struct RecipientPage: Encodable {
        struct Item: Encodable {
            var id: String
            var name: String
            var guarantor: Bool
            var validated: Bool
        }

        /// Where the page's documents are: the link's address, or the organisation's inbox.
        var base: String
        var tenant: String
        var recipient: String
        var purpose: String
        var reference: String
        var expires: String
        var documents: [Item]
    }

    /// The link the path names, serving; else the page that says why (404, 410, 403, 429).
    static func resolve(_ req: Request) async throws -> Result<(Share, ShareService), ShareService.Refusal> {
        let service = ShareService(req)
        do {
            return .success((try await service.resolve(token: req.parameters.get("token") ?? "", client: req.clientAddress,
                                                       language: req.webLanguage), service))
        } catch let refusal as ShareService.Refusal {
            return .failure(refusal)
        }
    }

    /// A page or a download answered: it ended the request.
    struct Answered: Error {
        let response: Response
    }

    /// The link the path names, serving, and (unless `askingCode` is false) its access code given
    /// if it has one; else the page that answers instead (the refusal, or the code asked).
    static func admitted(_ req: Request, askingCode: Bool = true) async throws -> Result<(Share, ShareService), Answered> {
        switch try await resolve(req) {
        case let .failure(refusal):
            return .failure(Answered(response: try await refusalPage(req, refusal)))
        case let .success((share, service)):
            if askingCode, let asked = try await admission(req, share, service) { return .failure(Answered(response: asked)) }
            return .success((share, service))
        }
    }

    static func refusalPage(_ req: Request, _ refusal: ShareService.Refusal) async throws -> Response {
        let response = try await req.page("message", titleKey: "linkProblem", body: MessageBody(text: refusal.reason), status: refusal.status)
        for (name, value) in refusal.headers { response.headers.replaceOrAdd(name: name, value: value) }
        return private_(response)
    }

    /// What a recipient gets is theirs alone: not cached, not indexed, and the link (a secret)
    /// not passed on as a referrer.
    static func private_(_ response: Response) -> Response {
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        response.headers.replaceOrAdd(name: "Referrer-Policy", value: "no-referrer")
        response.headers.replaceOrAdd(name: "X-Robots-Tag", value: "noindex, nofollow")
        return response
    }

    struct CodePage: Encodable {
        /// Where the form sends the code: the link's `/code`, or the inbox file's.
        var action: String
        var message: String
        var wrong: Bool
    }

    /// nil when the recipient may see the link (no code, or its proof, or the right code in
    /// `X-Access-Code`); else the page that asks for the code (401), or says the link locked (403).
    static func admission(_ req: Request, _ share: Share, _ service: ShareService) async throws -> Response? {
        let language = req.webLanguage
        // A code that cannot be one is refused as such, whether the link asks for one or not.
        if let sent = req.headers.first(name: "X-Access-Code"), !ShareRules.isAccessCode(sent) {
            let response = try await req.page("message", titleKey: "linkProblem", body: MessageBody(text: SharingWording(language).codeFormat),
                                              status: .badRequest)
            return private_(response)
        }
        do {
            let check = try await service.checkCode(share, code: req.headers.first(name: "X-Access-Code"),
                                                    proof: req.cookies[ShareService.codeCookie(share)]?.string, language: language)
            guard case let .asked(wrong, left) = check else { return nil }
            return try await codePage(req, wrong: wrong, left: left)
        } catch let refusal as ShareService.Refusal {
            return try await refusalPage(req, refusal)
        }
    }

    static func codePage(_ req: Request, wrong: Bool, left: Int, action: String? = nil) async throws -> Response {
        let page = CodePage(action: action ?? "/s/\(req.parameters.get("token") ?? "")/code",
                            message: SharingWording(req.webLanguage).codeAsked(wrong: wrong, triesLeft: left), wrong: wrong)
        return private_(try await req.page("share-code", titleKey: "sharedFile", body: page, status: .unauthorized))
    }

    struct CodeForm: Content {
        var code: String?
    }

    /// The access code typed: right, a cookie proves it for the link's life; wrong, it counts.
    static func enterCode(req: Request) async throws -> Response {
        let (share, service): (Share, ShareService)
        switch try await admitted(req, askingCode: false) {
        case let .success(found): (share, service) = found
        case let .failure(answered): return answered.response
        }
        let token = req.parameters.get("token") ?? ""
        let typed = (try? req.content.decode(CodeForm.self))?.code?.trimmingCharacters(in: .whitespaces) ?? ""
        do {
            switch try await service.checkCode(share, code: typed, proof: nil, language: req.webLanguage) {
            case .admitted:
                let response = req.redirect(to: "/s/\(token)", redirectType: .normal)
                let maxAge = Int(max(60, share.expiresAt.timeIntervalSince(service.clock.now)))
                response.cookies[ShareService.codeCookie(share)] = HTTPCookies.Value(
                    string: try service.codeProof(for: share), maxAge: maxAge, path: "/s/\(token)",
                    isSecure: req.dossier.configuration.usesHTTPS, isHTTPOnly: true, sameSite: .strict)
                return private_(response)
            case let .asked(wrong, left):
                return try await codePage(req, wrong: wrong, left: left)
            }
        } catch let refusal as ShareService.Refusal {
            return try await refusalPage(req, refusal)
        }
    }

    static func recipientPage(req: Request) async throws -> Response {
        let (share, service): (Share, ShareService)
        switch try await admitted(req) {
        case let .success(found): (share, service) = found
        case let .failure(answered): return answered.response
        }
        // The tenant's language, unless the recipient chose the other one.
        let language = (try? req.query.get(String.self, at: "lang")).flatMap(Language.init(rawValue:)) ?? share.language
        return try await page(req, share: share, service: service, base: "/s/" + (req.parameters.get("token") ?? ""), language: language)
    }

    /// The page of what a link shares, for its recipient: through the link itself, or from an
    /// organisation's inbox (`viewer`: the member), its documents under `base`. The view is
    /// logged before the page leaves.
    static func page(_ req: Request, share: Share, service: ShareService, base: String, language: Language,
                     viewer: (account: Account, seen: ShareViewer)? = nil) async throws -> Response {
        let owner = try await Account.find(share.$account.id, on: req.db)
        let documents = try await service.documents(for: share, owner: owner)
        let details = try await service.details(of: share)
        let catalogue = req.dossier.catalogue
        let items = documents.map { document in
            RecipientPage.Item(id: document.id.uuidString.lowercased(), name: catalogue.name(of: document.type, in: language),
                               guarantor: document.guarantorID != nil, validated: document.status == .validated)
        }
        try await service.record(.view, through: share, viewer: viewer)
        let page = RecipientPage(base: base, tenant: owner.map { "\($0.firstName) \($0.lastName)" } ?? "",
                                 recipient: details.name, purpose: details.purpose, reference: share.reference,
                                 expires: ShareWatermark.day(of: share.expiresAt), documents: items)
        return private_(try await req.page("share", titleKey: "sharedFile", body: page, language: language))
    }

    static func pdfResponse(_ data: Data, name: String, type: String = "application/pdf") -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: type)
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(name)\"")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        headers.replaceOrAdd(name: "Content-Security-Policy", value: DocumentSecurity.contentPolicy)
        return private_(Response(status: .ok, headers: headers, body: .init(data: data)))
    }

    static func recipientDocument(req: Request) async throws -> Response {
        let (share, service): (Share, ShareService)
        switch try await admitted(req) {
        case let .success(found): (share, service) = found
        case let .failure(answered): return answered.response
        }
        // A document outside the link (another's, or not chosen) answers as a missing one.
        guard let id = UUID(uuidString: req.parameters.get("document") ?? ""),
              let document = try await service.documents(for: share).first(where: { $0.id == id }) else {
            return try await refusalPage(req, .init(status: .notFound, reason: SharingWording(share.language).noSuchDocument, state: nil))
        }
        let pdf = try await service.rendition(of: document, through: share)
        try await service.record(.document, through: share, document: document)
        return pdfResponse(pdf, name: "\(document.type)-\(share.reference).pdf")
    }

    static func recipientFilePDF(req: Request) async throws -> Response {
        let (share, service): (Share, ShareService)
        switch try await admitted(req) {
        case let .success(found): (share, service) = found
        case let .failure(answered): return answered.response
        }
        let pdf = try await service.wholeFile(try await service.documents(for: share), through: share)
        try await service.record(.filePDF, through: share)
        return pdfResponse(pdf, name: "dossier-\(share.reference).pdf")
    }

    static func recipientFileZIP(req: Request) async throws -> Response {
        let (share, service): (Share, ShareService)
        switch try await admitted(req) {
        case let .success(found): (share, service) = found
        case let .failure(answered): return answered.response
        }
        let zip = try await service.archive(try await service.documents(for: share), through: share)
        try await service.record(.fileZIP, through: share)
        return pdfResponse(zip, name: "dossier-\(share.reference).zip", type: "application/zip")
    }
}

extension SharesController.NewShareBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        let kinds = ShareRules.recipients(in: context.register).map(\.kind.rawValue)
        return .object([
            .required("recipient", .object([
                .required("name", .typed(maxLength: ShareRules.maximumNameLength, required: true)),
                .required("email", .string(maxLength: EmailAddress.maximumLength, pattern: EmailAddress.pattern)),
                .required("kind", .choice(kinds)),
            ])),
            .required("purpose", .typed(maxLength: ShareRules.maximumPurposeLength, required: true)
                .described("Why the recipient receives the file (a visit, an application): written on every page")),
            .optional("documentIds", .array(.uuid, minItems: 1, maxItems: 100, unique: true)
                .described("The documents shared; absent for the whole file (as it is when the recipient looks)")),
            .optional("expiresAt", .nullable(.dateTime).described("When the link ends: 30 days by default, never beyond what the register allows for the recipient")),
            .optional("accessCode", .nullable(.boolean).described("Protect the link with a 6-digit access code, given once in the answer, for the recipient "
                                                       + "apart from the link; \(ShareRules.maximumCodeFailures) wrong codes in an hour lock it")),
        ])
    }
}
