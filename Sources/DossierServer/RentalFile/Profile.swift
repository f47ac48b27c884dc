import DossierCore
import Fluent
import Foundation

/// A tenant's profile, sealed with the tenant's key (see ``RentalProfile``).
final class Profile: Model, @unchecked Sendable {
    static let schema = "profiles"

    @ID(key: .id) var id: UUID?
    @Parent(key: "account_id") var account: Account
    @Field(key: "sealed") var sealed: Data
    @Field(key: "updated_at") var updatedAt: Date

    /// Listed, not found by reflection: Fluent reflects on the type for every row it reads
    /// otherwise (a fifth of an authenticated read, profiled). `ModelPropertiesTests` keeps
    /// the list equal to the declarations above.
    var properties: [any AnyProperty] { [$id, $account, $sealed, $updatedAt] }

    init() {}

    init(accountID: UUID, sealed: Data, now: Date) {
        $account.id = accountID
        self.sealed = sealed
        updatedAt = now
    }
}
