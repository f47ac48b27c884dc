/// Who an account belongs to, and so what it may do.
public enum Role: String, Codable, Sendable, CaseIterable {
    /// A tenant (or co-tenant, guarantor handled through a tenant's file): signs up alone.
    case tenant
    /// Staff who review documents and handle requests.
    case operator_ = "operator"
    /// The data protection officer: rights requests, the register, the audit trail.
    case dpo
    /// Runs the service: staff accounts and organisations.
    case admin
    /// A member of a recipient organisation (agency, landlord, insurer).
    case member

    public var isStaff: Bool { self == .operator_ || self == .dpo || self == .admin }
}

/// The kinds of organisation that receive tenants' files.
public enum OrganisationKind: String, Codable, Sendable, CaseIterable {
    case agency, landlord, insurer
}
