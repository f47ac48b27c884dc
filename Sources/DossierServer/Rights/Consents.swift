import DossierCore
import Fluent
import Foundation
import Vapor

/// The consent ledger (GDPR Art. 7): each consent given or withdrawn, by purpose, append-only,
/// kept to prove it (the register's consent-management purpose: 5 years from the withdrawal).
/// Rows name the person by their pseudonymous subject, not their account: the proof outlives an
/// erasure.
final class ConsentRecord: Model, @unchecked Sendable {
    static let schema = "consents"
    static let purpose = "consent-management"
    static let dataCategory = "consent-records"

    enum Action: String, Codable, Sendable {
        case given, withdrawn
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "subject") var subject: String
    @Field(key: "purpose") var purpose: String
    /// The row's place in its purpose's history (1, 2, …): the order, whatever the clock says.
    @Field(key: "position") var position: Int
    @Enum(key: "action") var action: Action
    @Field(key: "occurred_at") var occurredAt: Date
    /// The register's version the person saw (what they consented to).
    @Field(key: "policy_version") var policyVersion: String
    /// How: "account" (the page or the API), "objection", "erasure".
    @Field(key: "source") var source: String
    /// Set on withdrawal, on every row of the purpose: the end of the proof.
    @OptionalField(key: "keep_until") var keepUntil: Date?

    var properties: [any AnyProperty] { [$id, $subject, $purpose, $position, $action, $occurredAt, $policyVersion, $source, $keepUntil] }

    init() {}

    init(subject: String, purpose: String, position: Int, action: Action, at date: Date, policyVersion: String, source: String) {
        self.subject = subject
        self.purpose = purpose
        self.position = position
        self.action = action
        occurredAt = date
        self.policyVersion = policyVersion
        self.source = source
    }
}

/// An objection (GDPR Art. 21). To direct marketing it is upheld at once and the address joins
/// the objection list (a keyed hash of it, kept 5 years as the register says, erasure or not);
/// to a purpose of legitimate interests it waits for staff's review, due within the month.
final class ObjectionRecord: Model, @unchecked Sendable {
    static let schema = "objections"
    static let purpose = "rights-requests"
    static let dataCategory = "objections"

    @ID(key: .id) var id: UUID?
    @Field(key: "subject") var subject: String
    /// The address as a keyed hash (`KeyVault.recipientIndex`): enough to leave it out of a
    /// mailing, nothing for whoever reads the database.
    @Field(key: "address_index") var addressIndex: String
    @Field(key: "purpose") var purpose: String
    @Field(key: "outcome") var outcome: String
    @Field(key: "occurred_at") var occurredAt: Date
    @OptionalField(key: "due_at") var dueAt: Date?
    @Field(key: "keep_until") var keepUntil: Date

    var properties: [any AnyProperty] { [$id, $subject, $addressIndex, $purpose, $outcome, $occurredAt, $dueAt, $keepUntil] }

    init() {}

    init(subject: String, addressIndex: String, purpose: String, outcome: ObjectionRules.Outcome, at date: Date, dueAt: Date?, keepUntil: Date) {
        self.subject = subject
        self.addressIndex = addressIndex
        self.purpose = purpose
        self.outcome = outcome.rawValue
        occurredAt = date
        self.dueAt = dueAt
        self.keepUntil = keepUntil
    }
}

/// Consents and objections (the API and the account page share it).
struct ConsentService: Sendable {
    let database: any Database
    let services: DossierServices

    init(_ request: Request) {
        self.init(database: request.db, services: request.dossier)
    }

    init(database: any Database, services: DossierServices) {
        self.database = database
        self.services = services
    }

    var register: Register { services.register.register }

    struct ConsentState: Content, Equatable {
        var purpose: String
        var name: String
        /// "given", "withdrawn" or "never".
        var state: String
        var at: Date?
        /// How else to withdraw it, in the register's words.
        var withdrawal: String?
    }

    struct ObjectionState: Content, Equatable {
        var purpose: String
        var name: String
        var outcome: String
        var at: Date
        var dueAt: Date?
    }

    static func unknownPurpose(_ language: Language, _ purpose: String) -> String {
        language == .fr ? "« \(String(purpose.prefix(60))) » n'est pas une finalité fondée sur votre consentement."
            : "'\(String(purpose.prefix(60)))' is not a purpose based on your consent."
    }

    /// The state of each consent purpose for the person.
    func consents(of account: Account, language: Language) async throws -> [ConsentState] {
        let rows = try await ConsentRecord.query(on: database).filter(\.$subject == account.subject).sort(\.$position).all()
        return ConsentRules.purposes(in: register).map { purpose in
            let last = rows.last { $0.purpose == purpose.id }
            return ConsentState(purpose: purpose.id, name: purpose.name[language], state: last?.action.rawValue ?? "never", at: last?.occurredAt,
                                withdrawal: purpose.withdrawal?[language])
        }
    }

