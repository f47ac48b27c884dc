import DossierCore
import Vapor

/// Cookie names, as the register's cookie list declares them.
enum WebCookie {
    static let session = "dossier_session"
    static let csrf = "dossier_csrf"

    static func make(_ value: String, secure: Bool, sameSite: HTTPCookies.SameSitePolicy, maxAge: Int? = nil) -> HTTPCookies.Value {
        HTTPCookies.Value(string: value, maxAge: maxAge, path: "/", isSecure: secure, isHTTPOnly: true, sameSite: sameSite)
    }
}

/// Opens the browser's session from its cookie, when there is a live one.
struct WebSessionMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if let token = request.cookies[WebCookie.session]?.string,
           let (session, account) = try await AccountService(request).authenticate(token: token, kind: .web) {
            request.authenticated = Authenticated(session: session, account: account)
        }
        return try await next.respond(to: request)
    }
}

/// Double-submit CSRF protection for forms: every page gets a random token in an HttpOnly,
/// SameSite=Strict cookie and in its forms; a POST whose form token does not match is refused.
struct CSRFMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let existing = request.cookies[WebCookie.csrf].map(\.string).flatMap { $0.count >= 32 ? $0 : nil }
        if request.method == .POST {
            // Scripts send the token in a header; forms in a field. A multipart form's body is
            // only read by its route, which checks the field itself (see `verifyMultipartCSRF`).
            let isMultipart = request.headers.contentType?.type == "multipart"
            if isMultipart && request.headers.first(name: Self.header) == nil {
                request.csrfToken = existing ?? ""
                request.csrfCookie = existing
                return try await next.respond(to: request)
            }
            let sent = request.headers.first(name: Self.header) ?? (try? request.content.get(String.self, at: "csrf"))
            guard let existing, let sent, Self.constantTimeEquals(existing, sent) else {
                request.logger.notice("form refused: CSRF token missing or wrong")
                return try await request.page("message", titleKey: "linkProblem",
                                              body: MessageBody(text: WebWording.labels(request.webLanguage)["formExpired"] ?? ""),
                                              status: .forbidden)
            }
        }
        let token = existing ?? SecretToken.generate()
        request.csrfToken = token
        let response = try await next.respond(to: request)
        if existing == nil {
            response.cookies[WebCookie.csrf] = WebCookie.make(token, secure: request.dossier.configuration.usesHTTPS, sameSite: .strict)
        }
        return response
    }

    static let header = "X-CSRF-Token"

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

struct MessageBody: Encodable {
    var text: String
    var link: String? = nil
    var linkText: String? = nil
}

extension Request {
    private struct CSRFKey: StorageKey {
        typealias Value = String
    }

    private struct CSRFCookieKey: StorageKey {
        typealias Value = String
    }

    /// The CSRF cookie of a multipart post, for its route to check against the form's field.
    var csrfCookie: String? {
        get { storage[CSRFCookieKey.self] }
        set { storage[CSRFCookieKey.self] = newValue }
    }

    /// For multipart forms, once the route has read the body: the `csrf` field must match the cookie.
    func verifyMultipartCSRF(_ fields: [String: String]) throws {
        if let header = headers.first(name: CSRFMiddleware.header), let cookie = cookies[WebCookie.csrf]?.string,
           CSRFMiddleware.constantTimeEquals(header, cookie) {
            return
        }
        guard let cookie = csrfCookie, let sent = fields["csrf"], CSRFMiddleware.constantTimeEquals(cookie, sent) else {
            throw Abort(.forbidden, reason: WebWording.labels(webLanguage)["formExpired"] ?? "")
        }
    }

    /// The token forms of this page must send back.
    var csrfToken: String {
        get { storage[CSRFKey.self] ?? "" }
        set { storage[CSRFKey.self] = newValue }
    }
}
