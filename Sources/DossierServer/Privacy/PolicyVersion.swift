import DossierCore
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
    /// The capabilities of the build that published it, comma-separated (nil: published before
    /// they were kept).
    @OptionalField(key: "capabilities") var capabilitiesText: String?

    var properties: [any AnyProperty] { [$id, $version, $effectiveDate, $digest, $registerYAML, $publishedAt, $capabilitiesText] }

    init() {}

    init(version: String, effectiveDate: String, digest: String, registerYAML: String, publishedAt: Date, capabilities: Set<Capability>) {
        self.version = version
        self.effectiveDate = effectiveDate
        self.digest = digest
        self.registerYAML = registerYAML
        self.publishedAt = publishedAt
        capabilitiesText = Self.text(capabilities)
    }

    static func text(_ capabilities: Set<Capability>) -> String {
        capabilities.sorted().map(\.rawValue).joined(separator: ",")
    }

    /// What the publishing build provided; nil when not recorded.
    var capabilities: Set<Capability>? {
        capabilitiesText.map { Set($0.split(separator: ",").compactMap { Capability(rawValue: String($0)) }) }
    }
}
