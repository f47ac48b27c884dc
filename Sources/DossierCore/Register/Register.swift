import Foundation

/// The processing register: every privacy promise, in one versioned document.
///
/// It renders the published policy and the GDPR Art. 30 record, and drives retention,
/// consent, recipients' scopes and data-subject rights. Load one with ``RegisterLoader``,
/// which also validates it.
public struct Register: Codable, Sendable {
    public var version: String
    public var effectiveDate: String
    public var controller: Controller
    public var dpo: Contact
    public var supervisoryAuthority: Authority
    public var hosting: Hosting
    @DefaultEmpty public var principles: [LocalizedText]
    @DefaultEmpty public var dataSubjects: [DataSubject]
    @DefaultEmpty public var categories: [DataCategory]
    @DefaultEmpty public var recipients: [Recipient]
    @DefaultEmpty public var processors: [Processor]
    @DefaultEmpty public var transfers: [Transfer]
    @DefaultEmpty public var purposes: [Purpose]
    @DefaultEmpty public var security: [LocalizedText]
    @DefaultEmpty public var rights: [Right]
    public var rightsExercise: RightsExercise
    @DefaultEmpty public var cookies: [Cookie]
    public var cookieControl: LocalizedText?
    public var policyChanges: PolicyChanges

    public func category(_ id: String) -> DataCategory? { categories.first { $0.id == id } }
    public func purpose(_ id: String) -> Purpose? { purposes.first { $0.id == id } }
    public func recipient(_ id: String) -> Recipient? { recipients.first { $0.id == id } }
    public func processor(_ id: String) -> Processor? { processors.first { $0.id == id } }
    public func dataSubject(_ id: String) -> DataSubject? { dataSubjects.first { $0.id == id } }

    /// The transfers outside the EU/EEA made by a purpose's processors.
    public func transfers(for purpose: Purpose) -> [Transfer] {
        transfers.filter { purpose.processors.contains($0.processor) }
    }
}

public struct Controller: Codable, Sendable {
    public var name: String
    public var legalForm: LocalizedText
    public var registration: String
    public var address: String
    public var email: String
    public var website: String?
}

public struct Contact: Codable, Sendable {
    public var name: String?
    public var email: String
    public var address: String?
}

public struct Authority: Codable, Sendable {
    public var name: String
    public var address: String
    public var website: String
}

public struct Hosting: Codable, Sendable {
    public var provider: String
    public var location: LocalizedText
    /// ISO 3166-1 alpha-2 code of the hosting country.
    public var country: String
}

public struct DataSubject: Codable, Sendable {
    public var id: String
    public var name: LocalizedText
}

public struct DataCategory: Codable, Sendable {
    public var id: String
    public var name: LocalizedText
    public var description: LocalizedText?
    /// Special-category data (GDPR Art. 9) or data about offences (Art. 10).
    public var sensitive: Bool?
    /// The fields collected in this category; `mandatory` ones are marked in forms.
    @DefaultEmpty public var fields: [Field]

    public struct Field: Codable, Sendable {
        public var id: String
        public var name: LocalizedText
        public var mandatory: Bool
    }

    public var mandatoryFields: [Field] { fields.filter(\.mandatory) }
}

public struct Recipient: Codable, Sendable {
    public var id: String
    public var kind: RecipientKind
    public var name: LocalizedText
    public var description: LocalizedText?
}

/// A processor (sub-contractor) acting on the controller's behalf.
public struct Processor: Codable, Sendable {
    public var id: String
    public var name: String
    public var role: LocalizedText
    /// ISO 3166-1 alpha-2 code of where it processes the data.
    public var country: String
}

/// A transfer of personal data outside the EU/EEA.
public struct Transfer: Codable, Sendable {
    public var id: String
    public var processor: String
    public var country: String
    public var safeguard: Safeguard?
    public var detail: LocalizedText?
}

/// Why data is processed, on which legal basis, about whom, for whom and for how long.
public struct Purpose: Codable, Sendable {
    public var id: String
    public var name: LocalizedText
    public var description: LocalizedText?
    /// Where the data comes from when not from the person through the website.
    public var source: LocalizedText?
    @DefaultEmpty public var legalBases: [LegalBasisEntry]
    /// How consent is withdrawn; required when any legal basis is consent.
    public var withdrawal: LocalizedText?
    @DefaultEmpty public var subjects: [String]
    @DefaultEmpty public var categories: [String]
    @DefaultEmpty public var recipients: [String]
    @DefaultEmpty public var processors: [String]
    @DefaultEmpty public var retention: [RetentionRule]

    public var reliesOnConsent: Bool { legalBases.contains { $0.basis == .consent } }

    /// The rules that apply to a data category (and data subject, when given).
    public func rules(for category: String, subject: String? = nil) -> [RetentionRule] {
        retention.filter { rule in
            rule.covers(category: category, in: self)
                && (subject.map { rule.subjects.isEmpty || rule.subjects.contains($0) } ?? true)
        }
    }
}

public struct LegalBasisEntry: Codable, Sendable {
    public var basis: LegalBasis
    /// The data subjects this basis applies to; empty means all of the purpose's.
    @DefaultEmpty public var subjects: [String]
    public var detail: LocalizedText?
}

/// How long data of a purpose is kept, counted from an event, and what happens then.
public struct RetentionRule: Codable, Sendable {
    /// The categories the rule covers; empty means those of the purpose that no other rule names.
    @DefaultEmpty public var categories: [String]
    /// The data subjects the rule covers; empty means all.
    @DefaultEmpty public var subjects: [String]
    /// How long the data stays in active use; zero means "until the start event".
    public var keep: RetentionPeriod
    public var from: StartEvent
    /// A reminder sent this long before the end of `keep`, e.g. before deleting an inactive account.
    public var remind: RetentionPeriod?
    public var then: EndAction
    /// An archive (restricted access, probative purposes) that follows the active period.
    public var archive: Archive?

    public struct Archive: Codable, Sendable {
        public var keep: RetentionPeriod
        /// Categories never archived: deleted when the active period ends.
        @DefaultEmpty public var excluding: [String]
    }

    /// Whether this rule covers a category of the purpose it belongs to.
    public func covers(category: String, in purpose: Purpose) -> Bool {
        if !categories.isEmpty { return categories.contains(category) }
        let namedElsewhere = purpose.retention.contains { $0.categories.contains(category) }
        return purpose.categories.contains(category) && !namedElsewhere
    }
}

public struct Right: Codable, Sendable {
    public var id: String
    public var article: String
    public var name: LocalizedText
    public var description: LocalizedText
    /// The time to answer (GDPR Art. 12(3): one month at most); nil where nothing is to answer.
    public var deadline: RetentionPeriod?
    public var exercise: LocalizedText
}

public struct RightsExercise: Codable, Sendable {
    public var identityCheck: LocalizedText
    /// How much the deadline may be extended for complex or numerous requests (Art. 12(3)).
    public var deadlineExtension: RetentionPeriod
}

public struct Cookie: Codable, Sendable {
    public var id: String
    public var name: String
    public var purpose: String
    public var consentRequired: Bool
    /// Lifetime; zero means the browser session.
    public var duration: RetentionPeriod
    public var description: LocalizedText
}

/// The rule for changing the policy: notice by `channel` at least `noticeDays` before it applies.
public struct PolicyChanges: Codable, Sendable {
    public var noticeDays: Int
    public var channel: NoticeChannel
    public var description: LocalizedText
}
