import DossierCore
import Fluent
import Foundation
import Vapor

/// Where a request comes from, for the connection log.
struct ClientInfo: Sendable {
    var ipAddress: String
    var userAgent: String

    init(ipAddress: String, userAgent: String) {
        self.ipAddress = ipAddress
        self.userAgent = userAgent
    }

    init(_ request: Request) {
        ipAddress = request.remoteAddress?.ipAddress ?? "unknown"
        userAgent = request.headers.first(name: .userAgent) ?? ""
    }
}

/// Sign-up, email verification, sign-in and out, password reset: the account rules, over the database.
struct AccountService {
    let database: any Database
    let services: DossierServices
    let passwords: AsyncPasswordHasher
    let logger: Logger

    var clock: any WallClock { services.clock }

    init(database: any Database, services: DossierServices, passwords: AsyncPasswordHasher, logger: Logger) {
        self.database = database
        self.services = services
        self.passwords = passwords
        self.logger = logger
    }

    init(_ request: Request) {
        self.init(database: request.db, services: request.dossier, passwords: request.password.async, logger: request.logger)
    }

    static let webSessionLifetime: TimeInterval = 12 * 3600
    static let apiSessionLifetime: TimeInterval = 30 * 24 * 3600

    // MARK: Sign-up

    struct SignUp: Sendable {
        var form: SignUpRules.Form
        var language: Language
    }

    /// Creates a tenant account and sends the verification link. Nothing is stored if any field is wrong.
    func signUp(_ request: SignUp) async throws -> Account {
        let rules = SignUpRules(register: services.register.register)
        let problems = rules.problems(in: request.form, language: request.language)
        guard problems.isEmpty, let email = EmailAddress(request.form.email) else {
            throw ValidationFailure(problems: problems)
        }
        if try await Account.query(on: database).filter(\.$emailKey == email.canonical).first() != nil {
            throw Abort(.conflict, reason: AccountWording(request.language).emailTaken)
        }
        let account = Account(
            email: email, passwordHash: try await passwords.hash(request.form.password),
            firstName: request.form.firstName.trimmingCharacters(in: .whitespacesAndNewlines),
            lastName: request.form.lastName.trimmingCharacters(in: .whitespacesAndNewlines),
            language: request.language, role: .tenant, now: clock.now
        )
        do {
            try await database.transaction { db in
                try await account.create(on: db)
                try await sendVerification(to: account, on: db)
            }
        } catch where (error as? any DatabaseError)?.isConstraintFailure == true {
            // Another sign-up with the same address won the race.
            throw Abort(.conflict, reason: AccountWording(request.language).emailTaken)
        }
        try await services.audit.record(
            AuditEvent(action: "account.created", subject: account.subject, purpose: "account", details: ["role": account.role.rawValue]),
            by: account.subject, on: database
        )
        return account
    }

    /// Creates a staff or member account (from the CLI or an admin), its address taken as verified.
    func createAccount(email: EmailAddress, password: String, firstName: String, lastName: String,
                       role: Role, organisationID: UUID? = nil, language: Language, actor: String) async throws -> Account {
        let problems = SignUpRules.passwordProblems(password, email: email.value, names: [firstName, lastName], language: language)
        guard problems.isEmpty else { throw ValidationFailure(problems: problems) }
        if try await Account.query(on: database).filter(\.$emailKey == email.canonical).first() != nil {
            throw Abort(.conflict, reason: AccountWording(language).emailTaken)
        }
        let account = Account(email: email, passwordHash: try await passwords.hash(password), firstName: firstName,
                              lastName: lastName, language: language, role: role, organisationID: organisationID, now: clock.now)
        account.emailVerifiedAt = clock.now
        try await account.create(on: database)
        try await services.audit.record(
            AuditEvent(action: "account.created", subject: account.subject, purpose: "account", details: ["role": role.rawValue]),
            by: actor, on: database
        )
        return account
    }

    // MARK: Email verification

    func sendVerification(to account: Account, on db: (any Database)? = nil) async throws {
        let token = SecretToken.generate()
        let db = db ?? database
        try await AccountToken(accountID: try account.requireID(), purpose: .verifyEmail,
                               tokenHash: SecretToken.hash(token), now: clock.now).create(on: db)
        let link = services.mailer.link("/verify-email", token: token, language: account.language)
        try await services.mailer.enqueue(.verifyEmail(firstName: account.firstName, link: link), to: account, on: db)
    }

