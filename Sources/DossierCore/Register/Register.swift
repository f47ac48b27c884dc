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
    @DefaultEmpty public var security: [SecurityMeasure]
    @DefaultEmpty public var rights: [Right]
    public var rightsExercise: RightsExercise
    @DefaultEmpty public var cookies: [Cookie]
    public var cookieControl: LocalizedText?
    public var policyChanges: PolicyChanges
    /// The notices GDPR Art. 13 and 14 require beyond the purposes (automated decisions, minors,
    /// the right to object to direct marketing, data not collected from the person…).
    public var notices: Notices?
    /// The Art. 30 record's own dates and impact assessment.
    public var record: RecordInfo?

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
    /// Why the category is special or highly personal (the social-security number a payslip
    /// carries, a disability benefit revealing health…), for the record.
    @DefaultEmpty public var flags: [DataFlag]
    /// The measures taken because of the flags.
    public var flagMeasures: LocalizedText?
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
    /// What the recipient is for the data it receives: a controller of its own, a joint
    /// controller (Art. 26), a processor (Art. 28), or part of the controller.
    public var role: ControllerRole?
    /// The role in words: what the recipient decides on its own, and whose notice covers it.
    public var roleDetail: LocalizedText?
    /// For a recipient a tenant shares their file with: how long a link may last, and which
    /// documents it may carry. Kept by `ShareRules` and the sharing service.
    public var sharing: SharingLimits?
}

/// What a tenant may share with a recipient, at most.
public struct SharingLimits: Codable, Sendable {
    /// The longest a link may last.
    public var maximum: RetentionPeriod
    /// The catalogue's document categories the recipient may receive (`identity`, `resources`…).
    public var documents: [String]
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
    /// The data protection impact assessment (Art. 35) covering the activity, when one is due.
    public var dpia: LocalizedText?
    /// The feature that carries the activity out: left out of the policy and the record while
    /// the build lacks it (audience measurement, say, on a build that sets no such cookie).
    public var appliesTo: Capability?

    /// Whether a build with `capabilities` carries the activity out.
    public func isCarriedOut(with capabilities: Set<Capability>) -> Bool {
        appliesTo.map(capabilities.contains) ?? true
    }

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
    /// Where the period comes from: a seed policy, the law, or the operator's own decision.
    public var origin: RuleOrigin?
    /// The text behind it: "seed 002", "Code de commerce art. L123-22", "decision of 2026-11-30".
    public var reference: String?

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
    /// The ways to exercise it, each bound to the capability that provides it.
    public var exercise: [ExerciseWay]

    enum CodingKeys: String, CodingKey { case id, article, name, description, deadline, exercise }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        article = try container.decode(String.self, forKey: .article)
        name = try container.decode(LocalizedText.self, forKey: .name)
        description = try container.decode(LocalizedText.self, forKey: .description)
        deadline = try container.decodeIfPresent(RetentionPeriod.self, forKey: .deadline)
        // A register written before capabilities gives one text: a way always available.
        if let ways = try? container.decode([ExerciseWay].self, forKey: .exercise) {
            exercise = ways
        } else {
            exercise = [ExerciseWay(capability: nil, text: try container.decode(LocalizedText.self, forKey: .exercise))]
        }
    }
}

/// One way to exercise a right: from a page of the service (bound to its capability), or by
/// a means always open (writing to the DPO, to the supervisory authority).
public struct ExerciseWay: Codable, Sendable {
    /// The capability that provides it; nil when no code is involved.
    public var capability: Capability?
    public var text: LocalizedText
    /// The page where it is done, linked from the policy while the capability is there.
    public var page: String?

    /// Whether a build with `capabilities` offers it.
    public func isOpen(with capabilities: Set<Capability>) -> Bool {
        capability?.isProvided(by: capabilities) ?? true
    }

    public init(capability: Capability?, text: LocalizedText, page: String? = nil) {
        self.capability = capability
        self.text = text
        self.page = page
    }
}

/// A security measure, bound to the capability that implements it.
public struct SecurityMeasure: Codable, Sendable {
    public var id: String?
    public var text: LocalizedText
    /// What implements it; `organisational` for a measure the operator's organisation keeps.
    /// Nil only in a register written before capabilities (one text a measure).
    public var capability: Capability?
    /// The feature the measure is about: left out of the policy while the build lacks it.
    public var appliesTo: Capability?
    /// The purposes it protects, for the record; empty means all.
    @DefaultEmpty public var purposes: [String]

    enum CodingKeys: String, CodingKey { case id, text, capability, appliesTo, purposes }

    public init(id: String? = nil, text: LocalizedText, capability: Capability?, appliesTo: Capability? = nil, purposes: [String] = []) {
        self.id = id
        self.text = text
        self.capability = capability
        self.appliesTo = appliesTo
        self.purposes = purposes
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // A register written before capabilities gives a text ({fr, en}) for each measure.
        guard container.contains(.text) else {
            self.init(text: try LocalizedText(from: decoder), capability: nil)
            return
        }
        self.init(
            id: try container.decodeIfPresent(String.self, forKey: .id),
            text: try container.decode(LocalizedText.self, forKey: .text),
            capability: try container.decodeIfPresent(Capability.self, forKey: .capability),
            appliesTo: try container.decodeIfPresent(Capability.self, forKey: .appliesTo),
            purposes: try container.decodeIfPresent([String].self, forKey: .purposes) ?? []
        )
    }

    public func covers(_ purpose: Purpose) -> Bool { purposes.isEmpty || purposes.contains(purpose.id) }

    /// Whether the policy and the record show it on a build with `capabilities`: its feature is
    /// there (or it names none) and so is what keeps it (or it names nothing, as an old register).
    public func isShown(with capabilities: Set<Capability>) -> Bool {
        (appliesTo.map(capabilities.contains) ?? true) && (capability?.isProvided(by: capabilities) ?? true)
    }
}

/// The notices Art. 13 and 14 require that no purpose carries.
public struct Notices: Codable, Sendable {
    /// Automated decision-making and profiling (Art. 13(2)(f)): what is computed, what is not decided.
    public var automatedDecisions: LocalizedText?
    /// The right to object to direct marketing, stated apart (Art. 21(3)–(4)).
    public var directMarketingObjection: LocalizedText?
    /// Children and minors.
    public var minors: LocalizedText?
    /// How to obtain a copy of the safeguards of a transfer (Art. 13(1)(f)).
    public var transferSafeguardsCopy: LocalizedText?
    /// Data about people who did not give it themselves (Art. 14).
    @DefaultEmpty public var indirectCollection: [IndirectCollection]
}

/// Data collected from someone else than the person it is about (Art. 14).
public struct IndirectCollection: Codable, Sendable {
    /// The data subjects concerned (ids of `dataSubjects`).
    @DefaultEmpty public var subjects: [String]
    /// The source of the data.
    public var source: LocalizedText
    /// How and when they are told, and how they can object.
    public var notice: LocalizedText
    /// The capability that sends the notice; nil when it is given by other means.
    public var capability: Capability?
}

/// The record's own data (Art. 30): when it was made and last changed, the DPIA.
public struct RecordInfo: Codable, Sendable {
    /// YYYY-MM-DD.
    public var created: String
    /// YYYY-MM-DD; the register's effective date when left out.
    public var updated: String?
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
    /// The code that sets it: a cookie of a feature the build lacks is not listed.
    public var capability: Capability?
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
