import DossierCore
import Fluent
import Foundation

final class ApplicationMember: Model, @unchecked Sendable {
    static let schema = "application_members"

    @ID(key: .id) var id: UUID?
    @Parent(key: "application_id") var application: RentalApplication
    @Parent(key: "account_id") var account: Account
    @Field(key: "joined_at") var joinedAt: Date

    init() {}

    init(applicationID: UUID, accountID: UUID, now: Date) {
        $application.id = applicationID
        $account.id = accountID
        joinedAt = now
    }
}
