import DossierCore
import Fluent
import Foundation

/// GDPR Art. 19: when a tenant rectifies or erases data of their file, or restricts its
/// processing, each recipient is told by email, without the data: those holding a link that is
/// not revoked or expired, and those who received something through a link closed since. A
/// recipient told in the last hour is not told again for the next change (five corrections in a
/// row send one notice); no address gets more than three notices a day, whoever shares with it,
/// and no tenant sends more than twenty a day (a tenant cannot make this a way to mail anyone).
enum RecipientNotice {
    static let quietPeriod: TimeInterval = 3600
    static let perAddressPerDay = 3
    static let perTenantPerDay = 20

    /// Enqueues the notices in the caller's transaction (with the change itself); returns how many.
    @discardableResult
    /// `sealedFor`: the subject to seal the notices with, when the tenant's own key is about to be
    /// destroyed (an erasure): the notices then outlive the account until they are sent.
    static func enqueue(_ change: SharedDataChange, for account: Account, services: DossierServices, audit: AuditLog,
                        sealedFor: String? = nil, on db: any Database) async throws -> Int {
        let now = services.clock.now
        let accountID = try account.requireID()
        let shares = try await Share.query(on: db).filter(\.$account.$id == accountID).all()
        let ledger = ThrottleLedger(database: db)
        let perTenant = ThrottleLedger.Key("art19-notice:tenant", account.subject)
        var sent = 0
        for share in shares {
            let shareID = try share.requireID()
            let open = !share.state(at: now).isFinal
            let received = try await ShareAccess.query(on: db).filter(\.$share.$id == shareID).count() > 0
            guard open || received else { continue }
            let key = ThrottleLedger.Key("art19-notice", shareID.uuidString)
            // The account's erasure is the last word on a link: told even after another notice.
            if change != .accountErased {
                guard try await ledger.times(key, since: now - quietPeriod).isEmpty else { continue }
            }
            // (The tenant's own links, once: the erasure is not held to the tenant's daily cap.)
            if change != .accountErased {
                guard try await ledger.times(perTenant, since: now - 86400).count < perTenantPerDay else { break }
            }
            let details = try await services.vault.openJSON(ShareDetails.self, share.sealed, for: share.subject,
                                                            context: Share.detailsContext(shareID))
            let perAddress = ThrottleLedger.Key("art19-notice:address", EmailAddress(details.email)?.canonical ?? details.email)
            guard try await ledger.times(perAddress, since: now - 86400).count < perAddressPerDay else { continue }
            let template = MailTemplate.sharedFileChanged(tenantName: details.tenant, change: change)
            try await services.mailer.enqueue(template, to: details.email, language: share.language, subject: sealedFor ?? share.subject,
                                              accountID: sealedFor == nil ? account.id : nil, on: db)
            try await ledger.record([key, perTenant, perAddress], at: now)
            audit.record(AuditEvent(action: "share.recipient-notified", subject: share.subject, purpose: "services",
                                    details: ["share": shareID.uuidString.lowercased(), "change": change.rawValue]), by: "system")
            sent += 1
        }
        return sent
    }
}