    /// Marks the address verified. 410 for a used or expired link, 404 for an unknown one.
    func verifyEmail(token: String, language: Language) async throws -> Account {
        let (record, account) = try await consume(token: token, purpose: .verifyEmail, language: language)
        account.emailVerifiedAt = account.emailVerifiedAt ?? clock.now
        try await database.transaction { db in
            try await record.save(on: db)
            try await account.save(on: db)
        }
        try await services.audit.record(
            AuditEvent(action: "account.email-verified", subject: account.subject, purpose: "account"),
            by: account.subject, on: database
        )
        return account
    }

    /// Finds a live single-use token and marks it used (the caller saves it).
    private func consume(token: String, purpose: AccountToken.Purpose, language: Language) async throws -> (AccountToken, Account) {
        guard let record = try await AccountToken.query(on: database)
            .filter(\.$tokenHash == SecretToken.hash(token)).filter(\.$purpose == purpose).with(\.$account).first()
        else {
            throw Abort(.notFound, reason: AccountWording(language).linkInvalid)
        }
        let words = AccountWording(record.account.language)
        guard record.usedAt == nil else { throw Abort(.gone, reason: words.linkUsed) }
        guard record.expiresAt > clock.now else { throw Abort(.gone, reason: words.linkExpired) }
        record.usedAt = clock.now
        return (record, record.account)
    }

    // MARK: Sign-in

    /// Checks the password, throttling repeated failures per account and per address.
    /// Every attempt is written to the connection log.
    func signIn(email rawEmail: String, password: String, kind: Session.Kind, client: ClientInfo,
                language: Language) async throws -> (Session, token: String, Account) {
        let words = AccountWording(language)
        let now = clock.now
        let account: Account? = if let email = EmailAddress(rawEmail) {
            try await Account.query(on: database).filter(\.$emailKey == email.canonical).first()
        } else {
            nil
        }
        if let retryAfter = try await throttle(accountID: account?.id, ipAddress: client.ipAddress, now: now) {
            try await log(account: account, kind: .signIn, outcome: .throttled, client: client)
            logger.notice("sign-in throttled")
            throw Throttled(retryAfter: retryAfter, message: words.throttled(minutes: Int((retryAfter / 60).rounded(.up))))
        }
        // Hash even for an unknown address, so that timing does not tell which addresses exist.
        let valid = try await passwords.verify(password, created: account?.passwordHash ?? Self.decoyHash)
        guard let account, valid else {
            try await log(account: account, kind: .signIn, outcome: account == nil ? .unknownAccount : .wrongPassword, client: client)
            throw Abort(.unauthorized, reason: words.invalidCredentials)
        }
        let token = SecretToken.generate()
        let session = Session(
            accountID: try account.requireID(), kind: kind, tokenHash: SecretToken.hash(token), now: now,
            lifetime: kind == .web ? Self.webSessionLifetime : Self.apiSessionLifetime
        )
        account.lastActivityAt = now
        try await database.transaction { db in
            try await session.create(on: db)
            try await account.save(on: db)
            try await log(account: account, kind: .signIn, outcome: .success, client: client, on: db)
        }
        try await services.audit.record(
            AuditEvent(action: "session.signed-in", subject: account.subject, purpose: "account", details: ["kind": kind.rawValue]),
            by: account.subject, on: database
        )
        return (session, token, account)
    }

    /// A bcrypt hash of a random password, checked against when no account matches.
    static let decoyHash = "$2b$04$C6UzMDM.H6dfI/f/IKxGhu0QVNdR0CC0Ah8ydxmOXKEKhIF5MO9yi"

    /// How long to wait, if the account or the address has failed too often recently.
    private func throttle(accountID: UUID?, ipAddress: String, now: Date) async throws -> TimeInterval? {
        let since = now - max(ThrottlePolicy.perAccount.window, ThrottlePolicy.perAddress.window)
        let failures: [ConnectionEvent.Outcome] = [.wrongPassword, .unknownAccount]
        var waits: [TimeInterval] = []
        if let accountID {
            let times = try await ConnectionEvent.query(on: database)
                .filter(\.$account.$id == accountID).filter(\.$kind == .signIn)
                .filter(\.$outcome ~~ failures).filter(\.$occurredAt > since).all().map(\.occurredAt)
            if case let .blocked(wait) = ThrottlePolicy.perAccount.decision(failures: times, now: now) { waits.append(wait) }
        }
        let times = try await ConnectionEvent.query(on: database)
            .filter(\.$ipAddress == ipAddress).filter(\.$kind == .signIn)
            .filter(\.$outcome ~~ failures).filter(\.$occurredAt > since).all().map(\.occurredAt)
        if case let .blocked(wait) = ThrottlePolicy.perAddress.decision(failures: times, now: now) { waits.append(wait) }
        return waits.max()
    }

