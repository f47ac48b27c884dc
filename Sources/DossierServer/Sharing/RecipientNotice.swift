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
    /// `sealedFor`: the subject to seal the notices with, when the tenant's own key is about to be
    /// destroyed (an erasure): the notices then outlive the account until they are sent.
    @discardableResult
    static func enqueue(_ change: SharedDataChange, for account: Account, services: DossierServices, audit: AuditLog,
                        sealedFor: String? = nil, on db: any Database) async throws -> Int {
        let shares = try await Share.query(on: db).filter(\.$account.$id == account.requireID()).all()
        let ids = try shares.map { try $0.requireID() }
        let received = ids.isEmpty ? [] : Set(try await ShareAccess.query(on: db).filter(\.$share.$id ~~ ids).unique().all(\.$share.$id))
        let messages = try await notices(change, for: account, shares: shares, received: received, services: services, audit: audit,
                                         sealedFor: sealedFor, on: db)
        if !messages.isEmpty { try await messages.createInBatches(on: db) }
        return messages.count
    }

    /// The notices, sealed but not stored (the caller stores them with its other mail, in one
    /// statement), for `shares` of which `received` were viewed; the throttles counted.
    static func notices(_ change: SharedDataChange, for account: Account, shares: [Share], received: Set<UUID>, services: DossierServices,
                        audit: AuditLog, sealedFor: String? = nil, on db: any Database) async throws -> [OutboxMessage] {
        let now = services.clock.now
        let ledger = ThrottleLedger(database: db)
        let perTenant = ThrottleLedger.Key("art19-notice:tenant", account.subject)
        // Each link still open, or closed after it delivered something, with its recipient.
        var told: [(share: Share, id: UUID, details: ShareDetails, address: ThrottleLedger.Key)] = []
        for share in shares {
            let shareID = try share.requireID()
            guard !share.state(at: now).isFinal || received.contains(shareID) else { continue }
            let details = try await services.vault.openJSON(ShareDetails.self, share.sealed, for: share.subject,
                                                            context: Share.detailsContext(shareID))
            told.append((share, shareID, details, ThrottleLedger.Key("art19-notice:address", EmailAddress(details.email)?.canonical ?? details.email)))
        }
        guard !told.isEmpty else { return [] }
        // The addresses' daily counts in one statement, counted on as the notices go.
        var perAddress = try await ledger.counts(Array(Set(told.map(\.address))), since: now - 86400)
        var tenantCount = change == .accountErased ? 0 : try await ledger.times(perTenant, since: now - 86400).count
        var messages: [OutboxMessage] = []
        var counted: [ThrottleLedger.Key] = []
        for notice in told {
            let key = ThrottleLedger.Key("art19-notice", notice.id.uuidString)
            if change != .accountErased {
                // The account's erasure is the last word on a link: told even after another notice,
                // and not held to the tenant's daily cap (the tenant's own links, once).
                guard try await ledger.times(key, since: now - quietPeriod).isEmpty else { continue }
                guard tenantCount < perTenantPerDay else { break }
            }
            guard perAddress[notice.address, default: 0] < perAddressPerDay else { continue }
            let template = MailTemplate.sharedFileChanged(tenantName: notice.details.tenant, change: change)
            messages.append(try await services.mailer.message(template, to: notice.details.email, language: notice.share.language,
                                                              subject: sealedFor ?? notice.share.subject, accountID: sealedFor == nil ? account.id : nil))
            counted += [key, perTenant, notice.address]
            perAddress[notice.address, default: 0] += 1
            tenantCount += 1
            audit.record(AuditEvent(action: "share.recipient-notified", subject: notice.share.subject, purpose: "services",
                                    details: ["share": notice.id.uuidString.lowercased(), "change": change.rawValue]), by: "system")
        }
        if !counted.isEmpty { ledger.record(counted, at: now, in: audit.writes) }
        return messages
    }
}
