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
        M009PolicyVersionCapabilities(),
        M010CreateBlobJournal(),
        M011CreateShares(),
        M012CreateCertificates(),
        M013RecipientOrganisations(),
        M014RightsErasure(),
        M015RightsRequests(),
        M016InvitationsByAddress(),
        M017AuditHeadUnderLock(),
        M018Retention(),
    ]

    /// Those that rewrite sealed data: they need the key store migrated and the master key
    /// checked first (``DossierApp/migrate(_:)`` runs them then).
    static func afterKeyCheck(vault: KeyVault) -> [any Migration] {
        [M008RetireProfileFields(vault: vault)]
    }
}
