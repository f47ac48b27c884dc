/// The privacy policy in one language, computed from the register: what the HTML page and the
/// Markdown rendering both show, so that no promise is written twice.
public struct PolicyDocument: Codable, Sendable {
    public var language: Language
    public var otherLanguage: Language
    public var labels: [String: String]
    public var version: String
    public var effectiveDate: String
    public var controller: ControllerSection
    public var principles: [String]
    public var categories: [CategoryEntry]
    public var purposes: [PurposeEntry]
    public var recipients: [NamedEntry]
    public var processors: [NamedEntry]
    public var hosting: String
    public var transfers: [NamedEntry]
    public var security: [String]
    public var rights: [RightEntry]
    public var identityCheck: String
    public var answerDeadline: String
    public var cookies: [CookieEntry]
    public var cookieControl: String?
    public var changes: String
    public var changesNotice: String
    public var notices: NoticesSection

    /// The notices of Art. 13 and 14 that no purpose carries.
    public struct NoticesSection: Codable, Sendable {
        public var automatedDecisions: String?
        public var directMarketingObjection: String?
        public var minors: String?
        public var indirectCollection: [IndirectEntry]
    }

    public struct IndirectEntry: Codable, Sendable {
        public var subjects: String
        public var source: String
        public var notice: String
    }

    public struct ControllerSection: Codable, Sendable {
        public var name: String
        public var legalForm: String
        public var registration: String
        public var address: String
        public var email: String
        public var dpoEmail: String
        public var dpoAddress: String?
        public var authorityName: String
        public var authorityAddress: String
        public var authorityWebsite: String
    }

    public struct CategoryEntry: Codable, Sendable {
        public var id: String
        public var name: String
        public var description: String?
        public var mandatory: String?
    }

    public struct PurposeEntry: Codable, Sendable {
        public var id: String
        public var name: String
        public var description: String?
        public var source: String?
        public var bases: [String]
        public var withdrawal: String?
        public var categories: String
        public var recipients: String
        public var retention: [String]
    }

    public struct NamedEntry: Codable, Sendable {
        public var name: String
        public var detail: String?
    }

    public struct RightEntry: Codable, Sendable {
        public var id: String
        public var name: String
        public var article: String
        public var description: String
        /// The ways open on this build, in words (the DPO fallback when none is).
        public var exercise: String
        /// The same ways, each with the page where it is done (for links).
        public var ways: [WayEntry]
    }

    public struct WayEntry: Codable, Sendable {
        public var text: String
        public var page: String?
    }

    public struct CookieEntry: Codable, Sendable {
        public var name: String
        public var description: String
        public var lifetime: String
        public var consent: String
    }

