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
    public static let maximumNameLength = 200

    /// What is wrong with a new guarantor's details: a name (a person's or a company's) is
    /// required; an address and a phone number are optional (empty means none).
    public static func problems(name: String, email: String?, phone: String?, language: Language) -> [FieldProblem] {
        let words = AccountWording(language)
        var problems: [FieldProblem] = []
        if TextRules.isBlank(name) {
            problems.append(FieldProblem(field: "name", message: words.required))
        } else if TextRules.hasForbidden(name) {
            problems.append(FieldProblem(field: "name", message: words.invalidCharacters))
        } else if TextRules.length(name) > maximumNameLength {
            problems.append(FieldProblem(field: "name", message: words.tooLong(maximumNameLength)))
        }
        if let email, !email.isEmpty, EmailAddress(email) == nil {
            problems.append(FieldProblem(field: "email", message: words.invalidEmail))
        }
        // As a profile's phone.
        if let phone {
            do { _ = try ProfilePatch.phone(phone) } catch { problems.append(FieldProblem(field: "phone", message: ProfileWording(language).phone)) }
        }
        return problems
    }
}
