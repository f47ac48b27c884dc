/// The fixed words of the published policy, in each language. Everything else comes from the register.
public struct Wording: Sendable {
    public let language: Language

    public init(_ language: Language) {
        self.language = language
    }

    private func pick(_ fr: String, _ en: String) -> String {
        language == .fr ? fr : en
    }

    // MARK: Periods and events

    /// "6 months", "1 an", "30 jours".
    public func period(_ period: RetentionPeriod) -> String {
        let plural = period.count > 1
        let unit: String = switch (period.unit, language) {
        case (.day, .fr): plural ? "jours" : "jour"
        case (.day, .en): plural ? "days" : "day"
        case (.week, .fr): plural ? "semaines" : "semaine"
        case (.week, .en): plural ? "weeks" : "week"
        case (.month, .fr): "mois"
        case (.month, .en): plural ? "months" : "month"
        case (.year, .fr): plural ? "ans" : "an"
        case (.year, .en): plural ? "years" : "year"
        }
        return "\(period.count) \(unit)"
    }

    /// What follows a period counted from `event`: "from collection", "après la fin du contrat".
    public func since(_ event: StartEvent) -> String {
        switch event {
        case .collection: pick("à compter de la collecte", "from collection")
        case .issue: pick("à compter de leur émission", "from the date of issue")
        case .lastActivity: pick("après la dernière activité du compte", "after the account's last activity")
        case .endOfContract: pick("après la fin du contrat", "after the end of the contract")
        case .lastContact: pick("à compter de votre dernier contact avec nous", "from your last contact with us")
        case .consentWithdrawal: pick("après le retrait du consentement", "after consent is withdrawn")
        case .requestProcessed: pick("après le traitement de la demande", "after the request is processed")
        case .identityVerified: pick("après la vérification de l'identité", "after identity is verified")
        case .objection: pick("à compter de l'opposition", "from the objection")
        case .directivesExecuted: pick("après l'exécution des directives", "after the directives are carried out")
        }
    }

    /// A period that ends at `event`: "until the end of the contract".
    public func until(_ event: StartEvent) -> String {
        switch event {
        case .collection: pick("jusqu'à la collecte", "until collection")
        case .issue: pick("jusqu'à leur émission", "until issue")
        case .lastActivity: pick("tant que le compte est actif", "while the account is active")
        case .endOfContract: pick("jusqu'à la fin du contrat", "until the end of the contract")
        case .lastContact: pick("jusqu'à votre dernier contact avec nous", "until your last contact with us")
        case .consentWithdrawal: pick("jusqu'au retrait du consentement", "until consent is withdrawn")
        case .requestProcessed: pick("le temps de traiter la demande", "for the time needed to process the request")
        case .identityVerified: pick("le temps de vérifier l'identité", "for the time needed to verify identity")
        case .objection: pick("jusqu'à l'opposition", "until the objection")
        case .directivesExecuted: pick("jusqu'à l'exécution des directives", "until the directives are carried out")
        }
    }

    /// One retention rule in words: "6 months from collection, then deleted."
    public func retention(_ rule: RetentionRule, in register: Register) -> String {
        var parts: [String] = []
        let active = rule.keep.isZero
            ? until(rule.from)
            : "\(period(rule.keep)) \(since(rule.from))"
        if let archive = rule.archive, rule.keep.isZero, rule.from == .issue || rule.from == .collection {
            // Archived from the start: "Archived for 10 years from the date of issue".
            parts.append(pick("Archivées pendant \(period(archive.keep)) \(since(rule.from))",
                              "Archived for \(period(archive.keep)) \(since(rule.from))"))
        } else {
            var sentence = capitalised(active)
            if let remind = rule.remind {
                sentence += pick(" (courriel de rappel \(period(remind)) avant la fin)", " (reminder email \(period(remind)) before the end)")
            }
            parts.append(sentence)
            if let archive = rule.archive {
                // One rule, in its order: the reminder, then (without an answer) out of the active
                // service into the archive, then deleted at the archive's end.
                let excluded = archive.excluding.compactMap { register.category($0)?.name[language] }
                let except = excluded.isEmpty ? "" : pick(" (sauf \(list(excluded)), supprimées aussitôt)", " (except \(list(excluded)), deleted at once)")
                let span = rule.keep.isZero
                    ? "\(period(archive.keep)) \(since(rule.from))"
                    : pick("\(period(archive.keep)) supplémentaires", "a further \(period(archive.keep))")
                let lead = rule.remind == nil ? pick("puis ", "then ")
                    : pick("en l'absence de réponse, retirées du service actif et ", "in the absence of a response, taken out of the active service and ")
                parts.append(lead + pick("archivées à titre probatoire\(except), en accès restreint, pendant \(span)",
                                         "archived for probative purposes\(except), with restricted access, for \(span)"))
            } else if rule.remind != nil {
                parts.append(rule.then == .delete ? pick("supprimées en l'absence de réponse", "deleted in the absence of a response")
                                                  : pick("anonymisées en l'absence de réponse", "anonymised in the absence of a response"))
                return parts.joined(separator: pick(" ; ", "; ")) + "."
            }
        }
        parts.append(endAction(rule.then))
        return parts.joined(separator: pick(" ; ", "; ")) + "."
    }

