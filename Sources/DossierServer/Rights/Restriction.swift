import DossierCore
import Fluent
import Foundation
import SQLKit
import Vapor

/// A restricted data subject (GDPR Art. 18): the tenant, and each guarantor of their file, one
/// row each, for as long as the restriction lasts. `RestrictionGuard` reads it.
final class RestrictedSubject: Model, @unchecked Sendable {
    static let schema = "restrictions"

    @ID(key: .id) var id: UUID?
    @Parent(key: "account_id") var account: Account
    @Field(key: "subject") var subject: String
    @Field(key: "requested_at") var requestedAt: Date

    var properties: [any AnyProperty] { [$id, $account, $subject, $requestedAt] }

    init() {}

    init(accountID: UUID, subject: String, at date: Date) {
        $account.id = accountID
        self.subject = subject
        requestedAt = date
    }
}

/// Processing refused because the person restricted it: 409 to the person (lift it first),
/// 403 to anyone else (a recipient, staff).
struct ProcessingRestricted: AbortError {
    var byOwner: Bool
    var status: HTTPStatus { byOwner ? .conflict : .forbidden }
    var reason: String {
        byOwner
            ? "The processing of your data is restricted (GDPR Art. 18): lift the restriction from your account to change or share it. / Le traitement de vos données est limité : levez la limitation depuis votre compte pour les modifier ou les partager."
            : "The person this file belongs to has restricted its processing (GDPR Art. 18): it cannot be viewed, shared or reviewed until they lift it. / La personne a demandé la limitation du traitement de ce dossier."
    }
}

/// The one place restriction is enforced: the audit trail calls it with the entries a
/// transaction is about to append (every processing of personal data writes one), and the
/// transaction rolls back when one is about a restricted subject, or by one, and its action is
/// not among `RestrictionRules.permitted`.
enum RestrictionGuard {
    static func check(_ events: [(AuditEvent, String)], on database: any Database) async throws {
        let processing = events.filter { !RestrictionRules.permits($0.0.action) }
        guard !processing.isEmpty else { return }
        var subjects = Set<String>()
        for (event, actor) in processing {
            if let subject = event.subject { subjects.insert(subject) }
            subjects.insert(actor)
        }
        guard !subjects.isEmpty else { return }
        let restricted = Set(try await RestrictedSubject.query(on: database).filter(\.$subject ~~ Array(subjects)).all().map(\.subject))
        guard !restricted.isEmpty else { return }
        for (event, actor) in processing where event.subject.map(restricted.contains) == true || restricted.contains(actor) {
            throw ProcessingRestricted(byOwner: restricted.contains(actor))
        }
    }
}

/// Restricting and lifting (the API and the account page share it).
struct RestrictionService: Sendable {
    let database: any Database
    let services: DossierServices

    init(_ request: Request) {
        self.init(database: request.db, services: request.dossier)
    }

    init(database: any Database, services: DossierServices) {
        self.database = database
        self.services = services
    }

    struct State: Content, Equatable {
        var restricted: Bool
        var since: Date?
    }

    func state(of account: Account) async throws -> State {
        let row = try await RestrictedSubject.query(on: database).filter(\.$account.$id == account.requireID())
            .filter(\.$subject == account.subject).first()
        return State(restricted: row != nil, since: row?.requestedAt)
    }

    static func notTenant(_ language: Language) -> String {
        language == .fr ? "Seul un locataire peut limiter le traitement de son dossier depuis son compte ; écrivez au délégué à la protection des données."
            : "Only a tenant can restrict the processing of their file from their account; write to the data protection officer."
    }

    /// Restricts the processing of the account's data (and its guarantors'); recipients are told.
    /// Returns the state, and whether it was already so.
    func restrict(_ account: Account, language: Language) async throws -> (State, created: Bool) {
        guard account.role == .tenant else { throw Abort(.conflict, reason: Self.notTenant(language)) }
        // Whoever signed up with someone else's address must not freeze what its owner will claim.
        try RentalFileService.requireVerified(account, language: language)
        let accountID = try account.requireID()
        let now = services.clock.now
        do {
            return try await restrict(accountID, account, now: now)
        } catch where (error as? any DatabaseError)?.isConstraintFailure == true {
            // Restricted by a request made at the same time.
            return (try await state(of: account), false)
        }
    }

    private func restrict(_ accountID: UUID, _ account: Account, now: Date) async throws -> (State, created: Bool) {
        try await services.audit.transaction(on: database) { db, audit in
            try await ErasureService.lockAccount(accountID, on: db)
            if let existing = try await RestrictedSubject.query(on: db).filter(\.$account.$id == accountID)
                .filter(\.$subject == account.subject).first() {
                return (State(restricted: true, since: existing.requestedAt), false)
            }
            let guarantors = try await Guarantor.query(on: db).filter(\.$account.$id == accountID).all().map(\.subject)
            for subject in [account.subject] + guarantors {
                try await RestrictedSubject(accountID: accountID, subject: subject, at: now).create(on: db)
            }
            try await RecipientNotice.enqueue(.restricted, for: account, services: services, audit: audit, on: db)
            audit.record(AuditEvent(action: "restriction.requested", subject: account.subject, purpose: ErasureRecord.purpose,
                                    details: ["guarantors": "\(guarantors.count)"]), by: account.subject)
            return (State(restricted: true, since: now), true)
        }
    }

    /// Lifts it. 409 when nothing is restricted.
    func lift(_ account: Account, language: Language) async throws {
        let accountID = try account.requireID()
        try await services.audit.transaction(on: database) { db, audit in
            guard try await RestrictedSubject.query(on: db).filter(\.$account.$id == accountID).count() > 0 else {
                throw Abort(.conflict, reason: language == .fr ? "Le traitement de vos données n'est pas limité." : "The processing of your data is not restricted.")
            }
            try await RestrictedSubject.query(on: db).filter(\.$account.$id == accountID).delete()
            audit.record(AuditEvent(action: "restriction.lifted", subject: account.subject, purpose: ErasureRecord.purpose), by: account.subject)
        }
    }

    /// Every subject restricted now (few: the review queue leaves them out before its limit).
    static func allRestricted(on database: any Database) async throws -> [String] {
        try await RestrictedSubject.query(on: database).all().map(\.subject)
    }

    /// The subjects restricted now, among `subjects` (the inbox leaves them out).
    static func restricted(among subjects: [String], on database: any Database) async throws -> Set<String> {
        guard !subjects.isEmpty else { return [] }
        return Set(try await RestrictedSubject.query(on: database).filter(\.$subject ~~ subjects).all().map(\.subject))
    }
}
