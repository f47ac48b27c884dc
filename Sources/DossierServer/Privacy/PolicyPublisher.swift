import DossierCore
import Fluent
import Foundation

/// Records each register version the server runs with, so that every published version stays
/// readable and a consent can name the exact text it was given under.
enum PolicyPublisher {
    /// Stores the register's version on first use. A register whose text changed without a new
    /// version number is refused: the published policy must never change silently.
    static func publish(_ loaded: LoadedRegister, on database: any Database, at now: Date = Date()) async throws {
        let register = loaded.register
        if let existing = try await PolicyVersion.query(on: database).filter(\.$version == register.version).first() {
            guard existing.digest == loaded.digest else {
                throw ConfigurationError("""
                    the register's text differs from version \(register.version) as published on \
                    \(existing.publishedAt); give the changed register a new 'version'
                    """)
            }
            return
        }
        try await PolicyVersion(
            version: register.version,
            effectiveDate: register.effectiveDate,
            digest: loaded.digest,
            registerYAML: loaded.yaml,
            publishedAt: now
        ).create(on: database)
    }
}
