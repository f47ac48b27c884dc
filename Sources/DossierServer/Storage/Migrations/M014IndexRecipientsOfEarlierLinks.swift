import DossierCore
import Fluent
import Foundation

/// Gives the links made before recipient organisations existed (M013) the keyed hash of their
/// recipient's address (`KeyVault.recipientIndex`), so that those made to an organisation's
/// address reach its inbox like the later ones. The address is sealed with the tenant's key:
/// each link is opened, a page at a time. A link whose tenant's key is destroyed is left
/// without one (nobody can open it anyway).
struct M014IndexRecipientsOfEarlierLinks: AsyncMigration {
    let vault: KeyVault
    static let page = 200

    var name: String { "M014IndexRecipientsOfEarlierLinks" }

    func prepare(on database: any Database) async throws {
        var after: UUID?
        while true {
            var query = Share.query(on: database).filter(\.$recipientIndex == nil).sort(\.$id).limit(Self.page)
            if let after { query = query.filter(\.$id > after) }
            let shares = try await query.all()
            for share in shares {
                let details: ShareDetails
                do {
                    details = try await vault.openJSON(ShareDetails.self, share.sealed, for: share.subject,
                                                       context: Share.detailsContext(share.requireID()))
                } catch is KeyVault.Shredded {
                    continue
                }
                guard let email = EmailAddress(details.email) else { continue }
                share.recipientIndex = try await vault.recipientIndex(email)
                try await share.save(on: database)
            }
            guard shares.count == Self.page, let last = shares.last?.id else { return }
            after = last
        }
    }

    func revert(on database: any Database) async throws {}
}