    private func consentPurpose(_ id: String, language: Language) throws -> Purpose {
        guard let purpose = ConsentRules.purposes(in: register).first(where: { $0.id == id }) else {
            throw Abort(.unprocessableEntity, reason: Self.unknownPurpose(language, id))
        }
        return purpose
    }

    private static func current(_ purpose: String, of subject: String, on db: any Database) async throws -> ConsentRecord? {
        try await ConsentRecord.query(on: db).filter(\.$subject == subject).filter(\.$purpose == purpose)
            .sort(\.$position, .descending).first()
    }

    /// Gives consent; returns the state and whether it is new.
    func give(_ account: Account, purpose id: String, language: Language) async throws -> (ConsentState, created: Bool) {
        let purpose = try consentPurpose(id, language: language)
        // Consents and objections speak for the address's owner: not before the address is proved.
        try RentalFileService.requireVerified(account, language: language)
        let now = services.clock.now
        let created = try await services.audit.transaction(on: database) { db, audit -> Bool in
            try await ErasureService.lockAccount(try account.requireID(), on: db)
            // An objection to direct marketing is absolute: no consent afterwards undoes it.
            if try await ObjectionRecord.query(on: db).filter(\.$subject == account.subject).filter(\.$purpose == purpose.id)
                .filter(\.$outcome == ObjectionRules.Outcome.upheld.rawValue).count() > 0 {
                throw Abort(.conflict, reason: language == .fr ? "Vous vous êtes opposé à cette finalité : elle ne vous concerne plus."
                    : "You objected to this purpose: it no longer applies to you.")
            }
            let current = try await Self.current(purpose.id, of: account.subject, on: db)
            if current?.action == .given { return false }
            try await ConsentRecord(subject: account.subject, purpose: purpose.id, position: (current?.position ?? 0) + 1, action: .given, at: now,
                                    policyVersion: register.version, source: "account").create(on: db)
            audit.record(AuditEvent(action: "consent.given", subject: account.subject, purpose: ConsentRecord.purpose,
                                    details: ["purpose": purpose.id, "version": register.version]), by: account.subject)
            return true
        }
        guard let state = try await consents(of: account, language: language).first(where: { $0.purpose == purpose.id }) else {
            throw Abort(.unprocessableEntity, reason: Self.unknownPurpose(language, purpose.id))
        }
        return (state, created)
    }

    /// Withdraws consent (409 when not given).
    func withdraw(_ account: Account, purpose id: String, language: Language) async throws {
        // A purpose the register no longer bases on consent can still be withdrawn if it was given.
        if (try? consentPurpose(id, language: language)) == nil,
           try await Self.current(id, of: account.subject, on: database)?.action != .given {
            throw Abort(.unprocessableEntity, reason: Self.unknownPurpose(language, id))
        }
        try await services.audit.transaction(on: database) { db, audit in
            try await ErasureService.lockAccount(try account.requireID(), on: db)
            guard try await Self.withdraw(id, of: account.subject, source: "account", services: services, audit: audit, on: db) else {
                throw Abort(.conflict, reason: language == .fr ? "Ce consentement n'est pas donné." : "This consent is not given.")
            }
        }
    }

    /// Records a withdrawal in the caller's transaction if the consent is given; says whether it was.
    static func withdraw(_ purpose: String, of subject: String, source: String, services: DossierServices, audit: AuditLog,
                         on db: any Database) async throws -> Bool {
        guard let current = try await current(purpose, of: subject, on: db), current.action == .given else { return false }
        try await withdrawAll(latest: [(purpose, current.position)], of: subject, source: source, services: services, audit: audit, on: db)
        return true
    }

    /// Withdraws consents still given, `latest` being each purpose's latest position in the
    /// ledger: two statements, whatever the number of purposes (an erasure withdraws them all).
    /// The proof is kept as the register says, from the withdrawal.
    static func withdrawAll(latest: [(purpose: String, position: Int)], of subject: String, source: String, services: DossierServices,
                            audit: AuditLog, on db: any Database) async throws {
        guard !latest.isEmpty else { return }
        let register = services.register.register
        let now = services.clock.now
        let keepUntil = (register.purpose(ConsentRecord.purpose)?.rules(for: ConsentRecord.dataCategory).first?.keep ?? RetentionPeriod(5, .year)).added(to: now)
        // The rows of these episodes (given, then withdrawn); earlier ones keep their own end. The
        // new rows are not among them (sent with the transaction's other writes, on one snapshot).
        audit.writes.update(ConsentRecord.query(on: db).filter(\.$subject == subject).filter(\.$purpose ~~ latest.map(\.purpose))
            .filter(\.$keepUntil == nil).set(\.$keepUntil, to: keepUntil))
        let rows = latest.map { ConsentRecord(subject: subject, purpose: $0.purpose, position: $0.position + 1, action: .withdrawn, at: now,
                                               policyVersion: register.version, source: source) }
        for row in rows { row.keepUntil = keepUntil }
        audit.writes.insert(rows)
        for row in rows {
            audit.record(AuditEvent(action: "consent.withdrawn", subject: subject, purpose: ConsentRecord.purpose,
                                    details: ["purpose": row.purpose, "source": source]), by: subject)
        }
    }