    public func endAction(_ action: EndAction) -> String {
        switch action {
        case .delete: pick("puis supprimées", "then deleted")
        case .anonymise: pick("puis anonymisées", "then anonymised")
        }
    }

    // MARK: Bases, safeguards, places

    public func legalBasis(_ basis: LegalBasis) -> String {
        let article = pick("art. 6.1.\(basis.article6Point) du RGPD", "GDPR Art. 6(1)(\(basis.article6Point))")
        let name = switch basis {
        case .consent: pick("Consentement", "Consent")
        case .contract: pick("Exécution du contrat", "Performance of a contract")
        case .preContract: pick("Mesures précontractuelles", "Pre-contractual measures")
        case .legalObligation: pick("Obligation légale", "Legal obligation")
        case .vitalInterests: pick("Intérêts vitaux", "Vital interests")
        case .publicTask: pick("Mission d'intérêt public", "Task in the public interest")
        case .legitimateInterests: pick("Intérêt légitime", "Legitimate interests")
        }
        return "\(name) (\(article))"
    }

    public func safeguard(_ safeguard: Safeguard) -> String {
        let name = switch safeguard {
        case .adequacy: pick("décision d'adéquation de la Commission européenne", "European Commission adequacy decision")
        case .standardContractualClauses: pick("clauses contractuelles types", "standard contractual clauses")
        case .bindingCorporateRules: pick("règles d'entreprise contraignantes", "binding corporate rules")
        case .certification: pick("mécanisme de certification approuvé", "approved certification mechanism")
        case .codeOfConduct: pick("code de conduite approuvé", "approved code of conduct")
        case .derogation: pick("dérogation pour une situation particulière", "derogation for a specific situation")
        }
        return "\(name) (\(pick("RGPD", "GDPR")) \(safeguard.article))"
    }

    public func country(_ code: String) -> String {
        let names: [String: (String, String)] = [
            "FR": ("France", "France"), "US": ("États-Unis", "United States"),
            "GB": ("Royaume-Uni", "United Kingdom"), "DE": ("Allemagne", "Germany"),
            "IE": ("Irlande", "Ireland"), "CH": ("Suisse", "Switzerland"), "CA": ("Canada", "Canada"),
        ]
        guard let name = names[code] else { return code }
        return pick(name.0, name.1)
    }

    public func cookieLifetime(_ duration: RetentionPeriod) -> String {
        duration.isZero ? pick("durée de la session", "browser session") : period(duration)
    }

    // MARK: Sentences

    public func noticeOfChanges(_ changes: PolicyChanges) -> String {
        let channel = switch changes.channel {
        case .email: pick("par courriel", "by email")
        }
        return pick("Vous êtes prévenu \(channel) au moins \(changes.noticeDays) jours avant la date d'effet de toute modification.",
                    "You are notified \(channel) at least \(changes.noticeDays) days before any change takes effect.")
    }

    public func answerDeadline(_ deadline: RetentionPeriod, extendedBy extension: RetentionPeriod) -> String {
        pick("Nous répondons dans un délai de \(period(deadline)), prolongeable de \(period(`extension`)) pour les demandes complexes ou nombreuses ; vous êtes alors informé de la prolongation dans le premier délai (art. 12.3 du RGPD).",
             "We answer within \(period(deadline)), which may be extended by \(period(`extension`)) for complex or numerous requests; you are then told of the extension within the first period (GDPR Art. 12(3)).")
    }

    public func mandatoryFields(_ names: [String]) -> String {
        pick("obligatoires (marquées d'un astérisque) : \(list(names))", "mandatory (marked with an asterisk): \(list(names))")
    }

    public func subjectsPrefix(_ names: [String]) -> String {
        pick("Pour les \(list(names)) : ", "For \(list(names)): ")
    }

    public func list(_ items: [String]) -> String {
        guard items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + pick(" et ", " and ") + items.last!
    }

    /// "a, b or c".
    public func alternatives(_ items: [String]) -> String {
        guard items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + pick(" ou ", " or ") + items.last!
    }

    /// The way always open when the build offers none for a right.
    public func writeToDPO(_ dpo: Contact, deadline: RetentionPeriod) -> String {
        let postal = dpo.address.map { pick(" ou \($0)", " or \($0)") } ?? ""
        return pick("en écrivant à notre délégué à \(dpo.email)\(postal), qui vous répond dans un délai de \(period(deadline))",
                    "by writing to our DPO at \(dpo.email)\(postal), who answers within \(period(deadline))")
    }