    /// The policy of `register` on a build that provides `capabilities`: rights link only the
    /// pages the build has (else the DPO), measures and cookies of missing features are left out.
    public init(register: Register, language: Language, capabilities: Set<Capability>) {
        let words = Wording(language)
        let labels = words.labels
        self.language = language
        otherLanguage = language == .fr ? .en : .fr
        self.labels = labels
        version = register.version
        effectiveDate = register.effectiveDate
        controller = ControllerSection(
            name: register.controller.name,
            legalForm: register.controller.legalForm[language],
            registration: register.controller.registration,
            address: register.controller.address,
            email: register.controller.email,
            dpoEmail: register.dpo.email,
            dpoAddress: register.dpo.address,
            authorityName: register.supervisoryAuthority.name,
            authorityAddress: register.supervisoryAuthority.address,
            authorityWebsite: register.supervisoryAuthority.website
        )
        principles = register.principles.map { $0[language] }
        // Only what the activities this build carries out use: no processor, category or
        // recipient of an activity the build lacks (an audience tool on a build that measures nothing).
        let active = register.purposes.filter { $0.isCarriedOut(with: capabilities) }
        let usedCategories = Set(active.flatMap(\.categories))
        let usedRecipients = Set(active.flatMap(\.recipients))
        let usedProcessors = Set(active.flatMap(\.processors))
        categories = register.categories.filter { usedCategories.contains($0.id) }.map { category in
            let mandatory = category.mandatoryFields.map { $0.name[language] }
            return CategoryEntry(
                id: category.id,
                name: words.capitalised(category.name[language]),
                description: category.description?[language],
                mandatory: mandatory.isEmpty ? nil : words.mandatoryFields(mandatory)
            )
        }
        purposes = register.purposes.filter { $0.isCarriedOut(with: capabilities) }.map { Self.entry(for: $0, in: register, words: words) }
        recipients = register.recipients.filter { usedRecipients.contains($0.id) }.map { recipient in
            let role = recipient.role.map { words.role($0) }
            let detail = [recipient.description?[language], role, recipient.roleDetail?[language]].compactMap { $0 }
            return NamedEntry(name: words.capitalised(recipient.name[language]), detail: detail.isEmpty ? nil : detail.joined(separator: " — "))
        }
        processors = register.processors.filter { usedProcessors.contains($0.id) }.map {
            NamedEntry(name: $0.name, detail: "\($0.role[language]) — \(words.country($0.country))")
        }
        hosting = "\(register.hosting.provider): \(register.hosting.location[language])"
        transfers = register.transfers.filter { usedProcessors.contains($0.processor) }.map { transfer in
            let processor = register.processor(transfer.processor)?.name ?? transfer.processor
            let safeguard = transfer.safeguard.map(words.safeguard) ?? ""
            var detail = [safeguard, transfer.detail?[language]].compactMap { $0 }.filter { !$0.isEmpty }
            if let copy = register.notices?.transferSafeguardsCopy { detail.append(copy[language]) }
            return NamedEntry(name: "\(processor) — \(words.country(transfer.country))", detail: detail.joined(separator: ". "))
        }
        security = register.security.filter { $0.isShown(with: capabilities) }.map { $0.text[language] }
        let deadline = register.rights.compactMap(\.deadline).first ?? RetentionPeriod(1, .month)
        rights = register.rights.map { right in
            var ways = right.exercise
                .filter { $0.isOpen(with: capabilities) }
                .map { WayEntry(text: $0.text[language], page: $0.page) }
            if ways.isEmpty {
                ways = [WayEntry(text: words.writeToDPO(register.dpo, deadline: right.deadline ?? deadline), page: nil)]
            }
            return RightEntry(id: right.id, name: words.capitalised(right.name[language]), article: right.article,
                              description: right.description[language],
                              exercise: words.alternatives(ways.map(\.text)), ways: ways)
        }
        identityCheck = register.rightsExercise.identityCheck[language]
        answerDeadline = words.answerDeadline(deadline, extendedBy: register.rightsExercise.deadlineExtension)
        cookies = register.cookies.filter { cookie in
            (cookie.capability.map(capabilities.contains) ?? true) && (register.purpose(cookie.purpose)?.isCarriedOut(with: capabilities) ?? true)
        }.map {
            CookieEntry(name: $0.name, description: $0.description[language],
                        lifetime: words.cookieLifetime($0.duration),
                        consent: $0.consentRequired ? labels["yes"]! : labels["no"]!)
        }
        cookieControl = register.cookieControl?[language]
        changes = register.policyChanges.description[language]
        changesNotice = words.noticeOfChanges(register.policyChanges)
        let subjectNames = { (ids: [String]) in ids.compactMap { register.dataSubject($0)?.name[language] } }
        notices = NoticesSection(
            automatedDecisions: register.notices?.automatedDecisions?[language],
            directMarketingObjection: register.notices?.directMarketingObjection?[language],
            minors: register.notices?.minors?[language],
            indirectCollection: (register.notices?.indirectCollection ?? []).map {
                IndirectEntry(subjects: words.capitalised(words.list(subjectNames($0.subjects))),
                              source: $0.source[language], notice: $0.notice[language])
            }
        )
    }

    private static func entry(for purpose: Purpose, in register: Register, words: Wording) -> PurposeEntry {
        let language = words.language
        let subjectNames = { (ids: [String]) in ids.compactMap { register.dataSubject($0)?.name[language] } }
        let bases = purpose.legalBases.map { entry -> String in
            var text = words.legalBasis(entry.basis)
            if let detail = entry.detail { text += " — \(detail[language])" }
            if !entry.subjects.isEmpty { text = words.subjectsPrefix(subjectNames(entry.subjects)) + text }
            return text
        }
        let retention = purpose.retention.map { rule -> String in
            var prefix = ""
            if !rule.subjects.isEmpty { prefix += words.subjectsPrefix(subjectNames(rule.subjects)) }
            if !rule.categories.isEmpty {
                let names = rule.categories.compactMap { register.category($0)?.name[language] }
                prefix += words.capitalised(words.list(names)) + (language == .fr ? " : " : ": ")
            }
            let sentence = words.retention(rule, in: register)
            return prefix.isEmpty ? sentence : prefix + sentence.prefix(1).lowercased() + sentence.dropFirst()
        }
        return PurposeEntry(
            id: purpose.id,
            name: purpose.name[language],
            description: purpose.description?[language],
            source: purpose.source?[language],
            bases: bases,
            withdrawal: purpose.withdrawal?[language],
            categories: words.capitalised(words.list(purpose.categories.compactMap { register.category($0)?.name[language] })),
            recipients: words.capitalised(words.list(purpose.recipients.compactMap { register.recipient($0)?.name[language] })),
            retention: retention
        )
    }
}
