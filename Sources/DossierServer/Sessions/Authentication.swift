import DossierCore
import Vapor

/// The signed-in account of a request, and the session that proves it.
struct Authenticated: Sendable {
    let session: Session
    let account: Account
}

extension Request {
    private struct AuthenticatedKey: StorageKey {
        typealias Value = Authenticated
    }

    var authenticated: Authenticated? {
        get { storage[AuthenticatedKey.self] }
        set { storage[AuthenticatedKey.self] = newValue }
    }

    /// The signed-in account, or 401.
    func requireAuthenticated() throws -> Authenticated {
        guard let authenticated else {
            throw Abort(.unauthorized, headers: ["WWW-Authenticate": "Bearer"], reason: "Sign in first: send Authorization: Bearer TOKEN.")
        }
        return authenticated
    }
}

/// API routes: `Authorization: Bearer TOKEN` from `POST /api/v1/sessions`. Required on the
/// routes it guards.
struct BearerAuthMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let bearer = request.headers.bearerAuthorization,
              let (session, account) = try await AccountService(request).authenticate(token: bearer.token, kind: .api)
        else {
            throw Abort(.unauthorized, headers: ["WWW-Authenticate": "Bearer"], reason: "Sign in first: send Authorization: Bearer TOKEN.")
        }
        request.authenticated = Authenticated(session: session, account: account)
        return try await next.respond(to: request)
    }
}
