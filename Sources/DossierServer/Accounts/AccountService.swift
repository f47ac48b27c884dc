import DossierCore
import Fluent
import Foundation
import SQLKit
import Vapor

/// Where a request comes from, for the connection log and the throttles.
struct ClientInfo: Sendable {
    var ipAddress: String
    var userAgent: String
    /// The browser sends `Sec-GPC: 1` (Global Privacy Control).
    var globalPrivacyControl = false

    init(ipAddress: String, userAgent: String, globalPrivacyControl: Bool = false) {
        self.ipAddress = ipAddress
        self.userAgent = userAgent
        self.globalPrivacyControl = globalPrivacyControl
    }

    /// The client's address through trusted proxies only (`DOSSIER_TRUSTED_PROXIES`).
    init(_ request: Request) {
        ipAddress = request.clientAddress
        userAgent = request.headers.first(name: .userAgent) ?? ""
        globalPrivacyControl = request.headers.first(name: "Sec-GPC")?.trimmingCharacters(in: .whitespaces) == "1"
    }
}

/// Sign-up, email verification, sign-in and out, password reset: the account rules, over the database.
struct AccountService: Sendable {
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

    /// Creates a tenant account and sends the verification link. Nothing is stored if any field
    /// is wrong. For an address that already has an account the caller gets the same answer, at
    /// the same cost (the password is hashed all the same), and the owner is told by email: the
    /// answer does not tell who has an account. Rate-limited per client and per address.
    func signUp(_ request: SignUp, client: ClientInfo) async throws -> Account? {
        let rules = SignUpRules(register: services.register.register)
        let problems = rules.problems(in: request.form, language: request.language)
        guard problems.isEmpty, let email = EmailAddress(request.form.email) else {
            throw ValidationFailure(problems: problems)
        }
        try await limit("sign-up", client: client, target: email.canonical, language: request.language)
        let passwordHash = try await passwords.hash(request.form.password)
        if let existing = try await Account.query(on: database).filter(\.$emailKey == email.canonical).first() {
            try await tellOwnerOfSignUpAttempt(existing)
            return nil
        }
        let account = Account(
            email: email, passwordHash: passwordHash,
            firstName: request.form.firstName.trimmingCharacters(in: .whitespacesAndNewlines),
            lastName: request.form.lastName.trimmingCharacters(in: .whitespacesAndNewlines),
            language: request.language, role: .tenant, now: clock.now
        )
        do {
            try await services.audit.transaction(on: database) { db, audit in
                try await account.create(on: db)
                try await sendVerification(to: account, on: db)
                audit.record(AuditEvent(action: "account.created", subject: account.subject, purpose: "account",
                                        details: ["role": account.role.rawValue]), by: account.subject)
            }
        } catch where (error as? any DatabaseError)?.isConstraintFailure == true {
            // Another sign-up with the same address won the race: the same answer as above.
            if let existing = try await Account.query(on: database).filter(\.$emailKey == email.canonical).first() {
                try await tellOwnerOfSignUpAttempt(existing)
            }
            return nil
        }
        return account
    }

    private func tellOwnerOfSignUpAttempt(_ account: Account) async throws {
        let language = account.language
        try await services.mailer.enqueue(.signUpAttempt(signInLink: services.mailer.page("/signin", language: language),
                                                         resetLink: services.mailer.page("/password/forgot", language: language)),
                                          to: account, on: database)
    }

    /// Runs `body`, then waits until `uniformAnswerTime` has passed since the start, whatever
    /// `body` did (or threw): answers that depend on whether an account exists take as long.
    func answeringUniformly<T>(_ body: () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + services.configuration.uniformAnswerTime
        do {
            // During a key rotation a new address's message could not be sealed (no new key):
            // refused for every address alike, so that the refusal tells nothing.
            try await services.vault.requireNoRotation()
            let result = try await body()
            try? await Task.sleep(until: deadline)
            return result
        } catch {
            try? await Task.sleep(until: deadline)
            throw error
        }
    }

    // MARK: Rate limits

