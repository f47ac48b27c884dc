import DossierCore
import Vapor

/// What every page template reads: language, words, CSRF token and the signed-in person.
struct PageContext<Body: Encodable>: Encodable {
    struct Person: Encodable {
        var firstName: String
        var email: String
        var role: String
        var verified: Bool
    }

    var lang: String
    var otherLang: String
    var title: String
    var t: [String: String]
    var csrf: String
    var account: Person?
    var path: String
    var body: Body

    init(request: Request, titleKey: String, body: Body, language: Language? = nil) {
        let language = language ?? request.webLanguage
        let labels = WebWording.labels(language)
        lang = language.rawValue
        otherLang = (language == .fr ? Language.en : .fr).rawValue
        title = labels[titleKey] ?? titleKey
        t = labels
        csrf = request.csrfToken
        account = request.authenticated.map {
            Person(firstName: $0.account.firstName, email: $0.account.email, role: $0.account.role.rawValue,
                   verified: $0.account.emailVerifiedAt != nil)
        }
        path = request.url.path
        self.body = body
    }
}

/// A page without data of its own.
struct NoBody: Encodable {}

extension Request {
    /// Whether the client asked for JSON by name, ahead of HTML (a script's `fetch`, the API's
    /// clients): a browser's `*/*` is no such request (Vapor's media types match it to JSON).
    /// A type listed with `q=0` is one the client refuses, not one it asks for.
    var prefersJSON: Bool {
        guard let json = acceptQuality("application", "json"), json > 0 else { return false }
        return json > (acceptQuality("text", "html") ?? 0)
    }

    /// Whether `Accept` names the type with a quality above 0.
    func accepts(_ type: String, _ subType: String) -> Bool {
        (acceptQuality(type, subType) ?? 0) > 0
    }

    /// The quality `Accept` gives the type by name (not by a wildcard), nil when it is not named.
    func acceptQuality(_ type: String, _ subType: String) -> Double? {
        headers.accept.first { $0.mediaType.type.lowercased() == type && $0.mediaType.subType.lowercased() == subType }
            .map { $0.q ?? 1 }
    }

    /// `?lang=`, else the signed-in account's language, else `Accept-Language`, else French.
    var webLanguage: Language {
        if let asked = query[String.self, at: "lang"], let language = Language(rawValue: asked) { return language }
        if let account = authenticated?.account { return account.language }
        return headers.first(name: .acceptLanguage).flatMap(Language.preferred(fromAcceptLanguage:)) ?? .fr
    }

    func page<Body: Encodable>(_ template: String, titleKey: String, body: Body, status: HTTPResponseStatus = .ok,
                               language: Language? = nil) async throws -> Response {
        let context = PageContext(request: self, titleKey: titleKey, body: body, language: language)
        let response = try await view.render(template, context).encodeResponse(for: self)
        response.status = status
        return response
    }
}