    func log(account: Account?, kind: ConnectionEvent.Kind, outcome: ConnectionEvent.Outcome,
             client: ClientInfo, on db: (any Database)? = nil) async throws {
        try await ConnectionEvent(accountID: account?.id, kind: kind, outcome: outcome, ipAddress: client.ipAddress,
                                  userAgent: client.userAgent, at: clock.now).create(on: db ?? database)
    }

    /// The session and account a token opens, if it is live. Records activity at most every 5 minutes.
    func authenticate(token: String, kind: Session.Kind) async throws -> (Session, Account)? {
        let now = clock.now
        guard let session = try await Session.query(on: database)
            .filter(\.$tokenHash == SecretToken.hash(token)).filter(\.$kind == kind)
            .filter(\.$endedAt == nil).filter(\.$expiresAt > now).with(\.$account).first()
        else { return nil }
        if now.timeIntervalSince(session.lastSeenAt) > 300 {
            session.lastSeenAt = now
            session.account.lastActivityAt = now
            try await session.save(on: database)
            try await session.account.save(on: database)
        }
        return (session, session.account)
    }

    func signOut(_ session: Session, account: Account, client: ClientInfo) async throws {
        session.endedAt = clock.now
        try await database.transaction { db in
            try await session.save(on: db)
            try await log(account: account, kind: .signOut, outcome: .success, client: client, on: db)
        }
        try await services.audit.record(
            AuditEvent(action: "session.signed-out", subject: account.subject, purpose: "account"),
            by: account.subject, on: database
        )
    }

    // MARK: Password reset

    /// Sends a reset link if the address has an account; says nothing either way.
    func requestPasswordReset(email rawEmail: String) async throws {
        guard let email = EmailAddress(rawEmail),
              let account = try await Account.query(on: database).filter(\.$emailKey == email.canonical).first()
        else { return }
        let token = SecretToken.generate()
        let minutes = Int(AccountToken.Purpose.resetPassword.lifetime / 60)
        try await database.transaction { db in
            try await AccountToken(accountID: try account.requireID(), purpose: .resetPassword,
                                   tokenHash: SecretToken.hash(token), now: clock.now).create(on: db)
            let link = services.mailer.link("/password/reset", token: token, language: account.language)
            try await services.mailer.enqueue(.resetPassword(firstName: account.firstName, link: link, validMinutes: minutes),
                                              to: account, on: db)
        }
        try await services.audit.record(
            AuditEvent(action: "password.reset-requested", subject: account.subject, purpose: "account"),
            by: account.subject, on: database
        )
    }

    /// Sets a new password from a single-use link; ends every session of the account.
    func resetPassword(token: String, newPassword: String, client: ClientInfo, language: Language) async throws {
        let (record, account) = try await consume(token: token, purpose: .resetPassword, language: language)
        let problems = SignUpRules.passwordProblems(newPassword, email: account.email, names: [account.firstName, account.lastName],
                                                    language: account.language)
        guard problems.isEmpty else { throw ValidationFailure(problems: problems) }
        account.passwordHash = try await passwords.hash(newPassword)
        // Following the link proves the address too.
        account.emailVerifiedAt = account.emailVerifiedAt ?? clock.now
        let now = clock.now
        try await database.transaction { db in
            try await record.save(on: db)
            try await account.save(on: db)
            try await Session.query(on: db).filter(\.$account.$id == account.requireID()).filter(\.$endedAt == nil)
                .set(\.$endedAt, to: now).update()
            try await log(account: account, kind: .passwordReset, outcome: .success, client: client, on: db)
            try await services.mailer.enqueue(.passwordChanged(firstName: account.firstName), to: account, on: db)
        }
        try await services.audit.record(
            AuditEvent(action: "password.reset", subject: account.subject, purpose: "account"),
            by: account.subject, on: database
        )
    }
}