    static func notObjectable(_ language: Language, _ purpose: Purpose) -> String {
        language == .fr
            ? "« \(purpose.name[language]) » repose sur le contrat ou une obligation légale : l'opposition ne s'y applique pas (art. 21 du RGPD). Vous pouvez supprimer votre compte."
            : "\"\(purpose.name[language])\" rests on the contract or a legal obligation: the right to object does not apply to it (GDPR Art. 21). You can delete your account."
    }

    static func withdrawInstead(_ language: Language, _ purpose: Purpose) -> String {
        language == .fr ? "« \(purpose.name[language]) » repose sur votre consentement : retirez-le (DELETE /api/v1/me/consents/\(purpose.id), ou votre compte)."
            : "\"\(purpose.name[language])\" rests on your consent: withdraw it (DELETE /api/v1/me/consents/\(purpose.id), or your account page)."
    }

    func objections(of account: Account, language: Language) async throws -> [ObjectionState] {
        try await ObjectionRecord.query(on: database).filter(\.$subject == account.subject).sort(\.$occurredAt).all().map { row in
            ObjectionState(purpose: row.purpose, name: register.purpose(row.purpose)?.name[language] ?? row.purpose, outcome: row.outcome,
                           at: row.occurredAt, dueAt: row.dueAt)
        }
    }

    /// Objects to a purpose; returns the objection and whether it is new.
    /// `source`: `person` (a form, the API), or `gpc` (the browser's Global Privacy Control).
    func object(_ account: Account, purpose id: String, language: Language, source: String = "person") async throws -> (ObjectionState, created: Bool) {
        guard let purpose = register.purpose(id) else {
            throw Abort(.unprocessableEntity, reason: language == .fr ? "Finalité inconnue : « \(String(id.prefix(60))) »." : "No such purpose: '\(String(id.prefix(60)))'.")
        }
        guard let outcome = ObjectionRules.outcome(for: purpose) else {
            throw Abort(.unprocessableEntity, reason: purpose.reliesOnConsent ? Self.withdrawInstead(language, purpose) : Self.notObjectable(language, purpose))
        }
        // Consents and objections speak for the address's owner: not before the address is proved.
        try RentalFileService.requireVerified(account, language: language)
        let now = services.clock.now
        guard let address = EmailAddress(account.email) else { throw Abort(.conflict, reason: "The account's address is not valid.") }
        let index = try await services.vault.recipientIndex(address)
        let keep = register.purpose(ObjectionRecord.purpose)?.rules(for: ObjectionRecord.dataCategory).first?.keep ?? RetentionPeriod(5, .year)
        // An objection to weigh goes to staff's request queue, with the deadline of the right to object.
        let objectionID = UUID()
        var review: (RightsRequest, RightsRequest.Payload)?
        if outcome == .toReview, let right = register.rights.first(where: { $0.id == "objection" }) {
            let payload = RightsRequest.Payload(name: "\(account.firstName) \(account.lastName)", email: account.email,
                                                details: purpose.name[account.language])
            review = (try await RequestService.prepare(right: right, channel: .account, received: now, accountSubject: account.subject, payload: payload,
                                                       language: account.language, objectionID: objectionID, services: services), payload)
        }
        let reviewRequest = review
        let created: Bool
        do {
            created = try await services.audit.transaction(on: database) { db, audit -> Bool in
                try await ErasureService.lockAccount(try account.requireID(), on: db)
                if try await ObjectionRecord.query(on: db).filter(\.$subject == account.subject).filter(\.$purpose == purpose.id).count() > 0 {
                    return false
                }
                let objection = ObjectionRecord(subject: account.subject, addressIndex: index, purpose: purpose.id, outcome: outcome, at: now,
                                                dueAt: reviewRequest?.0.dueAt ?? (outcome == .toReview ? ObjectionRules.reviewDeadline.added(to: now) : nil),
                                                keepUntil: keep.added(to: now))
                objection.id = objectionID
                try await objection.create(on: db)
                if let (request, payload) = reviewRequest {
                    try await RequestService.insert(request, payload: payload, actor: account.subject, services: services, audit: audit, on: db)
                }
                // Objecting to direct marketing ends any consent to it.
                if outcome == .upheld {
                    _ = try await Self.withdraw(purpose.id, of: account.subject, source: "objection", services: services, audit: audit, on: db)
                }
                audit.record(AuditEvent(action: "objection.recorded", subject: account.subject, purpose: ObjectionRecord.purpose,
                                        details: ["purpose": purpose.id, "outcome": outcome.rawValue, "source": source]), by: account.subject)
                return true
            }
        } catch {
            if let (request, _) = reviewRequest { try? await services.vault.shred(request.subject) }
            throw error
        }
        // Already made: the request prepared for it was not stored, nor is its key needed.
        if !created, let (request, _) = reviewRequest { try? await services.vault.shred(request.subject) }
        guard let state = try await objections(of: account, language: language).first(where: { $0.purpose == purpose.id }) else {
            throw Abort(.notFound, reason: "This account no longer exists.")
        }
        return (state, created)
    }

