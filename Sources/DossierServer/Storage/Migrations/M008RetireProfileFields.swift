import DossierCore
import Fluent
import Foundation

/// Removes from every stored profile the fields no purpose justifies any longer
/// (``RentalProfile/retiredFields``: nationality, identity-document number). Profiles are
/// sealed, so each one is opened with its owner's key and sealed again without them.
struct M008RetireProfileFields: AsyncMigration {
    let vault: KeyVault

    var name: String { "M008RetireProfileFields" }

    func prepare(on database: any Database) async throws {
        for profile in try await Profile.query(on: database).with(\.$account).all() {
            let subject = profile.account.subject
            let plain = try await vault.open(profile.sealed, for: subject, context: "profile")
            guard let fields = try? JSONDecoder().decode([String: JSONValue].self, from: plain),
                  !RentalProfile.retiredFields.isDisjoint(with: fields.keys) else { continue }
            // Decoding drops what the type no longer has.
            let kept = try JSONDecoder().decode(RentalProfile.self, from: plain)
            profile.sealed = try await vault.sealJSON(kept, for: subject, context: "profile")
            try await profile.save(on: database)
        }
    }

    func revert(on database: any Database) async throws {}
}
