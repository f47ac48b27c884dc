/// The lawful bases of GDPR Art. 6(1).
public enum LegalBasis: String, RegisterVocabulary {
    case consent
    case contract
    case preContract = "pre-contract"
    case legalObligation = "legal-obligation"
    case vitalInterests = "vital-interests"
    case publicTask = "public-task"
    case legitimateInterests = "legitimate-interests"

    public static let vocabularyName = "legal basis"

    /// The point of Art. 6(1): "a" to "f".
    public var article6Point: String {
        switch self {
        case .consent: "a"
        case .contract, .preContract: "b"
        case .legalObligation: "c"
        case .vitalInterests: "d"
        case .publicTask: "e"
        case .legitimateInterests: "f"
        }
    }
}

/// What a retention period is counted from. The retention engine knows how to find each one.
public enum StartEvent: String, RegisterVocabulary {
    case collection
    case issue
    case lastActivity = "last-activity"
    case endOfContract = "end-of-contract"
    case lastContact = "last-contact"
    case consentWithdrawal = "consent-withdrawal"
    case requestProcessed = "request-processed"
    case identityVerified = "identity-verified"
    case objection
    case directivesExecuted = "directives-executed"

    public static let vocabularyName = "start event"
}

/// What happens to data when its active retention ends.
public enum EndAction: String, RegisterVocabulary {
    case delete
    case anonymise

    public static let vocabularyName = "end action"
}

/// The safeguard that makes a transfer outside the EU/EEA lawful (GDPR chapter V).
public enum Safeguard: String, RegisterVocabulary {
    case adequacy
    case standardContractualClauses = "standard-contractual-clauses"
    case bindingCorporateRules = "binding-corporate-rules"
    case certification
    case codeOfConduct = "code-of-conduct"
    case derogation

    public static let vocabularyName = "transfer safeguard"

    /// The GDPR article the safeguard rests on.
    public var article: String {
        switch self {
        case .adequacy: "Art. 45"
        case .standardContractualClauses: "Art. 46(2)(c)"
        case .bindingCorporateRules: "Art. 46(2)(b), 47"
        case .certification: "Art. 46(2)(f)"
        case .codeOfConduct: "Art. 46(2)(e)"
        case .derogation: "Art. 49"
        }
    }
}

/// Who a recipient is; sharing features scope what each kind may see.
public enum RecipientKind: String, RegisterVocabulary {
    case staff, auditor, processor, agency, landlord, insurer
    case publicBody = "public-body"
    case thirdParty = "third-party"
    case financialInstitution = "financial-institution"
    case `public`
    case acquirer

    public static let vocabularyName = "recipient kind"
}

/// Countries of the EU and the EEA, where no transfer safeguard is needed.
public enum EuropeanEconomicArea {
    public static let countries: Set<String> = [
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
        "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO",
    ]
}

/// How people are told of a policy change before it applies.
public enum NoticeChannel: String, RegisterVocabulary {
    case email

    public static let vocabularyName = "notice channel"
}