    /// Counts a request against the client's and the target address's limits; 429 past either.
    func limit(_ action: String, client: ClientInfo, target: String?, language: Language) async throws {
        try await ThrottleLedger(database: database).limit(action, client: client, target: target, now: clock.now,
                                                           language: language, logger: logger,
                                                           development: services.configuration.isDevelopmentInstance)
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
        try await services.audit.transaction(on: database) { db, audit in
            try await account.create(on: db)
            audit.record(AuditEvent(action: "account.created", subject: account.subject, purpose: "account", details: ["role": role.rawValue]),
                         by: actor)
        }
        return account
    }

    // MARK: Email verification

    func sendVerification(to account: Account, on db: (any Database)? = nil) async throws {
        let token = SecretToken.generate()
        let db = db ?? database
        try await AccountToken(accountID: try account.requireID(), purpose: .verifyEmail,
                               tokenHash: SecretToken.hash(token), now: clock.now).create(on: db)
        let link = services.mailer.link("/verify-email", token: token, language: account.language)
        try await services.mailer.enqueue(.verifyEmail(link: link), to: account, on: db)
    }

    /// Sends the link again, at most a few times an hour per client and per address.
    func resendVerification(to account: Account, client: ClientInfo) async throws {
        try await limit("verification", client: client, target: account.emailKey, language: account.language)
        try await sendVerification(to: account)
    }

    /// Marks the address verified. 410 for a used or expired link, 404 for an unknown one.
    func verifyEmail(token: String, language: Language) async throws -> Account {
        try await services.audit.transaction(on: database) { db, audit in
            let (_, account) = try await consume(token: token, purpose: .verifyEmail, language: language, on: db)
            account.emailVerifiedAt = account.emailVerifiedAt ?? clock.now
            try await account.save(on: db)
            audit.record(AuditEvent(action: "account.email-verified", subject: account.subject, purpose: "account"), by: account.subject)
            return account
        }
    }

    /// Uses a live single-use token: one conditional update marks it used, so of two concurrent
    /// uses exactly one succeeds.
    private func consume(token: String, purpose: AccountToken.Purpose, language: Language,
                         on db: any Database) async throws -> (AccountToken, Account) {
        guard let record = try await AccountToken.query(on: db)
            .filter(\.$tokenHash == SecretToken.hash(token)).filter(\.$purpose == purpose).with(\.$account).first()
        else {
            throw Abort(.notFound, reason: AccountWording(language).linkInvalid)
        }
        let words = AccountWording(record.account.language)
        let now = clock.now
        guard record.usedAt == nil else { throw Abort(.gone, reason: words.linkUsed) }
        guard record.expiresAt > now else { throw Abort(.gone, reason: words.linkExpired) }
        let sql = try db.requireSQL()
        let claimed = try await sql.update(AccountToken.schema).set("used_at", to: now)
            .where("id", .equal, try record.requireID()).where("used_at", .is, SQLLiteral.null)
            .returning("id").all()
        guard !claimed.isEmpty else { throw Abort(.gone, reason: words.linkUsed) }
        record.usedAt = now
        return (record, record.account)
    }

    // MARK: Sign-in