    /// What a recipient is for the data it receives.
    public func role(_ role: ControllerRole) -> String {
        switch role {
        case .independentController: pick("responsable de traitement distinct, sous sa propre politique de confidentialité",
                                           "a separate controller, under its own privacy policy")
        case .jointController: pick("responsable conjoint du traitement (art. 26 du RGPD)", "a joint controller (GDPR Art. 26)")
        case .processor: pick("sous-traitant agissant sur nos instructions (art. 28 du RGPD)", "a processor acting on our instructions (GDPR Art. 28)")
        case .internal: pick("au sein de notre organisation", "within our organisation")
        }
    }

    /// Where a retention period comes from, for the record.
    public func origin(_ origin: RuleOrigin) -> String {
        switch origin {
        case .seed: pick("politique d'origine", "seed policy")
        case .law: pick("loi", "law")
        case .decision: pick("choix de l'exploitant", "operator's decision")
        }
    }

    /// Why a category needs more care, for the record.
    public func flag(_ flag: DataFlag) -> String {
        switch flag {
        case .health: pick("peut révéler la santé (art. 9 du RGPD)", "may reveal health (GDPR Art. 9)")
        case .nationalIdentifier: pick("numéro de sécurité sociale (NIR)", "French social-security number (NIR)")
        case .financial: pick("données financières", "financial data")
        case .highlyPersonal: pick("données hautement personnelles", "highly personal data")
        case .offences: pick("infractions et condamnations (art. 10 du RGPD)", "offences and convictions (GDPR Art. 10)")
        }
    }

    public func capitalised(_ text: String) -> String {
        text.prefix(1).uppercased() + text.dropFirst()
    }

    /// The headings and labels of the page.
    public var labels: [String: String] {
        let entries: [(String, String, String)] = [
            ("title", "Politique de confidentialité", "Privacy policy"),
            ("controller", "Qui est responsable du traitement ?", "Who is responsible for processing?"),
            ("registration", "Immatriculation", "Registration"),
            ("dpo", "Contact pour les données personnelles", "Contact point for personal data"),
            ("data", "Quelles données collectons-nous ?", "What data do we collect?"),
            ("mandatoryNote", "Les données obligatoires sont signalées lors de la collecte par un astérisque ; elles sont nécessaires pour vous fournir nos services.", "Mandatory data is indicated when you provide it, marked with an asterisk; it is necessary to provide you with our services."),
            ("principles", "Nos principes", "Our principles"),
            ("purposes", "Sur quelles bases légales, pour quelles finalités et combien de temps conservons-nous vos données ?", "On what legal bases, for what purposes and for how long do we keep your personal data?"),
            ("purpose", "Finalité", "Purpose"),
            ("basis", "Base légale", "Legal basis"),
            ("retention", "Durée de conservation", "Retention period"),
            ("categories", "Données", "Data"),
            ("source", "Source", "Source"),
            ("withdrawal", "Retrait du consentement", "Withdrawing consent"),
            ("colon", " : ", ": "),
            ("recipientsShort", "Destinataires", "Recipients"),
            ("recipients", "Qui sont les destinataires de vos données ?", "Who are the recipients of your data?"),
            ("processors", "Nos sous-traitants", "Our processors"),
            ("transfers", "Vos données peuvent-elles être transférées hors de l'Union européenne ?", "May your data be transferred outside the European Union?"),
            ("hosting", "Hébergement", "Hosting"),
            ("noTransfers", "Aucun transfert hors de l'Union européenne.", "No transfer outside the European Union."),
            ("security", "Comment protégeons-nous vos données ?", "How do we protect your data?"),
            ("rights", "Quels sont vos droits ?", "What are your rights?"),
            ("exercise", "Comment les exercer", "How to exercise them"),
            ("writeTo", "Écrivez à", "Write to"),
            ("authority", "Autorité de contrôle", "Supervisory authority"),
            ("cookies", "Quels cookies utilisons-nous ?", "What cookies do we use?"),
            ("cookie", "Cookie", "Cookie"),
            ("lifetime", "Durée", "Lifetime"),
            ("consent", "Consentement requis", "Consent required"),
            ("yes", "oui", "yes"),
            ("no", "non", "no"),
            ("changes", "Modifications de cette politique", "Changes to this policy"),
            ("version", "Version", "Version"),
            ("effective", "Date d'effet", "Effective date"),
            ("versions", "Versions publiées", "Published versions"),
            ("otherLanguage", "English version", "Version française"),
            ("automatedDecisions", "Décisions automatisées et profilage", "Automated decisions and profiling"),
            ("directMarketing", "Votre droit absolu de vous opposer à la prospection", "Your absolute right to object to direct marketing"),
            ("minors", "Mineurs", "Minors"),
            ("or", "ou", "or"),
            ("indirect", "Données que nous ne recevons pas de vous", "Data we do not receive from you"),
            ("sourceOfData", "Source", "Source"),
            ("howTold", "Information des personnes", "How they are told"),
        ]
        return Dictionary(uniqueKeysWithValues: entries.map { ($0.0, pick($0.1, $0.2)) })
    }
}
