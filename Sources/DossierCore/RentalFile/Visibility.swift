/// How tenants applying together see each other's files.
public enum ApplicationKind: String, Codable, Sendable, CaseIterable {
    /// One tenant.
    case alone
    /// Two partners: each sees the other's file.
    case couple
    /// Flatmates: each sees only their own file.
    case group

    public var maximumMembers: Int {
        switch self {
        case .alone: 1
        case .couple: 2
        case .group: 8
        }
    }

    /// Whether a member may see another member's profile and documents.
    public func membersSeeEachOther() -> Bool { self == .couple }
}

/// The guarantors a tenant may add.
public enum GuarantorRules {
    public static let maximumPerTenant = 2
    public static let kinds: [PersonKind] = [.guarantor, .company, .organisation]
}
