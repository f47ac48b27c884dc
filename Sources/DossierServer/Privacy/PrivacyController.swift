import DossierCore
import Fluent
import Vapor

/// The published privacy policy, rendered from the register, and its earlier versions.
struct PrivacyController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("privacy", use: Self.policy).access(.anyone)
        routes.get("privacy", "versions", use: Self.versions).access(.anyone)
        routes.get("privacy", "versions", ":version", use: Self.version).access(.anyone)
    }

    /// `GET /privacy?lang=fr|en`: the policy now in force, in the asked or preferred language.
    static func policy(req: Request) async throws -> View {
        let language = try req.policyLanguage()
        let document = PolicyDocument(register: req.register, language: language, capabilities: req.capabilities)
        return try await req.view.render(PolicyPage.template, PolicyPageContext(document: document))
    }

    struct VersionSummary: Content {
        var version: String
        var effectiveDate: String
        var publishedAt: Date
        var digest: String
        var url: String
    }

    /// `GET /privacy/versions`: every version this server has published, newest first,
    /// as JSON when asked for, else as a page.
    static func versions(req: Request) async throws -> Response {
        let versions = try await PolicyVersion.query(on: req.db).sort(\.$publishedAt, .descending).all()
        let summaries = versions.map {
            VersionSummary(version: $0.version, effectiveDate: $0.effectiveDate, publishedAt: $0.publishedAt,
                           digest: $0.digest, url: "/privacy/versions/\($0.version)")
        }
        // Checked for JSON too: a `lang` that is not understood is refused, not ignored.
        let language = try req.policyLanguage()
        // One address, two forms: caches keep them apart by Accept.
        let response: Response
        if req.prefersJSON {
            response = try await summaries.encodeResponse(for: req)
        } else {
            let context = VersionsPageContext(
                lang: language.rawValue, title: Wording(language).labels["versions"] ?? "", versions: summaries,
                labels: Wording(language).labels
            )
            response = try await req.view.render("versions", context).encodeResponse(for: req)
        }
        response.headers.add(name: .vary, value: "Accept")
        return response
    }

    /// `GET /privacy/versions/{version}`: a published version, rendered from its own register text.
    static func version(req: Request) async throws -> View {
        let number = try req.parameters.require("version")
        guard let stored = try await PolicyVersion.query(on: req.db).filter(\.$version == number).first() else {
            throw Abort(.notFound, reason: "No published policy version '\(number)'.")
        }
        let loaded = try RegisterLoader.load(yaml: stored.registerYAML, file: "version \(number)")
        // As it was published: with the capabilities of the build that published it.
        let document = PolicyDocument(register: loaded.register, language: try req.policyLanguage(),
                                      capabilities: stored.capabilities ?? req.capabilities)
        return try await req.view.render(PolicyPage.template, PolicyPageContext(document: document, isArchived: true))
    }
}

struct VersionsPageContext: Encodable {
    var lang: String
    var title: String
    var versions: [PrivacyController.VersionSummary]
    var labels: [String: String]
}

extension Request {
    /// `?lang=` when given (and valid), else the best of `Accept-Language`, else French.
    func policyLanguage() throws -> Language {
        // Every `lang` of the query, so that a repeated or undecodable one is refused, not skipped.
        let asked = (url.query ?? "").split(separator: "&").compactMap { pair -> URLQueryItem? in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard decode(parts[0]) == "lang" else { return nil }
            return URLQueryItem(name: "lang", value: parts.count > 1 ? decode(parts[1]) : nil)
        }
        if !asked.isEmpty {
            guard asked.count == 1 else { throw Abort(.badRequest, reason: "Give the language once (lang=fr or lang=en).") }
            guard let language = asked[0].value.flatMap(Language.init(rawValue:)) else {
                throw Abort(.badRequest, reason: "Unsupported language '\(asked[0].value?.prefix(20) ?? "")'; expected one of: fr, en.")
            }
            return language
        }
        return headers.first(name: .acceptLanguage).flatMap(Language.preferred(fromAcceptLanguage:)) ?? .fr
    }
}