    /// Checks the password, throttling repeated failures per (address typed, client), per
    /// address typed from anywhere (a much higher bar), and per client: the same whether or not
    /// an account has that address, so a 429 tells nothing. Each attempt is counted as a failure
    /// before the password is checked (and taken back if it was right), so a burst of parallel
    /// guesses is counted too. Every attempt on an account is in its connection log.
    func signIn(email rawEmail: String, password: String, kind: Session.Kind, client: ClientInfo,
                language: Language) async throws -> (Session, token: String, Account) {
        let words = AccountWording(language)
        let now = clock.now
        let email = EmailAddress(rawEmail)
        let account: Account? = if let email {
            try await Account.query(on: database).filter(\.$emailKey == email.canonical).first()
        } else {
            nil
        }
        let typed = email?.canonical ?? rawEmail.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let clientKey = ClientAddressResolver.throttleKey(client.ipAddress)
        var checks: [(ThrottleLedger.Key, ThrottlePolicy)] = [
            (.init("sign-in:address-client", typed, clientKey), .perAccountAndAddress),
            (.init("sign-in:address", typed), .perAccount),
        ]
        // The developer's own machine, on a development instance, is not limited across accounts.
        if !(services.configuration.isDevelopmentInstance && ClientAddressResolver.isLoopback(client.ipAddress)) {
            checks.append((.init("sign-in:client", clientKey), .perAddress))
        }
        let ledger = ThrottleLedger(database: database)
        let provisional = try await ledger.record(checks.map(\.0), at: now)
        var waits: [TimeInterval] = []
        for (key, policy) in checks {
            let earlier = try await ledger.times(key, since: now - policy.window, excluding: provisional)
            if case let .blocked(wait) = policy.decision(failures: earlier, now: now) { waits.append(wait) }
        }
        if let retryAfter = waits.max() {
            // A refused attempt is not a failure: it does not lengthen the wait.
            try await ledger.forget(provisional)
            if account != nil { try await log(account: account, kind: .signIn, outcome: .throttled, client: client) }
            logger.notice("sign-in throttled")
            throw Throttled(retryAfter: retryAfter, message: words.throttled(minutes: Int((retryAfter / 60).rounded(.up))))
        }
        // Hash even for an unknown address, at the same cost, so that timing does not tell which addresses exist.
        let valid = try await passwords.verify(password, created: account?.passwordHash ?? services.decoyHash)
        guard let account, valid else {
            try await log(account: account, kind: .signIn, outcome: account == nil ? .unknownAccount : .wrongPassword, client: client)
            throw Abort(.unauthorized, reason: words.invalidCredentials)
        }
        try await ledger.forget(provisional)
        let token = SecretToken.generate()
        let session = Session(
            accountID: try account.requireID(), kind: kind, tokenHash: SecretToken.hash(token), now: now,
            lifetime: kind == .web ? Self.webSessionLifetime : Self.apiSessionLifetime
        )
        account.lastActivityAt = now
        try await services.audit.transaction(on: database) { db, audit in
            try await session.create(on: db)
            try await account.save(on: db)
            try await log(account: account, kind: .signIn, outcome: .success, client: client, on: db)
            audit.record(AuditEvent(action: "session.signed-in", subject: account.subject, purpose: "account", details: ["kind": kind.rawValue]),
                         by: account.subject)
        }
        if client.globalPrivacyControl {
            await ConsentService(database: database, services: services).honourGlobalPrivacyControl(of: account, logger: logger)
        }
        return (session, token, account)
    }

    func log(account: Account?, kind: ConnectionEvent.Kind, outcome: ConnectionEvent.Outcome,
             client: ClientInfo, on db: (any Database)? = nil) async throws {
        try await ConnectionEvent(accountID: account?.id, kind: kind, outcome: outcome, ipAddress: client.ipAddress,
                                  userAgent: client.userAgent, at: clock.now).create(on: db ?? database)
    }

    /// The session and account a token opens, if it is live. Records activity at most every 5 minutes.
    static let sessionColumns = PrefixedRow.columns(of: Session.self, table: "s", prefix: "s_") + ", "
        + PrefixedRow.columns(of: Account.self, table: "a", prefix: "a_")

    func authenticate(token: String, kind: Session.Kind) async throws -> (Session, Account)? {
        let now = clock.now
        // One query, the account joined, in SQL written once: every authenticated request makes
        // it (an eager load of the account was a second round trip, and building the query with
        // Fluent a fifth of a read, profiled).
        let sql = try database.requireSQL()
        guard let row = try await sql.raw("""
            SELECT \(unsafeRaw: Self.sessionColumns) FROM "sessions" s JOIN "accounts" a ON a."id" = s."account_id"
            WHERE s."token_hash" = \(bind: SecretToken.hash(token)) AND s."kind" = \(bind: kind.rawValue)
            AND s."ended_at" IS NULL AND s."expires_at" > \(bind: now) LIMIT 1
            """).first()
        else { return nil }
        let session = try PrefixedRow.decode(Session.self, from: row, prefix: "s_")
        session.$account.value = try PrefixedRow.decode(Account.self, from: row, prefix: "a_")
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
        try await services.audit.transaction(on: database) { db, audit in
            try await session.save(on: db)
            try await log(account: account, kind: .signOut, outcome: .success, client: client, on: db)
            audit.record(AuditEvent(action: "session.signed-out", subject: account.subject, purpose: "account"), by: account.subject)
        }
    }

