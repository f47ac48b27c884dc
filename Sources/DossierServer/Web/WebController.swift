import DossierCore
import Fluent
import Vapor

/// The pages people use in a browser: home, sign-up, sign-in and out, email verification,
/// password reset and the account with its connection log.
struct WebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let web = routes.grouped(WebSessionMiddleware(), CSRFMiddleware())
        web.get(use: Self.home).access(.anyone)
        web.get("signup", use: Self.signUpForm).access(.anyone)
        web.post("signup", use: Self.signUp).access(.anyone)
        web.get("signin", use: Self.signInForm).access(.anyone)
        web.post("signin", use: Self.signIn).access(.anyone)
        web.post("signout", use: Self.signOut).access(.anyone)
        web.get("verify-email", use: Self.verifyForm).access(.anyone)
        web.post("verify-email", use: Self.verifyEmail).access(.anyone)
        web.get("account", use: Self.account).access(.signedIn)
        web.post("account", "verification", use: Self.resendVerification).access(.signedIn)
        web.get("password", "forgot", use: Self.forgotForm).access(.anyone)
        web.post("password", "forgot", use: Self.forgot).access(.anyone)
        web.get("password", "reset", use: Self.resetForm).access(.anyone)
        web.post("password", "reset", use: Self.reset).access(.anyone)
    }

    // MARK: Home

    static func home(req: Request) async throws -> Response {
        try await req.page("home", titleKey: "home", body: NoBody())
    }

    // MARK: Sign-up

    struct SignUpPage: Encodable {
        var values: [String: String] = [:]
        var errors: [String: String] = [:]
        /// Fields the register marks mandatory, shown with an asterisk.
        var mandatory: [String: Bool]
        var hasErrors: Bool { !errors.isEmpty }

        init(register: Register, values: [String: String] = [:], problems: [FieldProblem] = []) {
            let fields = SignUpRules(register: register).mandatoryFields
            mandatory = Dictionary(uniqueKeysWithValues: ["email", "firstName", "lastName"].map { ($0, fields.contains($0) || $0 == "email") })
            mandatory["password"] = true
            self.values = values
            for problem in problems where errors[problem.field] == nil { errors[problem.field] = problem.message }
        }

        enum CodingKeys: CodingKey { case values, errors, mandatory, hasErrors }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(values, forKey: .values)
            try container.encode(errors, forKey: .errors)
            try container.encode(mandatory, forKey: .mandatory)
            try container.encode(hasErrors, forKey: .hasErrors)
        }
    }

    static func signUpForm(req: Request) async throws -> Response {
        if req.authenticated != nil { return req.redirect(to: "/account") }
        return try await req.page("signup", titleKey: "signUp", body: SignUpPage(register: req.register))
    }

    struct SignUpForm: Content {
        var email: String?
        var password: String?
        var firstName: String?
        var lastName: String?
        var language: Language?
    }

    static func signUp(req: Request) async throws -> Response {
        let form = try req.content.decode(SignUpForm.self)
        let language = form.language ?? req.webLanguage
        let values = ["email": form.email ?? "", "firstName": form.firstName ?? "", "lastName": form.lastName ?? "", "language": language.rawValue]
        let service = AccountService(req)
        do {
            _ = try await service.answeringUniformly {
                try await service.signUp(.init(
                    form: .init(email: form.email ?? "", password: form.password ?? "", firstName: form.firstName ?? "", lastName: form.lastName ?? ""),
                    language: language
                ), client: ClientInfo(req))
            }
            // The same page whether the address was free or not: the link in the message confirms
            // the address, then the person signs in.
            let labels = WebWording.labels(language)
            return try await req.page("message", titleKey: "signUp",
                                      body: MessageBody(text: labels["signUpSent"] ?? "", link: "/signin", linkText: labels["signIn"]),
                                      status: .created, language: language)
        } catch let failure as ValidationFailure {
            return try await req.page("signup", titleKey: "signUp",
                                      body: SignUpPage(register: req.register, values: values, problems: failure.problems),
                                      status: .unprocessableEntity)
        } catch let error as Throttled {
            let response = try await req.page("signup", titleKey: "signUp",
                                              body: SignUpPage(register: req.register, values: values,
                                                               problems: [FieldProblem(field: "email", message: error.reason)]),
                                              status: .tooManyRequests)
            response.headers.add(contentsOf: error.headers)
            return response
        }
    }

    // MARK: Sign-in and out

    struct SignInPage: Encodable {
        var email = ""
        var error: String?
    }

    static func signInForm(req: Request) async throws -> Response {
        if req.authenticated != nil { return req.redirect(to: "/account") }
        return try await req.page("signin", titleKey: "signIn", body: SignInPage())
    }

    struct SignInForm: Content {
        var email: String?
        var password: String?
    }

    static func signIn(req: Request) async throws -> Response {
        let form = try req.content.decode(SignInForm.self)
        do {
            let (_, token, _) = try await AccountService(req).signIn(
                email: form.email ?? "", password: form.password ?? "", kind: .web, client: ClientInfo(req), language: req.webLanguage
            )
            return signedIn(req, token: token, to: "/account")
        } catch let error as any AbortError where error.status == .unauthorized || error.status == .tooManyRequests {
            let response = try await req.page("signin", titleKey: "signIn", body: SignInPage(email: form.email ?? "", error: error.reason),
                                              status: error.status)
            response.headers.add(contentsOf: error.headers)
            return response
        }
    }

    private static func signedIn(_ req: Request, token: String, to path: String) -> Response {
        let response = req.redirect(to: path, redirectType: .normal)
        response.cookies[WebCookie.session] = WebCookie.make(
            token, secure: req.dossier.configuration.usesHTTPS, sameSite: .lax,
            maxAge: WebCookie.maxAge(of: WebCookie.session, in: req.register, now: req.dossier.clock.now)
        )
        return response
    }

    static func signOut(req: Request) async throws -> Response {
        if let current = req.authenticated {
            try await AccountService(req).signOut(current.session, account: current.account, client: ClientInfo(req))
        }
        let response = req.redirect(to: "/", redirectType: .normal)
        response.cookies[WebCookie.session] = WebCookie.make("", secure: req.dossier.configuration.usesHTTPS, sameSite: .lax, maxAge: 0)
        return response
    }

    // MARK: Email verification

    struct TokenPage: Encodable {
        var token: String
    }

    /// The link in the message opens a page with a button: the address is confirmed by a
    /// deliberate click (a mail scanner fetching the link confirms nothing), after a warning not
    /// to confirm an account one did not create.
    static func verifyForm(req: Request) async throws -> Response {
        try await req.page("verify", titleKey: "verifyAsk", body: TokenPage(token: req.query[String.self, at: "token"] ?? ""))
    }

    struct VerifyForm: Content {
        var token: String?
    }

    static func verifyEmail(req: Request) async throws -> Response {
        do {
            let form = try req.content.decode(VerifyForm.self)
            let account = try await AccountService(req).verifyEmail(token: form.token ?? "", language: req.webLanguage)
            // The link comes from a message in the account's language: answer in it too.
            let language = req.query[String.self, at: "lang"].flatMap(Language.init(rawValue:)) ?? account.language
            let labels = WebWording.labels(language)
            let signedIn = req.authenticated != nil
            return try await req.page("message", titleKey: "verifyTitle",
                                      body: MessageBody(text: labels["verifyDone"] ?? "", link: signedIn ? "/account" : "/signin",
                                                        linkText: signedIn ? labels["account"] : labels["signIn"]),
                                      language: language)
        } catch let error as any AbortError where error.status == .notFound || error.status == .gone {
            return try await req.page("message", titleKey: "linkProblem", body: MessageBody(text: error.reason), status: error.status)
        }
    }

    static func resendVerification(req: Request) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        if current.account.emailVerifiedAt == nil {
            do {
                try await AccountService(req).resendVerification(to: current.account, client: ClientInfo(req))
            } catch let error as Throttled {
                let response = try await req.page("message", titleKey: "account", body: MessageBody(text: error.reason, link: "/account",
                                                  linkText: WebWording.labels(req.webLanguage)["account"]), status: .tooManyRequests)
                response.headers.add(contentsOf: error.headers)
                return response
            }
        }
        return req.redirect(to: "/account?sent=1", redirectType: .normal)
    }

    // MARK: Account

    struct AccountPage: Encodable {
        var firstName: String
        var lastName: String
        var email: String
        var role: String
        var verified: Bool
        var welcome: Bool
        var sent: Bool
        var connections: [Connection]
        /// How long the log is kept, in the register's words.
        var connectionsRetention: String
        /// A tenant's rights on the page: restriction (and since when).
        var tenant: Bool
        var restrictedSince: String?
        /// Consents (Art. 7) and objections (Art. 21).
        var consents: [ConsentRow]
        var objections: [ObjectionRow]
        var objectable: [Option]
        /// Rights requests (Art. 12) and post-mortem directives (loi 78-17 art. 85).
        var requests: [RequestRow]
        var requestRights: [Option]
        var directives: Bool
        var directivesInstructions: String
        var directivesContactName: String
        var directivesContactEmail: String
        var directivesSaved: String?
        var choices: [Choice]

        struct RequestRow: Encodable {
            var reference: String
            var right: String
            var status: String
            var dueDay: String
            var extended: Bool
            var received: String
            var open: Bool
        }

        struct Choice: Encodable {
            var id: String
            var name: String
            var selected: Bool
        }

        struct ConsentRow: Encodable {
            var purpose: String
            var name: String
            var given: Bool
            var at: String?
        }

        struct ObjectionRow: Encodable {
            var name: String
            var upheld: Bool
            var refused: Bool
            var at: String
            var dueAt: String?
        }

        struct Option: Encodable {
            var id: String
            var name: String
        }

        struct Connection: Encodable {
            var when: String
            var kind: String
            var outcome: String
            var ipAddress: String
            var userAgent: String
        }
    }

    static func account(req: Request) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        let account = current.account
        let labels = WebWording.labels(req.webLanguage)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: req.webLanguage == .fr ? "fr_FR" : "en_GB")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "d MMM yyyy, HH:mm:ss 'UTC'"
        let events = try await ConnectionEvent.query(on: req.db).filter(\.$account.$id == account.requireID())
            .sort(\.$occurredAt, .descending).limit(50).all()
        let consents = ConsentService(req)
        let objections = try await consents.objections(of: account, language: req.webLanguage)
        let directives = try await DirectiveService(req).current(of: account)
        let body = AccountPage(
            firstName: account.firstName, lastName: account.lastName, email: account.email, role: account.role.rawValue,
            verified: account.emailVerifiedAt != nil,
            welcome: req.query[String.self, at: "welcome"] != nil, sent: req.query[String.self, at: "sent"] != nil,
            connections: events.map {
                .init(when: formatter.string(from: $0.occurredAt), kind: labels[$0.kind.rawValue] ?? $0.kind.rawValue,
                      outcome: labels[$0.outcome.rawValue] ?? $0.outcome.rawValue, ipAddress: $0.ipAddress, userAgent: $0.userAgent)
            },
            connectionsRetention: ConnectionEvent.retention(in: req.register, language: req.webLanguage),
            tenant: account.role == .tenant,
            restrictedSince: try await RestrictionService(req).state(of: account).since.map(ShareWatermark.day(of:)),
            consents: try await consents.consents(of: account, language: req.webLanguage).map {
                .init(purpose: $0.purpose, name: $0.name, given: $0.state == "given", at: $0.at.map(ShareWatermark.day(of:)))
            },
            objections: objections.map {
                .init(name: $0.name, upheld: $0.outcome == ObjectionRules.Outcome.upheld.rawValue, refused: $0.outcome == "refused", at: ShareWatermark.day(of: $0.at),
                      dueAt: $0.dueAt.map(ShareWatermark.day(of:)))
            },
            // Direct marketing, and the purposes of legitimate interests that concern a tenant.
            objectable: req.register.purposes.filter { purpose in
                guard let outcome = ObjectionRules.outcome(for: purpose), !objections.contains(where: { $0.purpose == purpose.id }) else { return false }
                return outcome == .upheld || purpose.subjects.contains(account.role == .tenant ? "tenant" : "staff")
            }.map { .init(id: $0.id, name: $0.name[req.webLanguage]) },
            requests: try await RequestService(req).mine(account, language: req.webLanguage).map {
                .init(reference: $0.reference, right: $0.rightName, status: labels["status-\($0.status)"] ?? $0.status, dueDay: $0.dueDay,
                      extended: $0.extended, received: ShareWatermark.day(of: $0.receivedAt),
                      open: !(RequestRules.Status(rawValue: $0.status)?.isClosed ?? false))
            },
            requestRights: RequestRules.types(in: req.register).map { .init(id: $0.id, name: $0.name[req.webLanguage]) },
            directives: directives != nil,
            directivesInstructions: directives?.instructions ?? "",
            directivesContactName: directives?.contact?.name ?? "",
            directivesContactEmail: directives?.contact?.email ?? "",
            directivesSaved: directives?.updatedAt.map(ShareWatermark.day(of:)),
            choices: DirectiveService.Choice.allCases.map {
                .init(id: $0.rawValue, name: labels["choice-\($0.rawValue)"] ?? $0.rawValue, selected: (directives?.choice ?? "erase") == $0.rawValue)
            }
        )
        return try await req.page("account", titleKey: "account", body: body)
    }

    // MARK: Password reset

    static func forgotForm(req: Request) async throws -> Response {
        try await req.page("forgot", titleKey: "forgotTitle", body: MessageBody(text: ""))
    }

    struct ForgotForm: Content {
        var email: String?
    }

    static func forgot(req: Request) async throws -> Response {
        let form = try req.content.decode(ForgotForm.self)
        do {
            let service = AccountService(req)
            let language = req.webLanguage
            try await service.answeringUniformly {
                try await service.requestPasswordReset(email: form.email ?? "", client: ClientInfo(req), language: language)
            }
        } catch let error as Throttled {
            let response = try await req.page("message", titleKey: "forgotTitle", body: MessageBody(text: error.reason), status: .tooManyRequests)
            response.headers.add(contentsOf: error.headers)
            return response
        }
        return try await req.page("message", titleKey: "forgotTitle",
                                  body: MessageBody(text: WebWording.labels(req.webLanguage)["forgotSent"] ?? ""))
    }

    struct ResetPage: Encodable {
        var token: String
        var error: String?
    }

    static func resetForm(req: Request) async throws -> Response {
        try await req.page("reset", titleKey: "resetTitle", body: ResetPage(token: req.query[String.self, at: "token"] ?? ""))
    }

    struct ResetForm: Content {
        var token: String?
        var password: String?
    }

    static func reset(req: Request) async throws -> Response {
        let form = try req.content.decode(ResetForm.self)
        let labels = WebWording.labels(req.webLanguage)
        do {
            try await AccountService(req).resetPassword(token: form.token ?? "", newPassword: form.password ?? "", client: ClientInfo(req),
                                                        language: req.webLanguage)
            return try await req.page("message", titleKey: "resetTitle",
                                      body: MessageBody(text: labels["resetDone"] ?? "", link: "/signin", linkText: labels["signIn"]))
        } catch let failure as ValidationFailure {
            return try await req.page("reset", titleKey: "resetTitle",
                                      body: ResetPage(token: form.token ?? "", error: failure.problems.map(\.message).joined(separator: " ")),
                                      status: .unprocessableEntity)
        } catch let error as any AbortError where error.status == .notFound || error.status == .gone {
            return try await req.page("message", titleKey: "linkProblem", body: MessageBody(text: error.reason), status: error.status)
        }
    }
}
