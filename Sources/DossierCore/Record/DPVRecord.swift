/// The Art. 30 record in W3C Data Privacy Vocabulary terms (DPV 2), as JSON-LD.
public enum DPVRecord {
    static let context: JSONValue = [
        "dpv": "https://w3id.org/dpv#",
        "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
        "pd": "https://w3id.org/dpv/pd#",
        "loc": "https://w3id.org/dpv/loc#",
        "dct": "http://purl.org/dc/terms/",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "dossier": "urn:dossier:vocab#",
    ]

    /// The record of the activities a build with `capabilities` carries out.
    public static func document(_ register: Register, language: Language, capabilities: Set<Capability>) -> JSONValue {
        let words = Wording(language)
        let base = "urn:dossier:register:\(register.version)"
        func label(_ text: LocalizedText) -> JSONValue {
            [["@language": "fr", "@value": .string(text.fr)], ["@language": "en", "@value": .string(text.en)]]
        }
        let controllerID = "\(base):controller"
        let processes: [JSONValue] = register.purposes.filter { $0.isCarriedOut(with: capabilities) }.map { purpose in
            let retention: [JSONValue] = purpose.retention.map { rule in
                var node: [String: JSONValue] = [
                    "@type": "dpv:StorageDuration",
                    "rdf:value": .string(rule.keep.iso8601),
                    "dossier:startEvent": .string(rule.from.rawValue),
                    "dossier:then": .string(rule.then.rawValue),
                    "rdfs:label": .string(words.retention(rule, in: register)),
                ]
                if !rule.categories.isEmpty {
                    node["dpv:hasPersonalData"] = .array(rule.categories.map { .string("\(base):category:\($0)") })
                }
                if let archive = rule.archive {
                    node["dossier:archiveDuration"] = .string(archive.keep.iso8601)
                    node["dossier:archiveExcludes"] = .array(archive.excluding.map { .string("\(base):category:\($0)") })
                }
                if let remind = rule.remind { node["dossier:remindBefore"] = .string(remind.iso8601) }
                return .object(node)
            }
            let transfers: [JSONValue] = register.transfers(for: purpose).map { transfer in
                [
                    "@type": "dpv:DataTransfer",
                    "dpv:hasCountry": .string("loc:\(transfer.country)"),
                    "dpv:hasLegalBasis": .string(safeguardTerm(transfer.safeguard)),
                    "dpv:hasRecipient": .string("\(base):processor:\(transfer.processor)"),
                ]
            }
            return [
                "@id": .string("\(base):purpose:\(purpose.id)"),
                "@type": "dpv:Process",
                "dct:identifier": .string(purpose.id),
                "rdfs:label": label(purpose.name),
                "dpv:hasPurpose": ["@type": "dpv:Purpose", "rdfs:label": label(purpose.name)],
                "dpv:hasLegalBasis": .array(purpose.legalBases.map { .string("eu-gdpr:A6-1-\($0.basis.article6Point)") }),
                "dpv:hasDataController": .string(controllerID),
                "dpv:hasDataSubject": .array(purpose.subjects.map { .string("\(base):subject:\($0)") }),
                "dpv:hasPersonalData": .array(purpose.categories.map { .string("\(base):category:\($0)") }),
                "dpv:hasRecipient": .array(purpose.recipients.map { .string("\(base):recipient:\($0)") }
                    + purpose.processors.map { .string("\(base):processor:\($0)") }),
                "dpv:hasStorageCondition": .array(retention),
                "dpv:hasDataTransfer": .array(transfers),
            ]
        }
        let categories: [JSONValue] = register.categories.map { category in
            var node: [String: JSONValue] = [
                "@id": .string("\(base):category:\(category.id)"),
                "@type": category.sensitive == true ? "dpv:SpecialCategoryPersonalData" : "dpv:PersonalData",
                "rdfs:label": label(category.name),
            ]
            if let concept = personalDataConcepts[category.id] { node["skos:broader"] = .string(concept) }
            return .object(node)
        }
        let subjects: [JSONValue] = register.dataSubjects.map {
            ["@id": .string("\(base):subject:\($0.id)"), "@type": "dpv:DataSubject", "rdfs:label": label($0.name)]
        }
        let recipients: [JSONValue] = register.recipients.map {
            ["@id": .string("\(base):recipient:\($0.id)"), "@type": .string(recipientType($0.kind)), "rdfs:label": label($0.name)]
        }
        let processors: [JSONValue] = register.processors.map {
            [
                "@id": .string("\(base):processor:\($0.id)"), "@type": "dpv:DataProcessor",
                "rdfs:label": .string($0.name), "dpv:hasCountry": .string("loc:\($0.country)"),
            ]
        }
        let controller: JSONValue = [
            "@id": .string(controllerID),
            "@type": "dpv:DataController",
            "rdfs:label": .string(register.controller.name),
            "dpv:hasAddress": .string(register.controller.address),
            "dpv:hasContact": .string(register.controller.email),
            "dpv:hasDataProtectionOfficer": ["@type": "dpv:DataProtectionOfficer", "dpv:hasContact": .string(register.dpo.email)],
        ]
        return [
            "@context": context,
            "@id": .string(base),
            "@type": "dpv:ROPA",
            "dct:title": .string(Wording(language).labels["title"] ?? ""),
            "dct:hasVersion": .string(register.version),
            "dct:valid": .string(register.effectiveDate),
            "@graph": .array([controller] + processes + categories + subjects + recipients + processors),
        ]
    }

    /// Nearest DPV personal-data concept of the shipped categories.
    static let personalDataConcepts: [String: String] = [
        "identification": "pd:Identifying",
        "housing-search": "pd:Preference",
        "personal-life": "pd:Family",
        "professional-life": "pd:Professional",
        "economic-financial": "pd:Financial",
        "connection-data": "pd:Authenticating",
        "browsing-data": "pd:BrowsingBehaviour",
        "payment-data": "pd:Transactional",
        "bank-details": "pd:BankAccount",
        "communications": "pd:Communication",
        "cookies": "pd:BrowsingBehaviour",
        "opinions": "pd:Opinion",
    ]

    static func safeguardTerm(_ safeguard: Safeguard?) -> String {
        switch safeguard {
        case .adequacy: "eu-gdpr:A45-3"
        case .standardContractualClauses: "eu-gdpr:A46-2-c"
        case .bindingCorporateRules: "eu-gdpr:A47-1"
        case .certification: "eu-gdpr:A46-2-f"
        case .codeOfConduct: "eu-gdpr:A46-2-e"
        case .derogation: "eu-gdpr:A49-1"
        case nil: "dpv:LegalBasis"
        }
    }

    static func recipientType(_ kind: RecipientKind) -> String {
        switch kind {
        case .staff: "dpv:Employee"
        case .auditor: "dpv:Auditor"
        case .processor: "dpv:DataProcessor"
        case .publicBody: "dpv:Authority"
        case .public: "dpv:Recipient"
        default: "dpv:ThirdParty"
        }
    }
}
