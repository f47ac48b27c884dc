import DossierCore
import Vapor

/// `POST /api/v1/sessions` (sign in, returns a bearer token), `DELETE /api/v1/sessions/current`,
/// `POST /api/v1/password/forgot`, `POST /api/v1/password/reset`.
struct SessionsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let api = routes.grouped("api", "v1")
        api.post("sessions", use: Self.signIn).access(.anyone)
        api.grouped(BearerAuthMiddleware()).delete("sessions", "current", use: Self.signOut).access(.signedIn)
        api.post("password", "forgot", use: Self.forgot).access(.anyone)
        api.post("password", "reset", use: Self.reset).access(.anyone)
    }

    struct SignInBody: Content {
        var email: String
        var password: String
    }

    struct SessionBody: Content {
        var token: String
        var expiresAt: Date
    }

    static func signIn(req: Request) async throws -> Response {
        let body = try req.decodeBody(SignInBody.self)
        let (session, token, _) = try await AccountService(req).signIn(
            email: body.email, password: body.password, kind: .api, client: ClientInfo(req), language: try req.policyLanguage()
        )
        return try await SessionBody(token: token, expiresAt: session.expiresAt).encodeResponse(status: .created, for: req)
    }

    static func signOut(req: Request) async throws -> HTTPStatus {
        let current = try req.requireAuthenticated()
        try await AccountService(req).signOut(current.session, account: current.account, client: ClientInfo(req))
        return .noContent
    }

    struct ForgotBody: Content {
        var email: String
    }

    /// Always 202: whether an account exists is not told.
    static func forgot(req: Request) async throws -> HTTPStatus {
        let body = try req.decodeBody(ForgotBody.self)
        let service = AccountService(req)
        let language = try req.policyLanguage()
        try await service.answeringUniformly {
            try await service.requestPasswordReset(email: body.email, client: ClientInfo(req), language: language)
        }
        return .accepted
    }

    struct ResetBody: Content {
        var token: String
        var password: String
    }

    static func reset(req: Request) async throws -> HTTPStatus {
        let body = try req.decodeBody(ResetBody.self)
        try await AccountService(req).resetPassword(token: body.token, newPassword: body.password, client: ClientInfo(req),
                                                    language: req.policyLanguage())
        return .noContent
    }
}

extension SessionsController.SignInBody: APIRequestBody {
    /// Any text: a wrong address or password is a 401, not a malformed request.
    static func schema(_ context: APIContext) -> Schema {
        .object([.required("email", .text), .required("password", .text)])
    }
}

extension SessionsController.ForgotBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([.required("email", .text.described("Any text: the answer is the same whether or not an account has it"))])
    }
}

extension SessionsController.ResetBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        let policy = PasswordPolicy()
        return .object([
            .required("token", .text.described("The token from the emailed link")),
            .required("password", .string(minLength: policy.minimumLength, maxLength: policy.maximumLength)),
        ])
    }
}
