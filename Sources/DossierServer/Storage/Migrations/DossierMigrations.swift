import Fluent

/// The schema, one numbered migration per change, applied in order on SQLite and PostgreSQL alike.
enum DossierMigrations {
    static let all: [any Migration] = [
        M001CreatePolicyVersions(),
    ]
}
