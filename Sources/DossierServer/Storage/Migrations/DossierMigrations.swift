import Fluent

/// The schema, one numbered migration per change, applied in order on SQLite and PostgreSQL alike.
enum DossierMigrations {
    /// The migrations; those that rewrite sealed data need the vault.
    static func all(vault: KeyVault) -> [any Migration] { [
        M001CreatePolicyVersions(),
        M002CreateAccounts(),
        M003CreateSessionsAndConnections(),
        M004CreateOutboxAndAudit(),
        M005CreateRentalFiles(),
        M006SecurityHardening(),
        M007ReadIndexes(),
        M008RetireProfileFields(vault: vault),
    ] }
}
