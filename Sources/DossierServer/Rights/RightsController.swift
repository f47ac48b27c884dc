import DossierCore
import Vapor

/// The data-subject rights of the signed-in person: the API and the pages, over the rights'
/// services (`AccessService`).
struct RightsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let me = routes.grouped("api", "v1").grouped(BearerAuthMiddleware()).grouped("me")
        me.get("access", use: Self.access).access(.signedIn)
        me.get("export", use: Self.export).access(.signedIn)
        let web = routes.grouped(WebSessionMiddleware(), CSRFMiddleware())
        web.get("account", "data", use: Self.page).access(.signedIn)
        // A form (POST, CSRF token): another site cannot make a browser export (and use up its
        // exports of the hour).
        web.post("account", "export", use: Self.webExport).access(.signedIn)
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
