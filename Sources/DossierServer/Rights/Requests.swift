import DossierCore
import Fluent
import Foundation
import SQLKit
import Vapor

/// A request to exercise a right that staff handle (GDPR Art. 12): filed by the person from
/// their account, or received by email or post and entered by staff; an objection to a purpose
/// of legitimate interests comes here to be weighed. Who asked and what they wrote are sealed
/// with a key of the request's own, so the record outlives the account (the register keeps it
/// 5 years from the answer, as proof) and dies with its key on its day.
final class RightsRequest: Model, @unchecked Sendable {
    static let schema = "rights_requests"
    static let purpose = "rights-requests"
    static let dataCategory = "rights-requests"
    static let proofCategory = "identity-proof"

    @ID(key: .id) var id: UUID?
    /// What the requester and staff quote: "R-" and 8 characters.
    @Field(key: "reference") var reference: String
    /// The request's own key (and its subject in the audit trail).
    @Field(key: "subject") var subject: String
    /// The account it concerns, by its pseudonymous subject, when known.
    @OptionalField(key: "account_subject") var accountSubject: String?
    /// The register's right (`access`, `erasure`, …).
    @Field(key: "right_id") var right: String
    @Field(key: "channel") var channel: String
    @Field(key: "status") var status: String
    /// `Payload`, sealed.
    @Field(key: "sealed") var sealed: Data
    @Field(key: "language") var language: String
    @Field(key: "received_at") var receivedAt: Date
    /// The end of the last day to answer (`RequestDeadline.endsAt`), and that day.
    @Field(key: "due_at") var dueAt: Date
    @Field(key: "due_day") var dueDay: String
    @OptionalField(key: "extended_at") var extendedAt: Date?
    /// The proof of identity while it waits to be checked: a sealed blob.
    @OptionalField(key: "proof_key") var proofKey: String?
    /// What the check concluded, and when: all that is kept of it.
    @OptionalField(key: "identity") var identity: String?
    @OptionalField(key: "identity_checked_at") var identityCheckedAt: Date?
    @OptionalField(key: "objection_id") var objectionID: UUID?
    @OptionalField(key: "refusal") var refusal: String?
    @OptionalField(key: "closed_at") var closedAt: Date?
    @OptionalField(key: "closed_by") var closedBy: String?
    @Field(key: "reminders") var reminders: Int
    @OptionalField(key: "keep_until") var keepUntil: Date?

    var properties: [any AnyProperty] {
        [$id, $reference, $subject, $accountSubject, $right, $channel, $status, $sealed, $language, $receivedAt, $dueAt, $dueDay, $extendedAt,
         $proofKey, $identity, $identityCheckedAt, $objectionID, $refusal, $closedAt, $closedBy, $reminders, $keepUntil]
    }

    /// What is sealed: who asked, how to answer them, what they asked, and what staff wrote back.
    struct Payload: Codable, Sendable {
        var name: String
        var email: String?
        var details: String
        var extensionReason: String?
        var answer: String?
    }

    init() {}

    static func context(_ id: UUID) -> String { "rights-request:\(id.uuidString.lowercased())" }
    static func proofContext(_ id: UUID) -> String { "rights-request-proof:\(id.uuidString.lowercased())" }

    var statusValue: RequestRules.Status { RequestRules.Status(rawValue: status) ?? .open }
}

/// Rights requests, for the person (file, list) and for staff (the queue, identity, extension,
/// answer, refusal, reminders). The API and the pages share it.
struct RequestService: Sendable {
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

    /// What the person and staff see of a request.
    struct View: Content, Equatable {
        var id: UUID
        var reference: String
        var right: String
        var rightName: String
        var channel: String
        var status: String
        var receivedAt: Date
        var dueAt: Date
        /// The last day to answer, YYYY-MM-DD (Paris).
        var dueDay: String
        var extended: Bool
        var overdue: Bool
        var identity: String?
        var proofWaiting: Bool
        var refusal: String?
        var closedAt: Date?
        /// Staff's view only: who asked and what.
        var requesterName: String?
        var requesterEmail: String?
        var details: String?
        var extensionReason: String?
        var answer: String?
        /// Whether the request names an account (staff can export its data, read its directives).
        var account: Bool?
    }

