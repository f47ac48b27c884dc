import DossierCore
import Fluent
import Vapor

/// `POST /api/v1/accounts` (sign up), `POST /api/v1/accounts/verify`, `GET /api/v1/me`,
/// `GET /api/v1/me/connections`, `POST /api/v1/me/verification`.
struct AccountsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let api = routes.grouped("api", "v1")
        api.post("accounts", use: Self.signUp).access(.anyone)
        api.post("accounts", "verify", use: Self.verify).access(.anyone)
        let me = api.grouped(BearerAuthMiddleware()).grouped("me")
        me.get(use: Self.me).access(.signedIn)
        me.get("connections", use: Self.connections).access(.signedIn)
        me.post("verification", use: Self.resendVerification).access(.signedIn)
    }

    struct SignUpBody: Content {
        var email: String
        var password: String
        var firstName: String
        var lastName: String
        var language: Language?
    }

    struct AccountBody: Content {
        var id: UUID
        var email: String
        var firstName: String
        var lastName: String
        var language: Language
        var role: Role
        var emailVerified: Bool
        var createdAt: Date

        init(_ account: Account) throws {
            id = try account.requireID()
            email = account.email
            firstName = account.firstName
            lastName = account.lastName
            language = account.language
            role = account.role
            emailVerified = account.emailVerifiedAt != nil
            createdAt = account.createdAt
        }
    }

    /// The answer to a sign-up, the same whether the address was free or already had an account
    /// (whose owner is told by email): it does not tell who has an account.
    struct SignUpAccepted: Content {
        var email: String
        var emailVerified: Bool
        var message: String
    }

    static func signUp(req: Request) async throws -> Response {
        let body = try req.decodeBody(SignUpBody.self)
        let language = try body.language ?? req.policyLanguage()
        let service = AccountService(req)
        _ = try await service.answeringUniformly {
            try await service.signUp(.init(
                form: .init(email: body.email, password: body.password, firstName: body.firstName, lastName: body.lastName),
                language: language
            ), client: ClientInfo(req))
        }
        let message = WebWording.labels(language)["signUpSent"] ?? ""
        return try await SignUpAccepted(email: EmailAddress(body.email)?.value ?? body.email, emailVerified: false, message: message)
            .encodeResponse(status: .created, for: req)
    }

    struct TokenBody: Content {
        var token: String
    }

    static func verify(req: Request) async throws -> AccountBody {
        let body = try req.decodeBody(TokenBody.self)
        return try AccountBody(await AccountService(req).verifyEmail(token: body.token, language: req.policyLanguage()))
    }

    static func me(req: Request) async throws -> AccountBody {
        try AccountBody(req.requireAuthenticated().account)
    }

    static func resendVerification(req: Request) async throws -> HTTPStatus {
        let account = try req.requireAuthenticated().account
        guard account.emailVerifiedAt == nil else {
            throw Abort(.conflict, reason: "This address is already verified.")
        }
        try await AccountService(req).resendVerification(to: account, client: ClientInfo(req))
        return .accepted
    }

    struct ConnectionBody: Content {
        var occurredAt: Date
        var kind: String
        var outcome: String
        var ipAddress: String
        var userAgent: String

        init(_ event: ConnectionEvent) {
            occurredAt = event.occurredAt
            kind = event.kind.rawValue
            outcome = event.outcome.rawValue
            ipAddress = event.ipAddress
            userAgent = event.userAgent
        }
    }

    /// The account's own connection log, newest first (at most 200).
    static func connections(req: Request) async throws -> [ConnectionBody] {
        let account = try req.requireAuthenticated().account
        return try await ConnectionEvent.query(on: req.db)
            .filter(\.$account.$id == account.requireID())
            .sort(\.$occurredAt, .descending).limit(200).all()
            .map(ConnectionBody.init)
    }
}

extension AccountsController.SignUpBody: APIRequestBody {
    /// Names are required when the register marks them mandatory; the password policy's other
    /// rules (not a common password, not the person's name) cannot be written as a schema.
    static func schema(_ context: APIContext) -> Schema {
        let rules = SignUpRules(register: context.register)
        let policy = rules.passwords
        return .object([
            .required("email", .email),
            .required("password", .string(minLength: policy.minimumLength, maxLength: policy.maximumLength)
                .described("\(policy.minimumLength) to \(policy.maximumLength) characters; not a common password, not one's own name or address")),
            .required("firstName", .typed(maxLength: SignUpRules.maximumNameLength, required: rules.isRequired("firstName"))),
            .required("lastName", .typed(maxLength: SignUpRules.maximumNameLength, required: rules.isRequired("lastName"))),
            .optional("language", .nullable(.choice(Language.allCases.map(\.rawValue)))),
        ])
    }
}

extension AccountsController.TokenBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([.required("token", .text.described("The token from the emailed link"))])
    }
}
