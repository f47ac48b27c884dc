import DossierCore
import Vapor

/// A failure of ours (5xx) whose reason is written for the person, such as a busy server's "try
/// again in a few seconds": shown as it is, where any other failure of ours is not described.
protocol ExplainedFailure: AbortError {}

/// Every error as JSON `{"error": {"code", "message"}}` with a fitting status; an unexpected
/// error is a 500 whose details go to the log, never to the client.
struct APIErrorMiddleware: AsyncMiddleware {
    let environment: Environment

    struct Body: Content {
        struct Detail: Content {
            var code: String
            var message: String
            /// One message per invalid field, for 422.
            var fields: [FieldProblem]?
        }
        var error: Detail
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            let status: HTTPResponseStatus
            let message: String
            var headers = HTTPHeaders()
            let explained = error is any ExplainedFailure
            switch error {
            case let decoding as DecodingError:
                status = .badRequest
                message = "The request body is invalid: \(Self.describe(decoding))"
            case let abort as any AbortError:
                status = abort.status
                message = abort.status.code >= 500 && !explained ? "Something went wrong on our side." : abort.reason
                headers = abort.headers
            default:
                status = .internalServerError
                message = "Something went wrong on our side."
            }
            if status.code >= 500 {
                request.logger.error("\(request.method) failed with \(status.code): \(String(reflecting: error))")
            }
            if Self.isPageNavigation(request) {
                do {
                    return try await Self.page(for: request, status: status, message: message, explained: explained, headers: headers)
                } catch {
                    request.logger.warning("the error page could not be rendered (answered as JSON): \(String(reflecting: error))")
                }
            }
            let fields = (error as? ValidationFailure)?.problems
            let body = Body(error: .init(code: fields == nil ? Self.code(for: status) : "validation_failed", message: message, fields: fields))
            let response = Response(status: status, headers: headers)
            try response.content.encode(body, as: .json)
            // An error is never kept by a cache, and its form (JSON or a page) follows Accept.
            if !response.headers.contains(name: .cacheControl) {
                response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
            }
            response.headers.add(name: .vary, value: "Accept")
            return response
        }
    }

    /// A browser opening a page or sending a form (a request that accepts HTML and did not ask
    /// for JSON by name, off the API and the machine-read routes): it is answered with a page in
    /// the person's language, not JSON.
    static func isPageNavigation(_ request: Request) -> Bool {
        let path = request.url.path
        for prefix in ["/api/", "/health", "/metrics", "/openapi", "/.well-known/", "/assets/"] where path.hasPrefix(prefix) { return false }
        return request.accepts("text", "html") && !request.prefersJSON
    }

    /// The error as a page (`message.leaf`): not found, our failure, or the refusal's reason.
    /// `explained`: a failure of ours whose message is shown (`ExplainedFailure`).
    static func page(for request: Request, status: HTTPResponseStatus, message: String, explained: Bool = false,
                     headers: HTTPHeaders) async throws -> Response {
        let notFound = status == .notFound || status == .gone
        let titleKey = notFound ? "pageNotFound" : "pageError"
        let labels = WebWording.labels(request.webLanguage)
        let text = notFound ? labels["pageNotFoundText"] ?? message : status.code >= 500 && !explained ? labels["pageErrorText"] ?? message : message
        let response = try await request.page("message", titleKey: titleKey,
                                              body: MessageBody(text: text, link: "/?lang=\(request.webLanguage.rawValue)", linkText: labels["backHome"]),
                                              status: status)
        response.adoptHeaders(of: headers)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        response.headers.add(name: .vary, value: "Accept")
        return response
    }

    static func code(for status: HTTPResponseStatus) -> String {
        status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            .filter { $0.isLetter || $0 == "_" }
    }

    static func describe(_ error: DecodingError) -> String {
        let path = { (context: DecodingError.Context) in
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, context):
            let parent = path(context)
            return "missing field '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)'"
        case let .typeMismatch(_, context), let .valueNotFound(_, context):
            return "wrong type for field '\(path(context))'"
        case let .dataCorrupted(context):
            return context.codingPath.isEmpty ? "not valid JSON" : "invalid value for field '\(path(context))'"
        @unknown default:
            return "unreadable"
        }
    }
}

extension Response {
    /// An error's own headers (a busy server's `Retry-After`, a challenge) on the page that
    /// shows it, which keeps its own body's type and length.
    func adoptHeaders(of error: HTTPHeaders) {
        for (name, value) in error where name.lowercased() != "content-type" && name.lowercased() != "content-length" {
            headers.replaceOrAdd(name: name, value: value)
        }
    }
}

/// Headers every response carries, errors included (this middleware sits outside the one that
/// turns errors into responses).
struct SecurityHeadersMiddleware: AsyncMiddleware {
    let usesHTTPS: Bool

    static let pagePolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
        + "base-uri 'none'; form-action 'self'; object-src 'none'"

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        // A route may send none at all (a share link's pages: the token is in the address).
        if !response.headers.contains(name: "Referrer-Policy") {
            response.headers.replaceOrAdd(name: "Referrer-Policy", value: "same-origin")
        }
        response.headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        // A route may set a stricter policy of its own (documents: a sandbox).
        if !response.headers.contains(name: "Content-Security-Policy") {
            response.headers.replaceOrAdd(name: "Content-Security-Policy", value: Self.pagePolicy)
        }
        if usesHTTPS {
            response.headers.replaceOrAdd(name: "Strict-Transport-Security", value: "max-age=31536000; includeSubDomains")
        }
        return response
    }
}

/// What a stored document may do when a browser opens it: nothing.
enum DocumentSecurity {
    static let contentPolicy = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'none'"
}

/// Logs each request by its route pattern (`GET /s/:token`), never its actual path or query,
/// which may carry tokens or personal data.
struct RequestLogMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        let pattern = request.route.map { "/" + $0.path.map(\.description).joined(separator: "/") } ?? "(no route)"
        request.logger.info("\(request.method) \(pattern) \(response.status.code)")
        return response
    }
}
