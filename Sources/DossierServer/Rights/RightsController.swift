import DossierCore
import Vapor

/// The data-subject rights of the signed-in person: the API and the pages, over the rights'
/// services (`AccessService`).
struct RightsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let me = routes.grouped("api", "v1").grouped(BearerAuthMiddleware()).grouped("me")
        me.get("access", use: Self.access).access(.signedIn)
        me.get("export", use: Self.export).access(.signedIn)
        routes.grouped("api", "v1").grouped(BearerAuthMiddleware()).delete("me", use: Self.erase).access(.signedIn)
        me.get("restriction", use: Self.restriction).access(.signedIn)
        me.post("restriction", use: Self.restrict).access(.signedIn)
        me.delete("restriction", use: Self.lift).access(.signedIn)
        me.get("consents", use: Self.consents).access(.signedIn)
        me.post("consents", use: Self.giveConsent).access(.signedIn)
        me.delete("consents", ":purpose", use: Self.withdrawConsent).access(.signedIn)
        me.get("objections", use: Self.objections).access(.signedIn)
        me.post("objections", use: Self.object).access(.signedIn)
        let web = routes.grouped(WebSessionMiddleware(), CSRFMiddleware())
        web.get("account", "data", use: Self.page).access(.signedIn)
        // A form (POST, CSRF token): another site cannot make a browser export (and use up its
        // exports of the hour).
        web.post("account", "export", use: Self.webExport).access(.signedIn)
        web.get("account", "delete", use: Self.deletionPage).access(.signedIn)
        web.post("account", "delete", use: Self.webErase).access(.signedIn)
        web.post("account", "restriction", use: Self.webRestrict).access(.signedIn)
        web.post("account", "restriction", "lift", use: Self.webLift).access(.signedIn)
        web.post("account", "consents", use: Self.webConsent).access(.signedIn)
        web.post("account", "objections", use: Self.webObject).access(.signedIn)
    }

    /// A form of the account page refused (409, 422): the reason, with the way back.
    static func refusal(_ req: Request, _ error: any AbortError) async throws -> Response {
        try await req.page("message", titleKey: "account", body: MessageBody(text: error.reason, link: "/account"), status: error.status)
    }

    // MARK: Consents (Art. 7) and objections (Art. 21)

    struct ConsentBody: Content {
        var purpose: String
    }

    struct ObjectionBody: Content {
        var purpose: String
    }

    static func consents(req: Request) async throws -> [ConsentService.ConsentState] {
        let account = try req.requireAuthenticated().account
        return try await ConsentService(req).consents(of: account, language: account.language)
    }

    /// 201 when given now, 200 when it already was.
    static func giveConsent(req: Request) async throws -> Response {
        let account = try req.requireAuthenticated().account
        let body = try req.decodeBody(ConsentBody.self, language: account.language)
        let (state, created) = try await ConsentService(req).give(account, purpose: body.purpose, language: account.language)
        return try await state.encodeResponse(status: created ? .created : .ok, for: req)
    }

    static func withdrawConsent(req: Request) async throws -> HTTPStatus {
        let account = try req.requireAuthenticated().account
        let purpose = req.parameters.get("purpose") ?? ""
        try await ConsentService(req).withdraw(account, purpose: purpose, language: account.language)
        return .noContent
    }

    static func objections(req: Request) async throws -> [ConsentService.ObjectionState] {
        let account = try req.requireAuthenticated().account
        return try await ConsentService(req).objections(of: account, language: account.language)
    }

    /// 201 upheld (direct marketing) or 202 to review (legitimate interests); 200 when already made.
    static func object(req: Request) async throws -> Response {
        let account = try req.requireAuthenticated().account
        let body = try req.decodeBody(ObjectionBody.self, language: account.language)
        let (state, created) = try await ConsentService(req).object(account, purpose: body.purpose, language: account.language)
        let status: HTTPStatus = !created ? .ok : state.outcome == ObjectionRules.Outcome.upheld.rawValue ? .created : .accepted
        return try await state.encodeResponse(status: status, for: req)
    }

    struct ConsentForm: Content {
        var purpose: String?
        /// "give" or "withdraw".
        var action: String?
    }

    static func webConsent(req: Request) async throws -> Response {
        guard let account = req.authenticated?.account else { return req.redirect(to: "/signin") }
        let form = (try? req.content.decode(ConsentForm.self)) ?? ConsentForm()
        let service = ConsentService(req)
        do {
            switch form.action {
            case "withdraw": try await service.withdraw(account, purpose: form.purpose ?? "", language: req.webLanguage)
            case "give": _ = try await service.give(account, purpose: form.purpose ?? "", language: req.webLanguage)
            default: throw Abort(.unprocessableEntity, reason: req.webLanguage == .fr ? "Action inconnue." : "Unknown action.")
            }
        } catch let error as any AbortError where [.conflict, .unprocessableEntity].contains(error.status) {
            return try await refusal(req, error)
        }
        return req.redirect(to: "/account#consents", redirectType: .normal)
    }

    static func webObject(req: Request) async throws -> Response {
        guard let account = req.authenticated?.account else { return req.redirect(to: "/signin") }
        let form = (try? req.content.decode(ConsentForm.self)) ?? ConsentForm()
        do {
            _ = try await ConsentService(req).object(account, purpose: form.purpose ?? "", language: req.webLanguage)
        } catch let error as any AbortError where [.conflict, .unprocessableEntity].contains(error.status) {
            return try await refusal(req, error)
        }
        return req.redirect(to: "/account#objections", redirectType: .normal)
    }

    // MARK: Restriction (Art. 18)

    static func restriction(req: Request) async throws -> RestrictionService.State {
        try await RestrictionService(req).state(of: try req.requireAuthenticated().account)
    }

    /// 201 when restricted now, 200 when it already was.
    static func restrict(req: Request) async throws -> Response {
        let account = try req.requireAuthenticated().account
        let (state, created) = try await RestrictionService(req).restrict(account, language: account.language)
        return try await state.encodeResponse(status: created ? .created : .ok, for: req)
    }

    static func lift(req: Request) async throws -> HTTPStatus {
        let account = try req.requireAuthenticated().account
        try await RestrictionService(req).lift(account, language: account.language)
        return .noContent
    }

    static func webRestrict(req: Request) async throws -> Response {
        guard let account = req.authenticated?.account else { return req.redirect(to: "/signin") }
        do {
            _ = try await RestrictionService(req).restrict(account, language: req.webLanguage)
        } catch let error as any AbortError where error.status == .conflict {
            return try await refusal(req, error)
        }
        return req.redirect(to: "/account", redirectType: .normal)
    }

    static func webLift(req: Request) async throws -> Response {
        guard let account = req.authenticated?.account else { return req.redirect(to: "/signin") }
        do {
            try await RestrictionService(req).lift(account, language: req.webLanguage)
        } catch let error as any AbortError where error.status == .conflict {
            return try await refusal(req, error)
        }
        return req.redirect(to: "/account", redirectType: .normal)
    }

    // MARK: Erasure (Art. 17)

    /// The receipt, as JSON: the erasure is done (the token that asked no longer works).
    static func erase(req: Request) async throws -> Response {
        let account = try req.requireAuthenticated().account
        let receipt = try await ErasureService(req).erase(account, language: account.language)
        let response = Response(status: .ok)
        try response.content.encode(receipt, as: .json)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    struct ReceiptPage: Encodable {
        struct Erased: Encodable {
            var label: String
            var count: Int
        }

        struct Kept: Encodable {
            var category: String
            var purpose: String
            var what: String
            var reason: String
            var until: String
            var readable: Bool
        }

        var reference: String?
        var day: String
        var erased: [Erased]
        var kept: [Kept]
        /// The confirmation page: the form's error, if any.
        var error: String?
    }

    static func receiptPage(_ receipt: ErasurePlan.Receipt, error: String? = nil) -> ReceiptPage {
        ReceiptPage(reference: receipt.reference.isEmpty ? nil : receipt.reference, day: ShareWatermark.day(of: receipt.erasedAt),
                    erased: receipt.erased.map { .init(label: $0.label, count: $0.count) },
                    kept: receipt.kept.map { .init(category: $0.category.name, purpose: $0.purpose.name, what: $0.what, reason: $0.reason,
                                                   until: ShareWatermark.day(of: $0.until), readable: $0.readable) },
                    error: error)
    }

    /// What deleting the account would erase and keep, and the form that confirms it.
    static func deletionPage(req: Request) async throws -> Response {
        guard let account = req.authenticated?.account else { return req.redirect(to: "/signin") }
        let preview = try await ErasureService(req).preview(of: account, language: req.webLanguage)
        let response = try await req.page("account-delete", titleKey: "accountDelete", body: receiptPage(preview))
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    struct DeletionForm: Content {
        var password: String?
    }

    /// Wrong passwords a session may type here in an hour (the session is already signed in:
    /// this only keeps a borrowed browser from deleting an account).
    static let passwordAttemptsPerHour = 5

    /// The password confirms it; the page then shows the receipt, signed out.
    static func webErase(req: Request) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        let account = current.account
        let language = req.webLanguage
        let words = RightsWording(language)
        let form = (try? req.content.decode(DeletionForm.self)) ?? DeletionForm()
        let service = ErasureService(req)
        let ledger = ThrottleLedger(database: req.db)
        let attempts = ThrottleLedger.Key("erase-password", account.subject)
        let now = req.dossier.clock.now
        func again(_ error: String, status: HTTPStatus) async throws -> Response {
            let preview = try await service.preview(of: account, language: language)
            return try await req.page("account-delete", titleKey: "accountDelete", body: receiptPage(preview, error: error), status: status)
        }
        guard try await ledger.times(attempts, since: now - 3600).count < passwordAttemptsPerHour else {
            return try await again(AccountWording(language).throttled(minutes: 60), status: .tooManyRequests)
        }
        guard let password = form.password, !password.isEmpty, password.utf8.count <= 1024,
              try await req.password.async.verify(password, created: account.passwordHash) else {
            try await ledger.record([attempts], at: now)
            return try await again(words.wrongPassword, status: .unprocessableEntity)
        }
        let receipt: ErasurePlan.Receipt
        do {
            receipt = try await service.erase(account, language: language)
        } catch let error as any AbortError where error.status == .conflict {
            return try await again(error.reason, status: .conflict)
        }
        let response = try await req.page("account-deleted", titleKey: "accountDeleted", body: receiptPage(receipt))
        response.cookies[WebCookie.session] = WebCookie.make("", secure: req.dossier.configuration.usesHTTPS, sameSite: .lax, maxAge: 0)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    struct AccessBody: Content {
        var generatedAt: Date
        var entries: [AccessReport.Entry]
    }

    static func access(req: Request) async throws -> Response {
        let account = try req.requireAuthenticated().account
        let report = try await AccessService(req).report(for: account, language: account.language)
        let response = try await AccessBody(generatedAt: report.generatedAt, entries: report.entries).encodeResponse(for: req)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    /// The portability ZIP, as a download that no cache keeps.
    static func exportResponse(_ req: Request, account: Account, language: Language) async throws -> Response {
        let zip = try await ExportService(req).archive(for: account, language: language)
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "application/zip")
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"dossier-export-\(ShareWatermark.day(of: req.dossier.clock.now)).zip\"")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        return Response(status: .ok, headers: headers, body: .init(data: zip))
    }

    static func export(req: Request) async throws -> Response {
        let account = try req.requireAuthenticated().account
        return try await exportResponse(req, account: account, language: account.language)
    }

    static func webExport(req: Request) async throws -> Response {
        guard let account = req.authenticated?.account else { return req.redirect(to: "/signin") }
        do {
            return try await exportResponse(req, account: account, language: req.webLanguage)
        } catch let throttled as Throttled {
            let response = try await req.page("message", titleKey: "accountData", body: MessageBody(text: throttled.reason), status: throttled.status)
            response.headers.add(contentsOf: throttled.headers)
            return response
        }
    }

    struct Page: Encodable {
        struct Row: Encodable {
            var kind: String
            var label: String
            var purpose: String
            var bases: String
            var recipients: String
            var retention: [Line]
        }

        struct Line: Encodable {
            var category: String
            var rule: String
            var ends: String?
            var then: String
            var archivedUntil: String?
        }

        var generated: String
        var rows: [Row]
    }

    static func page(req: Request) async throws -> Response {
        guard let account = req.authenticated?.account else { return req.redirect(to: "/signin") }
        let language = req.webLanguage
        let words = RightsWording(language)
        let report = try await AccessService(req).report(for: account, language: language)
        let rows = report.entries.map { entry in
            Page.Row(kind: entry.kind, label: entry.label, purpose: entry.purpose.name, bases: entry.legalBases.joined(separator: ", "),
                     recipients: entry.recipients.map(\.name).joined(separator: ", "),
                     retention: entry.retention.map { line in
                         Page.Line(category: line.category.name, rule: line.rule, ends: line.endsAt.map(ShareWatermark.day(of:)),
                                   then: line.then == "archive" ? words.thenArchive : line.then == "anonymise" ? words.thenAnonymise : words.thenDelete,
                                   archivedUntil: line.archivedUntil.map(ShareWatermark.day(of:)))
                     })
        }
        let response = try await req.page("account-data", titleKey: "accountData",
                                          body: Page(generated: ShareWatermark.day(of: report.generatedAt), rows: rows))
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }
}

extension RightsController.ConsentBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([.required("purpose", Schema.choice(ConsentRules.purposes(in: context.register).map(\.id))
                .described("A purpose of the register based on consent"))])
    }
}

extension RightsController.ObjectionBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([.required("purpose", Schema.choice(context.register.purposes.filter { ObjectionRules.outcome(for: $0) != nil }.map(\.id))
                .described("A purpose of the register that rests on legitimate interests, or direct marketing (others: 422, with why)"))])
    }
}
