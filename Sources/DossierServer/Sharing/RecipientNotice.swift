import DossierCore
import Fluent
import Foundation

/// GDPR Art. 19: when a tenant rectifies or erases data of their file, or restricts its
/// processing, each recipient holding a link that is not revoked or expired is told by email,
/// without the data. A recipient told in the last hour is not told again for the next change
/// (a tenant correcting five fields sends one notice).
enum RecipientNotice {
    static let quietPeriod: TimeInterval = 3600

    /// Enqueues the notices in the caller's transaction (with the change itself); returns how many.
    @discardableResult
    static func enqueue(_ change: SharedDataChange, for account: Account, services: DossierServices, audit: AuditLog,
                        on db: any Database) async throws -> Int {
        let now = services.clock.now
        let shares = try await Share.query(on: db).filter(\.$account.$id == account.requireID()).filter(\.$revokedAt == nil)
            .filter(\.$expiresAt > now).all()
        let ledger = ThrottleLedger(database: db)
        var sent = 0
        for share in shares {
            let shareID = try share.requireID()
            let key = ThrottleLedger.Key("art19-notice", shareID.uuidString)
            guard try await ledger.times(key, since: now - quietPeriod).isEmpty else { continue }
            let details = try await services.vault.openJSON(ShareDetails.self, share.sealed, for: share.subject,
                                                            context: Share.detailsContext(shareID))
            let template = MailTemplate.sharedFileChanged(tenantName: GuarantorNotice.displayName(account.firstName, account.lastName),
                                                          change: change)
            try await services.mailer.enqueue(template, to: details.email, language: share.language, subject: share.subject,
                                              accountID: account.id, on: db)
            try await ledger.record([key], at: now)
            audit.record(AuditEvent(action: "share.recipient-notified", subject: share.subject, purpose: "services",
                                    details: ["share": shareID.uuidString.lowercased(), "change": change.rawValue]), by: "system")
            sent += 1
        }
        return sent
    }
}
