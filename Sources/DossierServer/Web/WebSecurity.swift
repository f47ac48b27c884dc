import Crypto
import DossierCore
import Vapor

/// Cookie names, as the register's cookie list declares them.
enum WebCookie {
    static let session = "dossier_session"
    static let csrf = "dossier_csrf"

    /// The lifetime the register states for a cookie, in seconds; nil (the browser's session)
    /// for "0 days" or a cookie the register does not list. The policy and the cookie agree
    /// because the cookie reads it from there.
    static func maxAge(of name: String, in register: Register, now: Date) -> Int? {
        guard let cookie = register.cookies.first(where: { $0.name == name }), !cookie.duration.isZero else { return nil }
        return Int(cookie.duration.added(to: now).timeIntervalSince(now))
    }

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

/// CSRF protection for forms. Signed in, the token is derived from the session (an HMAC of the
/// session token's hash under a key derived from the master key): a cookie planted by a sibling
/// site cannot stand in for it, and it dies with the session. Before signing in (the sign-in and
/// sign-up forms), it is double-submit: a random token in an HttpOnly, SameSite=Strict cookie
/// and in the forms. Every unsafe request (POST, PUT, PATCH, DELETE) whose token does not match
/// is refused, whatever its encoding. The token comes in the
/// `X-CSRF-Token` header (scripts), the `csrf` query parameter (multipart forms, whose body is
/// read only after this check), or the `csrf` field of a URL-encoded form. A multipart body is
/// never searched for it: it would have to be read before the caller is known.
struct CSRFMiddleware: AsyncMiddleware {
    static let unsafeMethods: [HTTPMethod] = [.POST, .PUT, .PATCH, .DELETE]

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let existing = request.cookies[WebCookie.csrf].map(\.string).flatMap { $0.count >= 32 ? $0 : nil }
        let sessionBound = request.authenticated.map { Self.token(for: $0.session, key: request.dossier.csrfKey) }
        if Self.unsafeMethods.contains(request.method) {
            guard let expected = sessionBound ?? existing, let sent = Self.sentToken(request), Self.constantTimeEquals(expected, sent) else {
                request.logger.notice("form refused: CSRF token missing or wrong")
                let text = WebWording.labels(request.webLanguage)["formExpired"] ?? ""
                if request.prefersJSON {
                    throw Abort(.forbidden, reason: text)
                }
                return try await request.page("message", titleKey: "linkProblem", body: MessageBody(text: text), status: .forbidden)
            }
        }
        let token = existing ?? SecretToken.generate()
        request.csrfToken = sessionBound ?? token
        let response = try await next.respond(to: request)
        if existing == nil {
            response.cookies[WebCookie.csrf] = WebCookie.make(token, secure: request.dossier.configuration.usesHTTPS, sameSite: .strict)
        }
        return response
    }

    static func sentToken(_ request: Request) -> String? {
        if let header = request.headers.first(name: header) { return header }
        if let query = request.query[String.self, at: "csrf"] { return query }
        guard let type = request.headers.contentType, type.type == "application", type.subType == "x-www-form-urlencoded" else {
            return nil
        }
        return try? request.content.get(String.self, at: "csrf")
    }

    static let header = "X-CSRF-Token"

    /// The token of a signed-in browser's forms.
    static func token(for session: Session, key: SymmetricKey) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data("csrf|\(session.tokenHash)".utf8), using: key)).base64URLEncoded()
    }

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

    /// The token forms of this page must send back.
    var csrfToken: String {
        get { storage[CSRFKey.self] ?? "" }
        set { storage[CSRFKey.self] = newValue }
    }
}
