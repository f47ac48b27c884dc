import Fluent
import Foundation

/// A version of the register that this server has published: the exact text, kept for good.
final class PolicyVersion: Model, @unchecked Sendable {
    static let schema = "policy_versions"

    @ID(key: .id) var id: UUID?
    @Field(key: "version") var version: String
    @Field(key: "effective_date") var effectiveDate: String
    @Field(key: "digest") var digest: String
    @Field(key: "register_yaml") var registerYAML: String
    @Field(key: "published_at") var publishedAt: Date

    init() {}

    init(version: String, effectiveDate: String, digest: String, registerYAML: String, publishedAt: Date) {
        self.version = version
        self.effectiveDate = effectiveDate
        self.digest = digest
        self.registerYAML = registerYAML
        self.publishedAt = publishedAt
    }
}
