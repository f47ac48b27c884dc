import DossierCore
import Fluent
import Foundation

final class ApplicationMember: Model, @unchecked Sendable {
    static let schema = "application_members"

    @ID(key: .id) var id: UUID?
    @Parent(key: "application_id") var application: RentalApplication
    @Parent(key: "account_id") var account: Account
    @Field(key: "joined_at") var joinedAt: Date
    /// Set when a member already in the application lets this one in (the creator is approved at
    /// once). Until then the newcomer sees nothing and nobody sees their file.
    @OptionalField(key: "approved_at") var approvedAt: Date?

    var properties: [any AnyProperty] { [$id, $application, $account, $joinedAt, $approvedAt] }

    init() {}

    init(applicationID: UUID, accountID: UUID, now: Date, approved: Bool) {
        $application.id = applicationID
        $account.id = accountID
        joinedAt = now
        approvedAt = approved ? now : nil
    }

    var isApproved: Bool { approvedAt != nil }
}