    /// Global Privacy Control (`Sec-GPC: 1`, `/.well-known/gpc.json`): a signed-in person whose
    /// browser sends it objects, by automated means as GDPR Art. 21(5) allows, to every purpose
    /// of the register that is direct marketing (absolute: the objection list). Recorded at
    /// sign-in, once a purpose (an objection already made stays as it is); an address not yet
    /// proved cannot object (as by hand), and is asked again at the next sign-in. Never fails the
    /// sign-in: a failure is logged.
    func honourGlobalPrivacyControl(of account: Account, logger: Logger) async {
        guard account.emailVerifiedAt != nil else { return }
        let marketing = register.purposes.filter { ObjectionRules.outcome(for: $0) == .upheld }
        do {
            // Read first: a sign-in that changes nothing writes nothing. A consent the person
            // gave to one of them stands: their choice for that purpose is more specific than
            // a signal their browser sends to every site.
            let objected = Set(try await ObjectionRecord.query(on: database).filter(\.$subject == account.subject).all().map(\.purpose))
            let ledger = try await ConsentRecord.query(on: database).filter(\.$subject == account.subject).sort(\.$position).all()
            let consented = Set(Dictionary(grouping: ledger, by: \.purpose).compactMap { purpose, rows in
                rows.last?.action == .given ? purpose : nil
            })
            for purpose in marketing where !objected.contains(purpose.id) && !consented.contains(purpose.id) {
                let (_, created) = try await object(account, purpose: purpose.id, language: account.language, source: "gpc")
                if created { logger.info("Global Privacy Control: objection to \(purpose.id) recorded") }
            }
        } catch {
            logger.warning("Global Privacy Control: an objection could not be recorded (\(String(describing: type(of: error))))")
        }
    }

    /// Whether an address is on the objection list for a purpose (what a mailing checks first).
    static func objected(_ email: EmailAddress, to purpose: String, services: DossierServices, on db: any Database) async throws -> Bool {
        let index = try await services.vault.recipientIndex(email)
        return try await ObjectionRecord.query(on: db).filter(\.$addressIndex == index).filter(\.$purpose == purpose)
            .filter(\.$outcome == ObjectionRules.Outcome.upheld.rawValue).count() > 0
    }

    /// Ledger rows and objections whose time is up.
    @discardableResult
    static func sweepExpired(on database: any Database, now: Date) async throws -> Int {
        try await sweepConsents(on: database, now: now) + sweepObjections(on: database, now: now)
    }

    /// The ledger's records whose time is up (set when the consent was withdrawn).
    @discardableResult
    static func sweepConsents(on database: any Database, now: Date, excluding held: Set<String> = []) async throws -> Int {
        let due = try await ConsentRecord.query(on: database).filter(\.$keepUntil <= now).all().filter { !held.contains($0.subject) }.compactMap(\.id)
        for batch in due.batches(of: 1000) { try await ConsentRecord.query(on: database).filter(\.$id ~~ Array(batch)).delete() }
        return due.count
    }

    /// The objection list's entries whose time is up. An objection stands as long as the account
    /// does (Art. 21 has no end); its 5 years are the list's after the account is gone.
    @discardableResult
    static func sweepObjections(on database: any Database, now: Date, excluding held: Set<String> = []) async throws -> Int {
        let gone = try await expiredObjections(on: database, now: now).filter { !held.contains($0.subject) }
        for objection in gone { try await objection.delete(on: database) }
        return gone.count
    }

    static func expiredObjections(on database: any Database, now: Date) async throws -> [ObjectionRecord] {
        let due = try await ObjectionRecord.query(on: database).filter(\.$keepUntil <= now).all()
        let live = Set(try await Account.query(on: database).filter(\.$subjectID ~~ due.compactMap { UUID(uuidString: $0.subject) }).all().map(\.subject))
        return due.filter { !live.contains($0.subject) }
    }
}
