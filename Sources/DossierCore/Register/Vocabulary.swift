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

/// What a recipient is for the data it receives.
public enum ControllerRole: String, RegisterVocabulary {
    /// Decides on its own purposes and means: a controller of its own, with its own notice.
    case independentController = "independent-controller"
    /// Decides them with the controller (Art. 26).
    case jointController = "joint-controller"
    /// Acts on the controller's instructions (Art. 28).
    case processor
    /// Part of the controller (its staff).
    case `internal`

    public static let vocabularyName = "controller role"
}

/// Where a retention period comes from.
public enum RuleOrigin: String, RegisterVocabulary {
    /// One of the seed policies the register was written from.
    case seed
    /// A law or regulation that sets it.
    case law
    /// The operator's own choice.
    case decision

    public static let vocabularyName = "rule origin"
}

/// Why a data category needs more care: special or highly personal data (EDPB WP248 criteria).
public enum DataFlag: String, RegisterVocabulary {
    /// Health (Art. 9), e.g. a disability benefit on a statement of benefits.
    case health
    /// The French social-security number (NIR), regulated by decree.
    case nationalIdentifier = "national-identifier"
    /// Financial data: income, tax notices, bank details.
    case financial
    /// Highly personal data (family situation, housing).
    case highlyPersonal = "highly-personal"
    /// Offences and convictions (Art. 10).
    case offences

    public static let vocabularyName = "data flag"
}
