import DossierCore
import Fluent
import Foundation
import Vapor

/// A legal hold (a dispute, a legal claim): while it stands, nothing of the person is deleted,
/// neither by the retention engine nor by their own erasure (GDPR Art. 17(3)(e)); placing and
/// lifting it are audited. The reason is staff's own words, kept with the hold.
final class LegalHold: Model, @unchecked Sendable {
    static let schema = "legal_holds"
    static let purpose = "disputes"
    static let dataCategory = "disputes"
    static let maximumReason = 500

    @ID(key: .id) var id: UUID?
    @Field(key: "account_id") var accountID: UUID
    /// The person's pseudonymous subject: what every store of their data names.
    @Field(key: "subject") var subject: String
    @Field(key: "reason") var reason: String
    @Field(key: "placed_by") var placedBy: String
    @Field(key: "placed_at") var placedAt: Date
    @OptionalField(key: "lifted_by") var liftedBy: String?
    @OptionalField(key: "lifted_at") var liftedAt: Date?

    var properties: [any AnyProperty] { [$id, $accountID, $subject, $reason, $placedBy, $placedAt, $liftedBy, $liftedAt] }

    init() {}

    init(accountID: UUID, subject: String, reason: String, placedBy: String, now: Date) {
        self.accountID = accountID
        self.subject = subject
        self.reason = reason
        self.placedBy = placedBy
        placedAt = now
    }

    /// The people under a hold now: their subjects and accounts.
    struct Held: Sendable {
        var subjects: Set<String> = []
        var accounts: [UUID] = []
    }

    /// The people whose data no sweep may delete now: under a hold, or having restricted its
    /// processing (Art. 18: stored, nothing else).
    static func held(on db: any Database) async throws -> Held {
        let standing = try await LegalHold.query(on: db).filter(\.$liftedAt == nil).all()
        let restricted = try await RestrictedSubject.query(on: db).all()
        return Held(subjects: Set(standing.map(\.subject) + restricted.map(\.subject)),
                    accounts: Array(Set(standing.map(\.accountID) + restricted.map(\.$account.id))))
    }

    static func isHeld(_ subject: String, on db: any Database) async throws -> Bool {
        try await LegalHold.query(on: db).filter(\.$subject == subject).filter(\.$liftedAt == nil).count() > 0
    }

    /// Refused while a hold stands (409).
    struct Refusal: AbortError {
        var status: HTTPResponseStatus { .conflict }
        var reason: String
    }
}

/// Staff place and lift holds; the API's routes and the retention page share it.
struct HoldService: Sendable {
    let database: any Database
    let services: DossierServices

    /// The audit trail's record of a hold placed and lifted (which the audit trail's own
    /// retention reads: `AuditTrailStore`).
    static let placedAction = "hold.placed"
    static let liftedAction = "hold.lifted"

    struct View: Content {
        var id: UUID
        var account: UUID
        var reason: String
        var placedBy: String
        var placedAt: Date
        var liftedBy: String?
        var liftedAt: Date?

        init(_ hold: LegalHold) throws {
            id = try hold.requireID()
            account = hold.accountID
            reason = hold.reason
            placedBy = hold.placedBy
            placedAt = hold.placedAt
            liftedBy = hold.liftedBy
            liftedAt = hold.liftedAt
        }
    }

    /// Holds a tenant's data; 404 for any other account (staff and organisation members are
    /// not held here), 409 when a hold stands.
    func place(on accountID: UUID, reason: String, by staff: Account) async throws -> View {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= LegalHold.maximumReason else {
            throw Abort(.unprocessableEntity, reason: "Give the reason for the hold (\(LegalHold.maximumReason) characters at most).")
        }
        let now = services.clock.now
        let hold = try await services.audit.transaction(on: database) { db, audit -> LegalHold in
            try await ErasureService.lockAccount(accountID, on: db)
            guard let account = try await Account.find(accountID, on: db), account.role == .tenant else {
                throw Abort(.notFound, reason: "Not found.")
            }
            guard try await !LegalHold.isHeld(account.subject, on: db) else {
                throw LegalHold.Refusal(reason: "This person's data is already held.")
            }
            let hold = LegalHold(accountID: accountID, subject: account.subject, reason: reason, placedBy: staff.subject, now: now)
            try await hold.create(on: db)
            audit.record(AuditEvent(action: Self.placedAction, subject: account.subject, purpose: LegalHold.purpose,
                                    details: ["hold": try hold.requireID().uuidString.lowercased()]), by: staff.subject)
            return hold
        }
        return try View(hold)
    }

    /// Lifts the hold that stands on the account, if one does (lifting twice is lifting once);
    /// 404 for an account that does not exist.
    func lift(on accountID: UUID, by staff: Account) async throws {
        let now = services.clock.now
        try await services.audit.transaction(on: database) { db, audit in
            try await ErasureService.lockAccount(accountID, on: db)
            guard let hold = try await LegalHold.query(on: db).filter(\.$accountID == accountID).filter(\.$liftedAt == nil).first() else {
                return
            }
            hold.liftedAt = now
            hold.liftedBy = staff.subject
            try await hold.save(on: db)
            audit.record(AuditEvent(action: Self.liftedAction, subject: hold.subject, purpose: LegalHold.purpose,
                                    details: ["hold": try hold.requireID().uuidString.lowercased()]), by: staff.subject)
        }
    }

    /// The holds that stand, oldest first.
    func standing() async throws -> [View] {
        try await LegalHold.query(on: database).filter(\.$liftedAt == nil).sort(\.$placedAt).all().map(View.init)
    }
}
