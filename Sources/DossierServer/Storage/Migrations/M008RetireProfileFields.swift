import DossierCore
import Fluent
import Foundation

/// Removes from every stored profile the fields no purpose justifies any longer
/// (``RentalProfile/retiredFields``: nationality, identity-document number). Profiles are
/// sealed, so each one is opened with its owner's key and sealed again without them.
///
/// Runs once, after the key store is migrated and the master key checked
/// (``DossierMigrations/afterKeyCheck(vault:)``), a page of profiles at a time. A profile whose
/// owner's key is destroyed (an erased person, a data backup restored beside a newer key
/// store) cannot be opened by anyone and is left as it is.
struct M008RetireProfileFields: AsyncMigration {
    let vault: KeyVault
    static let page = 200

    var name: String { "M008RetireProfileFields" }

    func prepare(on database: any Database) async throws {
        var after: UUID?
        while true {
            var query = Profile.query(on: database).with(\.$account).sort(\.$id).limit(Self.page)
            if let after { query = query.filter(\.$id > after) }
            let profiles = try await query.all()
            for profile in profiles {
                try await retire(profile, on: database)
            }
            guard profiles.count == Self.page, let last = profiles.last?.id else { return }
            after = last
        }
    }

    private func retire(_ profile: Profile, on database: any Database) async throws {
        let subject = profile.account.subject
        let plain: Data
        do {
            plain = try await vault.open(profile.sealed, for: subject, context: "profile")
        } catch is KeyVault.Shredded {
            return
        }
        guard let fields = try? JSONDecoder().decode([String: JSONValue].self, from: plain),
              !RentalProfile.retiredFields.isDisjoint(with: fields.keys) else { return }
        // Decoding drops what the type no longer has.
        let kept = try JSONDecoder().decode(RentalProfile.self, from: plain)
        profile.sealed = try await vault.sealJSON(kept, for: subject, context: "profile")
        try await profile.save(on: database)
    }

    func revert(on database: any Database) async throws {}
}
