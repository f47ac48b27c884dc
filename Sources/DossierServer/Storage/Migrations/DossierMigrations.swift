import Fluent

/// The schema, one numbered migration per change, applied in order on SQLite and PostgreSQL alike.
enum DossierMigrations {
    static let all: [any Migration] = [
        M001CreatePolicyVersions(),
        M002CreateAccounts(),
        M003CreateSessionsAndConnections(),
        M004CreateOutboxAndAudit(),
        M005CreateRentalFiles(),
        M006SecurityHardening(),
        M007ReadIndexes(),
    ]
}