    // MARK: Password reset

    /// Sends a reset link if the address has an account; says nothing either way. Rate-limited
    /// per client and per address (counted whether or not the address has an account).
    func requestPasswordReset(email rawEmail: String, client: ClientInfo, language: Language) async throws {
        guard let email = EmailAddress(rawEmail) else { return }
        try await limit("password-reset", client: client, target: email.canonical, language: language)
        guard let account = try await Account.query(on: database).filter(\.$emailKey == email.canonical).first() else { return }
        let token = SecretToken.generate()
        let minutes = Int(AccountToken.Purpose.resetPassword.lifetime / 60)
        try await services.audit.transaction(on: database) { db, audit in
            try await AccountToken(accountID: try account.requireID(), purpose: .resetPassword,
                                   tokenHash: SecretToken.hash(token), now: clock.now).create(on: db)
            let link = services.mailer.link("/password/reset", token: token, language: account.language)
            try await services.mailer.enqueue(.resetPassword(link: link, validMinutes: minutes), to: account, on: db)
            audit.record(AuditEvent(action: "password.reset-requested", subject: account.subject, purpose: "account"), by: account.subject)
        }
    }

    /// Sets a new password from a single-use link; ends every session of the account and voids
    /// every other reset link. A reset that claims an address never verified before discards
    /// whatever was built on the account before its owner proved the address: applications,
    /// profile, guarantors and documents (someone else may have made the account to watch what
    /// its owner would later upload).
    func resetPassword(token: String, newPassword: String, client: ClientInfo, language: Language) async throws {
        guard let preview = try await AccountToken.query(on: database).filter(\.$tokenHash == SecretToken.hash(token))
            .filter(\.$purpose == .resetPassword).with(\.$account).first() else {
            throw Abort(.notFound, reason: AccountWording(language).linkInvalid)
        }
        let target = preview.account
        let problems = SignUpRules.passwordProblems(newPassword, email: target.email, names: [target.firstName, target.lastName],
                                                    language: target.language)
        guard problems.isEmpty else { throw ValidationFailure(problems: problems) }
        let newHash = try await passwords.hash(newPassword)
        let now = clock.now
        let claimedUnverified = target.emailVerifiedAt == nil
        let discarded = try await services.audit.transaction(on: database) { db, audit -> (blobs: [String], subjects: [String]) in
            let (record, account) = try await consume(token: token, purpose: .resetPassword, language: language, on: db)
            let accountID = try account.requireID()
            account.passwordHash = newHash
            // Following the link proves the address too.
            account.emailVerifiedAt = account.emailVerifiedAt ?? now
            try await account.save(on: db)
            try await Session.query(on: db).filter(\.$account.$id == accountID).filter(\.$endedAt == nil)
                .set(\.$endedAt, to: now).update()
            try await AccountToken.query(on: db).filter(\.$account.$id == accountID).filter(\.$purpose == .resetPassword)
                .filter(\.$usedAt == nil).filter(\.$id != record.requireID()).set(\.$usedAt, to: now).update()
            var discarded: (blobs: [String], subjects: [String]) = ([], [])
            if claimedUnverified {
                discarded = try await RentalFileService(database: db, services: services, logger: logger)
                    .discardUnverifiedFile(of: account, audit: audit)
            }
            try await log(account: account, kind: .passwordReset, outcome: .success, client: client, on: db)
            try await services.mailer.enqueue(.passwordChanged, to: account, on: db)
            audit.record(AuditEvent(action: "password.reset", subject: account.subject, purpose: "account",
                                    details: claimedUnverified ? ["claimed-unverified": "true"] : [:]), by: account.subject)
            return discarded
        }
        // Keys and blobs go once the rows that named them are gone for good.
        for subject in discarded.subjects { try await services.vault.shred(subject) }
        try? await BlobJournal.completeDeletion(of: discarded.blobs, blobs: services.blobs, on: database)
    }
}