    /// Open requests a person may have at once.
    static let openPerAccount = 10
    static let maximumDetails = 4000
    static let maximumProofBytes = 10 * 1024 * 1024
    /// Closed requests the queue lists, latest first.
    static let closedListed = 200

    func right(_ id: String, language: Language) throws -> Right {
        guard let right = RequestRules.types(in: register).first(where: { $0.id == id }) else {
            throw ValidationFailure(problems: [FieldProblem(field: "right", message: language == .fr
                    ? "Droit inconnu ; attendu : \(RequestRules.types(in: register).map(\.id).joined(separator: ", "))."
                    : "Unknown right; expected one of: \(RequestRules.types(in: register).map(\.id).joined(separator: ", ")).")])
        }
        return right
    }

    /// A person-typed text, held to `TextRules` (what the API document's patterns say): no
    /// control or invisible character (line breaks allowed when `multiline`), at most `maximum`
    /// scalars, something visible when `required`. Trimmed.
    static func text(_ value: String?, field: String, maximum: Int, required: Bool, multiline: Bool = true, language: Language) throws -> String {
        let raw = value ?? ""
        func problem(_ fr: String, _ en: String) -> ValidationFailure {
            ValidationFailure(problems: [FieldProblem(field: field, message: language == .fr ? fr : en)])
        }
        if TextRules.hasForbidden(raw, multiline: multiline) {
            throw problem("Caractère de contrôle ou invisible.", "A control or invisible character.")
        }
        if TextRules.length(raw) > maximum { throw problem("\(maximum) caractères au plus.", "At most \(maximum) characters.") }
        if required && TextRules.isBlank(raw) { throw problem("Obligatoire.", "Required.") }
        return raw.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func newReference() -> String {
        let alphabet = Array("ABCDEFGHJKMNPQRSTVWXYZ23456789")
        return "R-" + String((0..<8).map { _ in alphabet.randomElement()! })
    }

    // MARK: Filing

    /// The person files a request from their account.
    func file(_ account: Account, right id: String, details: String?, language: Language) async throws -> View {
        let right = try right(id, language: language)
        let details = try Self.text(details, field: "details", maximum: Self.maximumDetails, required: false, language: language)
        // The answer goes to the address: not before its owner proved it.
        try RentalFileService.requireVerified(account, language: language)
        let payload = RightsRequest.Payload(name: "\(account.firstName) \(account.lastName)", email: account.email, details: details)
        let row = try await create(right: right, channel: .account, received: services.clock.now, accountSubject: account.subject, payload: payload,
                                   language: account.language, actor: account.subject) { db in
            // Counted under the account's lock: two filings at once cannot pass the limit together.
            try await ErasureService.lockAccount(try account.requireID(), on: db)
            let open = try await RightsRequest.query(on: db).filter(\.$accountSubject == account.subject)
                .filter(\.$status ~~ [RequestRules.Status.open.rawValue, RequestRules.Status.awaitingIdentity.rawValue]).count()
            guard open < Self.openPerAccount else {
                throw Abort(.conflict, reason: language == .fr ? "Vous avez déjà \(open) demandes en cours : attendez nos réponses." : "You already have \(open) requests under way: wait for our answers.")
            }
        }
        return try await view(row, forStaff: false, language: language)
    }

    struct Received: Sendable {
        var right: String
        var channel: String
        var receivedAt: Date
        var name: String?
        var email: String?
        /// The address of the account the request is about, when it is not the requester's own:
        /// required for a post-mortem request (the deceased's, the heir writing from theirs).
        var concerning: String?
        var details: String?
        var language: Language
    }

    /// Staff enter a request received by email or post.
    func receive(_ input: Received, by staff: Account) async throws -> View {
        let language = staff.language
        let right = try right(input.right, language: language)
        guard let channel = RequestRules.Channel(rawValue: input.channel), channel != .account else {
            throw ValidationFailure(problems: [FieldProblem(field: "channel", message: "Expected email or post.")])
        }
        guard input.receivedAt <= services.clock.now else {
            throw ValidationFailure(problems: [FieldProblem(field: "receivedAt", message: "Expected the day it was received, not in the future.")])
        }
        let name = try Self.text(input.name, field: "name", maximum: 200, required: true, multiline: false, language: language)
        let details = try Self.text(input.details, field: "details", maximum: Self.maximumDetails, required: false, language: language)
        var email: EmailAddress?
        if let typed = input.email {
            guard let address = EmailAddress(typed) else {
                throw ValidationFailure(problems: [FieldProblem(field: "email", message: "Not an email address.")])
            }
            email = address
        }
        if channel == .email && email == nil {
            throw ValidationFailure(problems: [FieldProblem(field: "email", message: "A request received by email needs the address to answer.")])
        }
        // The account it concerns: the requester's own (found by their address), or, for a
        // post-mortem request, the deceased's, named apart (never the requester's own).
        var concerned = email
        if right.id == "post-mortem" {
            guard let typed = input.concerning, let address = EmailAddress(typed) else {
                throw ValidationFailure(problems: [FieldProblem(field: "concerning", message: "A post-mortem request names the address of the deceased's account.")])
            }
            guard address.canonical != email?.canonical else {
                throw ValidationFailure(problems: [FieldProblem(field: "concerning", message: "The deceased's address, not the requester's own.")])
            }
            concerned = address
        } else if input.concerning != nil {
            throw ValidationFailure(problems: [FieldProblem(field: "concerning", message: "Only a post-mortem request names another account: the others concern the requester's own.")])
        }
        var account: Account?
        if let concerned { account = try await Account.query(on: database).filter(\.$emailKey == concerned.canonical).first() }
        let payload = RightsRequest.Payload(name: name, email: email?.value, details: details)
        let row = try await create(right: right, channel: channel, received: input.receivedAt, accountSubject: account?.subject, payload: payload,
                                   language: input.language, actor: staff.subject) { _ in }
        return try await view(row, forStaff: true, language: language)
    }

    /// Records a request and acknowledges it to the requester, in one transaction.
    private func create(right: Right, channel: RequestRules.Channel, received: Date, accountSubject: String?, payload: RightsRequest.Payload,
                        language: Language, actor: String, objectionID: UUID? = nil,
                        check: @escaping @Sendable (any Database) async throws -> Void) async throws -> RightsRequest {
        let row = try await Self.prepare(right: right, channel: channel, received: received, accountSubject: accountSubject, payload: payload,
                                         language: language, objectionID: objectionID, services: services)
        do {
            try await services.audit.transaction(on: database) { db, audit in
                try await check(db)
                try await Self.insert(row, payload: payload, actor: actor, services: services, audit: audit, on: db)
            }
        } catch {
            // The request's key was made to seal it: nothing it sealed was stored.
            try? await services.vault.shred(row.subject)
            throw error
        }
        return row
    }

    /// A request, sealed, not yet stored.
    static func prepare(right: Right, channel: RequestRules.Channel, received: Date, accountSubject: String?, payload: RightsRequest.Payload,
                        language: Language, objectionID: UUID?, services: DossierServices) async throws -> RightsRequest {
        let register = services.register.register
        let id = UUID()
        let row = RightsRequest()
        row.id = id
        row.reference = newReference()
        row.subject = UUID().uuidString.lowercased()
        row.accountSubject = accountSubject
        row.right = right.id
        row.channel = channel.rawValue
        row.status = RequestRules.Status.open.rawValue
        row.sealed = try await services.vault.sealJSON(payload, for: row.subject, context: RightsRequest.context(id))
        row.language = language.rawValue
        row.receivedAt = received
        let deadline = RequestRules.deadline(for: right, received: received, extended: false, in: register)
        row.dueAt = deadline.endsAt
        row.dueDay = deadline.lastDay
        row.objectionID = objectionID
        row.reminders = 0
        // A request nobody closes is not kept for ever: the record's years from the latest day
        // it could have been answered; closing it counts them from the answer instead.
        let latest = RequestRules.deadline(for: right, received: received, extended: true, in: register)
        row.keepUntil = Self.recordKeep(register).added(to: latest.endsAt)
        return row
    }

    /// Stores a prepared request in the caller's transaction and queues its acknowledgement.
    static func insert(_ row: RightsRequest, payload: RightsRequest.Payload, actor: String, services: DossierServices, audit: AuditLog,
                       on db: any Database) async throws {
        try await row.create(on: db)
        audit.record(AuditEvent(action: "request.filed", subject: row.subject, purpose: RightsRequest.purpose,
                                details: ["right": row.right, "channel": row.channel, "reference": row.reference]), by: actor)
        if let email = payload.email, let right = services.register.register.rights.first(where: { $0.id == row.right }) {
            let language = Language(rawValue: row.language) ?? .fr
            try await services.mailer.enqueue(.requestReceived(reference: row.reference, right: right.name, dueDay: row.dueDay), to: email,
                                              language: language, subject: row.subject, accountID: nil, on: db)
        }
    }

    /// How long the record of a request is kept once answered (the register's rule).
    static func recordKeep(_ register: Register) -> RetentionPeriod {
        register.purpose(RightsRequest.purpose)?.rules(for: RightsRequest.dataCategory).first?.keep ?? RetentionPeriod(5, .year)
    }

    // MARK: Reading

    func mine(_ account: Account, language: Language) async throws -> [View] {
        let rows = try await RightsRequest.query(on: database).filter(\.$accountSubject == account.subject).sort(\.$receivedAt, .descending).all()
        var views: [View] = []
        for row in rows { views.append(try await view(row, forStaff: false, language: language)) }
        return views
    }

    /// The queue: open requests first, by deadline; then the closed ones, latest first.
    func queue(status: String?, by staff: Account, language: Language) async throws -> [View] {
        var statuses = RequestRules.Status.allCases
        if let status {
            guard let chosen = RequestRules.Status(rawValue: status) else {
                throw Abort(.badRequest, reason: "status: expected one of \(RequestRules.Status.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            statuses = [chosen]
        }
        // Every open request, by deadline; then the latest closed ones (5 years of them pile up).
        let openStatuses = statuses.filter { !$0.isClosed }.map(\.rawValue)
        let closedStatuses = statuses.filter(\.isClosed).map(\.rawValue)
        let open = openStatuses.isEmpty ? [] : try await RightsRequest.query(on: database).filter(\.$status ~~ openStatuses).sort(\.$dueAt).all()
        let closed = closedStatuses.isEmpty ? [] : try await RightsRequest.query(on: database).filter(\.$status ~~ closedStatuses)
            .sort(\.$closedAt, .descending).limit(Self.closedListed).all()
        var views: [View] = []
        for row in open + closed { views.append(try await view(row, forStaff: true, language: language)) }
        if !views.isEmpty {
            try await services.audit.transaction(on: database) { _, audit in
                for row in open + closed {
                    audit.record(AuditEvent(action: "request.read", subject: row.subject, purpose: RightsRequest.purpose, reason: "queue"), by: staff.subject)
                }
            }
        }
        return views
    }

    /// Whether staff may act on the account a request names (its export, its directives): the
    /// person's own request from their account, or one from elsewhere once the requester's
    /// identity is verified (an address alone proves nothing). Open requests only.
    static func mayReachAccount(_ row: RightsRequest) -> Bool {
        guard !row.statusValue.isClosed, row.statusValue != .awaitingIdentity, row.accountSubject != nil else { return false }
        return row.channel == RequestRules.Channel.account.rawValue || row.identity == RequestRules.IdentityCheck.verified.rawValue
    }

    func find(_ id: UUID) async throws -> RightsRequest {
        guard let row = try await RightsRequest.find(id, on: database) else { throw Abort(.notFound, reason: "No such request.") }
        return row
    }

    /// One request, for staff; the reading is audited.
    func detail(_ id: UUID, by staff: Account, language: Language) async throws -> View {
        let row = try await find(id)
        try await services.audit.record(AuditEvent(action: "request.read", subject: row.subject, purpose: RightsRequest.purpose, reason: "handling"),
                                        by: staff.subject, on: database)
        return try await view(row, forStaff: true, language: language)
    }

    func payload(of row: RightsRequest) async throws -> RightsRequest.Payload {
        try await services.vault.openJSON(RightsRequest.Payload.self, row.sealed, for: row.subject, context: RightsRequest.context(try row.requireID()))
    }

    func view(_ row: RightsRequest, forStaff: Bool, language: Language) async throws -> View {
        // A record whose key its retention sweep destroyed a moment ago, its row about to go.
        let payload: RightsRequest.Payload
        do {
            payload = try await self.payload(of: row)
        } catch is KeyVault.Shredded {
            payload = RightsRequest.Payload(name: "—", email: nil, details: "")
        }
        let name = register.rights.first { $0.id == row.right }?.name[language] ?? row.right
        var account: Bool?
        if forStaff, let subject = row.accountSubject, let uuid = UUID(uuidString: subject) {
            account = try await Account.query(on: database).filter(\.$subjectID == uuid).count() > 0
        }
        return View(id: try row.requireID(), reference: row.reference, right: row.right, rightName: name, channel: row.channel, status: row.status,
                    receivedAt: row.receivedAt, dueAt: row.dueAt, dueDay: row.dueDay, extended: row.extendedAt != nil,
                    overdue: !row.statusValue.isClosed && services.clock.now >= row.dueAt, identity: row.identity, proofWaiting: row.proofKey != nil,
                    refusal: row.refusal, closedAt: row.closedAt,
                    requesterName: forStaff ? payload.name : nil, requesterEmail: forStaff ? payload.email : nil, details: payload.details,
                    extensionReason: payload.extensionReason, answer: payload.answer, account: account)
    }

    // MARK: Handling

    /// Changes an open request in one transaction (locked on PostgreSQL), re-sealing its payload
    /// when `change` alters it; 409 once closed.
    @discardableResult
    private func update(_ id: UUID, language: Language,
                        _ change: @escaping @Sendable (RightsRequest, inout RightsRequest.Payload, any Database, AuditLog) async throws -> Void) async throws -> RightsRequest {
        let vault = services.vault
        return try await services.audit.transaction(on: database) { db, audit in
            try await db.lockRow(RightsRequest.schema, id)
            guard let row = try await RightsRequest.find(id, on: db) else { throw Abort(.notFound, reason: "No such request.") }
            guard !row.statusValue.isClosed else {
                throw Abort(.conflict, reason: language == .fr ? "Cette demande est close." : "This request is closed.")
            }
            var payload = try await vault.openJSON(RightsRequest.Payload.self, row.sealed, for: row.subject, context: RightsRequest.context(id))
            try await change(row, &payload, db, audit)
            row.sealed = try await vault.sealJSON(payload, for: row.subject, context: RightsRequest.context(id))
            try await row.save(on: db)
            return row
        }
    }

    /// Extends the deadline by the register's two months (Art. 12(3)), telling the requester why,
    /// within the first month only.
    func extend(_ id: UUID, reason: String?, by staff: Account, language: Language) async throws -> View {
        let reason = try Self.text(reason, field: "reason", maximum: 1000, required: true, language: language)
        let now = services.clock.now
        let register = register
        let services = services
        let row = try await update(id, language: language) { row, payload, db, audit in
            guard row.extendedAt == nil else {
                throw Abort(.conflict, reason: language == .fr ? "Le délai a déjà été prolongé." : "The deadline was already extended.")
            }
            guard now < row.dueAt else {
                throw Abort(.conflict, reason: language == .fr ? "Le délai d'un mois est passé : il ne peut plus être prolongé (article 12, paragraphe 3, du RGPD)."
                    : "The one-month deadline has passed: it can no longer be extended (GDPR Article 12(3)).")
            }
            guard let right = register.rights.first(where: { $0.id == row.right }) else { throw Abort(.conflict, reason: "The register no longer lists this right.") }
            let deadline = RequestRules.deadline(for: right, received: row.receivedAt, extended: true, in: register)
            row.extendedAt = now
            row.dueAt = deadline.endsAt
            row.dueDay = deadline.lastDay
            row.reminders = 0
            if let objection = row.objectionID {
                try await ObjectionRecord.query(on: db).filter(\.$id == objection).set(\.$dueAt, to: deadline.endsAt).update()
            }
            payload.extensionReason = reason
            audit.record(AuditEvent(action: "request.extended", subject: row.subject, purpose: RightsRequest.purpose, details: ["due": deadline.lastDay]),
                         by: staff.subject)
            if let email = payload.email {
                try await services.mailer.enqueue(.requestExtended(reference: row.reference, right: right.name, dueDay: deadline.lastDay, reason: reason),
                                                  to: email, language: Language(rawValue: row.language) ?? .fr, subject: row.subject, accountID: nil, on: db)
            }
        }
        return try await view(row, forStaff: true, language: language)
    }

    /// Asks the requester for proof of identity (Art. 12(6)), where there is reasonable doubt.
    func askIdentity(_ id: UUID, by staff: Account, language: Language) async throws -> View {
        let services = services
        let row = try await update(id, language: language) { row, payload, db, audit in
            guard row.identity == nil else {
                throw Abort(.conflict, reason: language == .fr ? "L'identité a déjà été vérifiée." : "Identity was already checked.")
            }
            row.status = RequestRules.Status.awaitingIdentity.rawValue
            audit.record(AuditEvent(action: "request.identity-requested", subject: row.subject, purpose: RightsRequest.purpose), by: staff.subject)
            if let email = payload.email {
                try await services.mailer.enqueue(.identityRequested(reference: row.reference, words: services.register.register.rightsExercise.identityCheck,
                                                                      dpoEmail: services.register.register.dpo.email),
                                                  to: email, language: Language(rawValue: row.language) ?? .fr, subject: row.subject, accountID: nil, on: db)
            }
        }
        return try await view(row, forStaff: true, language: language)
    }

    /// Files the proof of identity the requester sent, sealed, until it is checked.
    func attachProof(_ id: UUID, data: Data, by staff: Account, language: Language) async throws -> View {
        guard !data.isEmpty else {
            throw ValidationFailure(problems: [FieldProblem(field: "file", message: language == .fr ? "Fichier vide." : "The file is empty.")])
        }
        guard data.count <= Self.maximumProofBytes else {
            throw Abort(.payloadTooLarge, reason: "A proof of identity of \(Self.maximumProofBytes / 1024 / 1024) MiB at most.")
        }
        let first = try await find(id)
        guard first.identity == nil, !first.statusValue.isClosed else {
            throw Abort(.conflict, reason: language == .fr ? "L'identité a déjà été vérifiée, ou la demande est close." : "Identity was already checked, or the request is closed.")
        }
        let key = UUID().uuidString.lowercased()
        let sealed = try await services.vault.seal(data, for: first.subject, context: RightsRequest.proofContext(id))
        try await BlobJournal.record([key], .write, at: services.clock.now, on: database)
        let replaced = first.proofKey
        let now = services.clock.now
        do {
            try await services.blobs.put(sealed, key: key)
            try await update(id, language: language) { row, _, db, audit in
                guard row.identity == nil, row.proofKey == replaced else { throw Abort(.conflict, reason: "Identity was checked, or another proof filed, meanwhile.") }
                row.proofKey = key
                try await BlobJournal.clear([key], on: db)
                if let replaced { try await BlobJournal.record([replaced], .delete, at: now, on: db) }
                audit.record(AuditEvent(action: "request.identity-proof-filed", subject: row.subject, purpose: RightsRequest.purpose), by: staff.subject)
            }
        } catch {
            await BlobJournal.undoWrites([key], blobs: services.blobs, on: database)
            throw error
        }
        if let replaced { try? await BlobJournal.completeDeletion(of: [replaced], blobs: services.blobs, on: database) }
        return try await view(try await find(id), forStaff: true, language: language)
    }

    /// Staff read the proof (audited) to check it.
    func proof(_ id: UUID, by staff: Account) async throws -> Data {
        let row = try await find(id)
        guard let key = row.proofKey else { throw Abort(.conflict, reason: "No proof of identity waits to be checked.") }
        try await services.audit.record(AuditEvent(action: "request.identity-proof-read", subject: row.subject, purpose: RightsRequest.purpose),
                                        by: staff.subject, on: database)
        return try await services.vault.open(try await services.blobs.get(key), for: row.subject, context: RightsRequest.proofContext(id))
    }

    /// Records the check and deletes the proof at once: only the fact is kept (the register's
    /// identity-proof rule: 0 days from the check).
    func checkIdentity(_ id: UUID, outcome: String, by staff: Account, language: Language) async throws -> View {
        guard let check = RequestRules.IdentityCheck(rawValue: outcome) else {
            throw ValidationFailure(problems: [FieldProblem(field: "outcome", message: "Expected verified or failed.")])
        }
        let now = services.clock.now
        let proof = try await find(id).proofKey
        let row = try await update(id, language: language) { row, _, db, audit in
            guard row.identity == nil else { throw Abort(.conflict, reason: language == .fr ? "L'identité a déjà été vérifiée." : "Identity was already checked.") }
            // The proof checked is the one read before: a newer one filed meanwhile waits for its own check.
            guard row.proofKey == proof else { throw Abort(.conflict, reason: "Another proof was filed meanwhile: check it again.") }
            row.identity = check.rawValue
            row.identityCheckedAt = now
            row.status = RequestRules.Status.open.rawValue
            if let key = row.proofKey { try await BlobJournal.record([key], .delete, at: now, on: db) }
            audit.record(AuditEvent(action: "request.identity-checked", subject: row.subject, purpose: RightsRequest.purpose,
                                    details: ["outcome": check.rawValue, "proof": row.proofKey == nil ? "none" : "deleted"]), by: staff.subject)
            row.proofKey = nil
        }
        // The journal finishes it at the next sweep if the store fails now: the answer stands.
        if let proof { try? await BlobJournal.completeDeletion(of: [proof], blobs: services.blobs, on: database) }
        return try await view(row, forStaff: true, language: language)
    }

    /// Closes the request as answered. An objection to review is upheld; post-mortem directives
    /// carried out are deleted (the register keeps them until then).
    func answer(_ id: UUID, note: String?, by staff: Account, language: Language) async throws -> View {
        let note = try Self.text(note, field: "answer", maximum: Self.maximumDetails, required: false, language: language)
        let row = try await close(id, status: .answered, refusal: nil, text: note.isEmpty ? nil : note, by: staff, language: language) { row, db, audit in
            if let objection = row.objectionID {
                try await ObjectionRecord.query(on: db).filter(\.$id == objection).set(\.$outcome, to: ObjectionRules.Outcome.upheld.rawValue)
                    .set(\.$dueAt, to: nil).update()
            }
            // Carried out only on a request from someone else (the heir, by email or post) whose
            // identity staff verified: never on the person's own request, nor on a stranger's word.
            if row.right == "post-mortem", row.channel != RequestRules.Channel.account.rawValue,
               row.identity == RequestRules.IdentityCheck.verified.rawValue, let subject = row.accountSubject {
                let deleted = try await DirectiveRecord.query(on: db).filter(\.$subject == subject).count()
                if deleted > 0 {
                    try await DirectiveRecord.query(on: db).filter(\.$subject == subject).delete()
                    audit.record(AuditEvent(action: "directives.executed", subject: subject, purpose: RightsRequest.purpose,
                                            details: ["request": row.reference]), by: staff.subject)
                }
            }
        }
        return try await view(row, forStaff: true, language: language)
    }

    /// Refuses the request with its reason and the way to complain (Art. 12(4)).
    func refuse(_ id: UUID, reason: String, details: String?, by staff: Account, language: Language) async throws -> View {
        guard let refusal = RequestRules.Refusal(rawValue: reason) else {
            throw ValidationFailure(problems: [FieldProblem(field: "reason", message: "Expected one of: \(RequestRules.Refusal.allCases.map(\.rawValue).joined(separator: ", ")).")])
        }
        let details = try Self.text(details, field: "details", maximum: Self.maximumDetails, required: false, language: language)
        let row = try await close(id, status: .refused, refusal: refusal, text: details.isEmpty ? nil : details, by: staff, language: language) { row, db, _ in
            if let objection = row.objectionID {
                try await ObjectionRecord.query(on: db).filter(\.$id == objection).set(\.$outcome, to: ObjectionRules.Outcome.refused.rawValue).set(\.$dueAt, to: nil).update()
            }
        }
        return try await view(row, forStaff: true, language: language)
    }

    private func close(_ id: UUID, status: RequestRules.Status, refusal: RequestRules.Refusal?, text: String?, by staff: Account, language: Language,
                       also: @escaping @Sendable (RightsRequest, any Database, AuditLog) async throws -> Void) async throws -> RightsRequest {
        let now = services.clock.now
        let register = register
        let services = services
        let keep = Self.recordKeep(register)
        let proof = try await find(id).proofKey
        let row = try await update(id, language: language) { row, payload, db, audit in
            guard row.proofKey == proof else { throw Abort(.conflict, reason: "A proof of identity was filed meanwhile: look again.") }
            row.status = status.rawValue
            row.refusal = refusal?.rawValue
            row.closedAt = now
            row.closedBy = staff.subject
            row.keepUntil = keep.added(to: now)
            payload.answer = text
            // A proof nobody checked goes with the answer.
            if let key = row.proofKey { try await BlobJournal.record([key], .delete, at: now, on: db) }
            row.proofKey = nil
            try await also(row, db, audit)
            audit.record(AuditEvent(action: status == .answered ? "request.answered" : "request.refused", subject: row.subject, purpose: RightsRequest.purpose,
                                    details: ["right": row.right, "reason": refusal?.rawValue ?? ""].filter { !$0.value.isEmpty }), by: staff.subject)
            if let email = payload.email, let right = register.rights.first(where: { $0.id == row.right }) {
                let template: MailTemplate = refusal.map { .requestRefused(reference: row.reference, right: right.name, reason: $0, details: text) }
                    ?? .requestAnswered(reference: row.reference, right: right.name, note: text)
                try await services.mailer.enqueue(template, to: email, language: Language(rawValue: row.language) ?? .fr, subject: row.subject,
                                                  accountID: nil, on: db)
            }
        }
        if let proof { try? await BlobJournal.completeDeletion(of: [proof], blobs: services.blobs, on: database) }
        return row
    }

    // MARK: Background

    /// Reminds staff (the DPO, else the administrators) of open requests nearing or past their
    /// deadline: 7 days before, the day before, and once passed. Returns the reminders sent.
    @discardableResult
    static func remind(services: DossierServices, on database: any Database) async throws -> Int {
        let now = services.clock.now
        let soon = now + Double(RequestRules.reminderDays.max() ?? 7) * 86_400
        let due = try await RightsRequest.query(on: database)
            .filter(\.$status ~~ [RequestRules.Status.open.rawValue, RequestRules.Status.awaitingIdentity.rawValue])
            .filter(\.$dueAt <= soon).all()
            .filter { RequestRules.remindersDue(deadline: $0.dueAt, sent: $0.reminders, now: now) > 0 }
        guard !due.isEmpty else { return 0 }
        var staff = try await Account.query(on: database).filter(\.$role == .dpo).all()
        if staff.isEmpty { staff = try await Account.query(on: database).filter(\.$role == .admin).all() }
        // Nobody to remind yet: the reminders wait for the first DPO or administrator.
        guard !staff.isEmpty else { return 0 }
        let register = services.register.register
        let recipients = staff
        var sent = 0
        for row in due {
            let id = try row.requireID()
            try await services.audit.transaction(on: database) { db, audit in
                try await db.lockRow(RightsRequest.schema, id)
                guard let current = try await RightsRequest.find(id, on: db), !current.statusValue.isClosed else { return }
                let count = RequestRules.remindersDue(deadline: current.dueAt, sent: current.reminders, now: now)
                guard count > 0 else { return }
                current.reminders += count
                try await current.save(on: db)
                let right = register.rights.first { $0.id == current.right }?.name ?? LocalizedText(fr: current.right, en: current.right)
                for member in recipients {
                    try await services.mailer.enqueue(.requestReminder(reference: current.reference, right: right, dueDay: current.dueDay,
                                                                       overdue: now >= current.dueAt,
                                                                       link: services.mailer.page("/staff/requests/\(id.uuidString.lowercased())", language: member.language)),
                                                      to: member, on: db)
                }
                audit.record(AuditEvent(action: "request.reminded", subject: current.subject, purpose: RightsRequest.purpose,
                                        details: ["staff": "\(recipients.count)"]), by: "system")
            }
            sent += 1
        }
        return sent
    }

    /// Request records whose time is up (5 years after the answer): the row, any proof, the key.
    @discardableResult
    static func sweepExpired(services: DossierServices, on database: any Database, now: Date, excluding held: Set<String> = []) async throws -> Int {
        let due = try await RightsRequest.query(on: database).filter(\.$keepUntil <= now).all()
            .filter { request in request.accountSubject.map { !held.contains($0) } ?? true }
        for row in due {
            let proof = row.proofKey
            try await services.vault.shred(row.subject)
            try await services.audit.transaction(on: database) { db, audit in
                try await RightsRequest.query(on: db).filter(\.$id == row.requireID()).delete()
                if let proof { try await BlobJournal.record([proof], .delete, at: now, on: db) }
                audit.record(AuditEvent(action: "request.deleted", subject: row.subject, purpose: RightsRequest.purpose, reason: "retention"), by: "system")
            }
            try? await BlobJournal.completeDeletion(of: proof.map { [$0] } ?? [], blobs: services.blobs, on: database)
        }
        return due.count
    }
}
