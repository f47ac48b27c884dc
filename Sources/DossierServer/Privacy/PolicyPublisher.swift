import DossierCore
import Fluent
import Foundation
import Logging

/// Records each register version the server runs with, so that every published version stays
/// readable and a consent can name the exact text it was given under.
enum PolicyPublisher {
    /// Stores the register's version on first use. A register whose text changed without a new
    /// version number is refused: the published policy must never change silently.
    ///
    /// The policy's wording also depends on the build (a right's link appears with its page):
    /// each version keeps the capabilities of the build that published it. A build that would
    /// change what the policy promises under the same version is refused in production (give
    /// the register a new version, and give notice as `policyChanges` says) and, on a
    /// development instance, said in a warning and adopted.
    ///
    /// Only the capabilities the register refers to count (a route it never mentions changes
    /// nothing it says). Only the server (`adopt`) records a change; a command run beside it
    /// (`migrate`, `verify`) neither refuses nor records, so that it cannot settle a change a
    /// production server would refuse.
    static func publish(_ loaded: LoadedRegister, capabilities all: Set<Capability>, on database: any Database, at now: Date = Date(),
                        production: Bool = false, adopt: Bool = true, logger: Logger? = nil) async throws {
        let capabilities = all.intersection(loaded.register.referencedCapabilities)
        let register = loaded.register
        if let existing = try await PolicyVersion.query(on: database).filter(\.$version == register.version).first() {
            guard existing.digest == loaded.digest else {
                throw ConfigurationError("""
                    the register's text differs from version \(register.version) as published on \
                    \(existing.publishedAt); give the changed register a new 'version'
                    """)
            }
            guard let published = existing.capabilities?.intersection(register.referencedCapabilities), published != capabilities else {
                if existing.capabilities == nil, adopt {
                    existing.capabilitiesText = PolicyVersion.text(capabilities)
                    try await existing.save(on: database)
                }
                return
            }
            let change = Self.describe(from: published, to: capabilities)
            guard adopt else { return }
            if production {
                throw ConfigurationError("""
                    this build changes what version \(register.version) of the policy promises (\(change)); \
                    give the register a new 'version' (and notice, as its policyChanges says) before running it
                    """)
            }
            logger?.warning("this build changes what version \(register.version) of the policy promises (\(change)); a production instance would refuse it until the register has a new version")
            existing.capabilitiesText = PolicyVersion.text(capabilities)
            try await existing.save(on: database)
            return
        }
        try await PolicyVersion(
            version: register.version,
            effectiveDate: register.effectiveDate,
            digest: loaded.digest,
            registerYAML: loaded.yaml,
            publishedAt: now,
            capabilities: capabilities
        ).create(on: database)
    }

    static func describe(from old: Set<Capability>, to new: Set<Capability>) -> String {
        var parts: [String] = []
        let added = new.subtracting(old).sorted().map(\.rawValue)
        let removed = old.subtracting(new).sorted().map(\.rawValue)
        if !added.isEmpty { parts.append("adds " + added.joined(separator: ", ")) }
        if !removed.isEmpty { parts.append("removes " + removed.joined(separator: ", ")) }
        return parts.joined(separator: "; ")
    }
}
