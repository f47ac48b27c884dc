import Fluent
import Foundation

/// One request counted against a rate limit (sign-up, forgotten password, resent verification):
/// the scope and a SHA-256 of what is limited (a client address or a target email address), never
/// the value itself. Kept only as long as the longest window, then purged.
final class ThrottleEvent: Model, @unchecked Sendable {
    static let schema = "throttle_events"

    @ID(key: .id) var id: UUID?
    @Field(key: "scope") var scope: String
    @Field(key: "key") var key: String
    @Field(key: "occurred_at") var occurredAt: Date

    var properties: [any AnyProperty] { [$id, $scope, $key, $occurredAt] }

    init() {}

    init(scope: String, key: String, at date: Date) {
        self.scope = scope
        self.key = key
        occurredAt = date
    }
}
