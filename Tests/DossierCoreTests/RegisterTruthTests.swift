import DossierCore
import DossierTestSupport
import Foundation
import Testing

/// The register promises only what the build does, declares where its periods come from, and
/// carries the notices GDPR Art. 13 and 14 require.
@Suite("The register tells the truth")
struct RegisterTruthTests {
    let register: Register

    init() throws {
        register = try RegisterLoader.load().register
    }

    /// What a build with nothing but its components has: no self-service page for any right.
    static let bare: Set<Capability> = [.policyPage, .encryptionAtRest, .separateKeyStore, .uploadInspection, .passwordHashing,
                                        .auditTrail, .staffRoles, .sessionCookie, .csrfCookie, .guarantorNotice]

    func right(_ id: String, _ capabilities: Set<Capability>, _ language: Language = .en) throws -> PolicyDocument.RightEntry {
        let document = PolicyDocument(register: register, language: language, capabilities: capabilities)
        return try #require(document.rights.first { $0.id == id })
    }

    @Test(arguments: Language.allCases)
    func aRightWithoutItsPageFallsBackToTheDPO(language: Language) throws {
        let erasure = try right("erasure", Self.bare, language)
        #expect(erasure.ways.count == 1)
        #expect(erasure.ways[0].page == nil)
        #expect(erasure.exercise.contains(register.dpo.email))
        #expect(erasure.exercise.contains(language == .fr ? "1 mois" : "1 month"))
        let markdown = MarkdownPolicy.render(PolicyDocument(register: register, language: language, capabilities: Self.bare))
        #expect(!markdown.contains(language == .fr ? "suppression du compte" : "delete the account"))
    }

    @Test func switchingACapabilityOnMakesItsLinkAppear() throws {
        let off = try right("erasure", Self.bare)
        #expect(!off.ways.contains { $0.page == "/account" })
        let on = try right("erasure", Self.bare.union([.accountDeletion]))
        #expect(on.ways.map(\.page) == ["/account"])
        #expect(on.exercise == "from your account (delete the account)")
        #expect(!on.exercise.contains(register.dpo.email))
        let portability = try right("portability", Self.bare.union([.dataExport]))
        #expect(portability.ways.first?.text == "from your account (ZIP export)")
    }

    @Test func waysWithoutCapabilityStayWhateverTheBuild() throws {
        let access = try right("access", [])
        #expect(access.ways.map(\.text) == ["by writing to our DPO"])
        let complaint = try right("complaint", [])
        #expect(complaint.exercise == "with the supervisory authority")
    }

    @Test func measuresOfAMissingFeatureAreLeftOut() {
        let bare = PolicyDocument(register: register, language: .en, capabilities: Self.bare)
        #expect(!bare.security.contains { $0.contains("share links") })
        #expect(!bare.security.contains { $0.contains("watermarked") })
        #expect(bare.security.contains { $0.contains("AES-256-GCM") })
        let sharing = PolicyDocument(register: register, language: .en, capabilities: Self.bare.union([.shareLinks, .watermarks]))
        #expect(sharing.security.contains { $0.contains("share links") })
        #expect(sharing.security.contains { $0.contains("watermarked") })
    }

    @Test func aMeasureWhoseCapabilityIsMissingIsAnError() {
        #expect(RegisterValidator.capabilityProblems(in: register, provided: Self.bare) == [])
        // Sharing without watermarks: the watermark measure now applies and is not kept.
        let problems = RegisterValidator.capabilityProblems(in: register, provided: Self.bare.union([.shareLinks]))
        #expect(problems.count == 1)
        #expect(problems.first?.message.contains("'watermarks'") == true)
        // Without the vault, the encryption measure is a broken promise.
        let noVault = RegisterValidator.capabilityProblems(in: register, provided: Self.bare.subtracting([.encryptionAtRest]))
        #expect(noVault.map(\.path) == [register.security.firstIndex { $0.capability == .encryptionAtRest }.map { "security[\($0)].capability" } ?? ""])
    }

    @Test func cookiesAndActivitiesOfAMissingFeatureAreLeftOut() {
        let bare = PolicyDocument(register: register, language: .en, capabilities: Self.bare)
        #expect(bare.cookies.map(\.name) == ["dossier_session", "dossier_csrf"])
        #expect(!bare.purposes.contains { $0.id == "cookies" })
        let rows = ProcessingRecord.rows(register, language: .en, capabilities: Self.bare)
        #expect(!rows.contains { $0.first == "cookies" })
        // Nor the category or anything else only that activity uses.
        #expect(!bare.categories.contains { $0.id == "cookies" })
        let all = PolicyDocument(register: register, language: .en, capabilities: Capability.everything)
        #expect(all.categories.contains { $0.id == "cookies" })
        #expect(all.cookies.map(\.name).contains("dossier_audience"))
        #expect(all.purposes.contains { $0.id == "cookies" })
    }

    @Test func anUnknownCapabilityIsReportedWithTheKnownOnes() throws {
        let yaml = try Fixtures.shippedRegisterYAML().replacingOccurrences(of: "capability: upload-inspection", with: "capability: mind-reading")
        #expect {
            _ = try RegisterLoader.load(yaml: yaml)
        } throws: { error in
            String(describing: error).contains("unknown capability 'mind-reading'; expected one of: policy-page")
        }
    }

    @Test func aRegisterWrittenBeforeCapabilitiesStillLoads() throws {
        // The minimal register gives each right one text and no measure object.
        let minimal = try RegisterLoader.load(from: Fixtures.url("minimal-register.yaml")).register
        #expect(minimal.rights.first?.exercise.first?.capability == nil)
        let document = PolicyDocument(register: minimal, language: .en, capabilities: [])
        #expect(document.rights.first?.exercise == "account")
    }

    @Test func aMeasureOrALinkedWayWithoutCapabilityIsRefused() throws {
        let yaml = try Fixtures.shippedRegisterYAML()
            .replacingOccurrences(of: "  - id: roles\n    capability: staff-roles\n", with: "  - id: roles\n")
            .replacingOccurrences(of: "{capability: profile-rectification, page: /file,", with: "{page: /file,")
        #expect {
            _ = try RegisterLoader.load(yaml: yaml)
        } throws: { error in
            let text = String(describing: error)
            return text.contains("measure 'roles' names no capability") && text.contains("a way with a page ('/file') names no capability")
        }
    }

    @Test func orphanRecipientsAndDataSubjectsAreRefused() throws {
        let yaml = try Fixtures.shippedRegisterYAML()
            .replacingOccurrences(of: "recipients:\n  - id: staff\n", with: "recipients:\n  - id: nobody\n    kind: third-party\n    name: {fr: personne, en: nobody}\n  - id: staff\n")
            .replacingOccurrences(of: "dataSubjects:\n", with: "dataSubjects:\n  - id: ghost\n    name: {fr: fantômes, en: ghosts}\n")
        #expect {
            _ = try RegisterLoader.load(yaml: yaml)
        } throws: { error in
            let text = String(describing: error)
            return text.contains("recipient 'nobody' is named by no purpose") && text.contains("data subject 'ghost' is named by no purpose")
        }
    }

    @Test func everyRuleOfTheShippedRegisterSaysWhereItsPeriodComesFrom() {
        for purpose in register.purposes {
            for (index, rule) in purpose.retention.enumerated() {
                #expect(rule.origin != nil, "\(purpose.id).retention[\(index)]")
                #expect(rule.reference?.isEmpty == false, "\(purpose.id).retention[\(index)]")
            }
        }
    }

    @Test func eachSeedPeriodIsAttributedToWhereItReallyComesFrom() throws {
        let seeds = try SeedPromises.load()
        for promise in seeds.promises {
            let purpose = try #require(register.purpose(promise.purpose))
            let origin = try #require(RuleOrigin(rawValue: promise.origin), "\(promise.purpose): unknown origin \(promise.origin)")
            // Every rule behind one of the promise's periods carries the promise's origin.
            for period in promise.periods {
                let rules = purpose.retention.filter { $0.keep.iso8601 == period || $0.archive?.keep.iso8601 == period }
                #expect(!rules.isEmpty, "\(promise.purpose): no rule for \(period)")
                #expect(rules.contains { $0.origin == origin }, "\(promise.purpose) \(period): expected origin \(origin)")
            }
        }
    }

    @Test(arguments: Language.allCases)
    func everyColumnOfTheRecordIsFilledForEveryActivity(language: Language) {
        for capabilities in [Self.bare, Capability.everything] {
            let rows = ProcessingRecord.rows(register, language: language, capabilities: capabilities)
            let header = ProcessingRecord.header(language)
            #expect(!rows.isEmpty)
            for row in rows {
                #expect(row.count == header.count)
                for (column, cell) in zip(header, row) {
                    #expect(!cell.trimmingCharacters(in: .whitespaces).isEmpty, "\(row[0]): \(column) is empty")
                }
            }
        }
    }

    @Test func theRecordShowsRolesFlagsImpactAssessmentOriginsAndDates() throws {
        let header = ProcessingRecord.header(.en)
        let rows = ProcessingRecord.rows(register, language: .en, capabilities: Self.bare)
        let services = try #require(rows.first { $0[0] == "services" })
        func cell(_ name: String) throws -> String { services[try #require(header.firstIndex(of: name))] }
        #expect(try cell("Controller roles").contains("Real estate agencies: a separate controller"))
        #expect(try cell("Highly personal data and measures").contains("French social-security number (NIR)"))
        #expect(try cell("Highly personal data and measures").contains("may reveal health"))
        #expect(try cell("Impact assessment (DPIA)").hasPrefix("required"))
        #expect(try cell("Origin of the periods").contains("seed policy (seed 002"))
        #expect(try cell("Created") == "2026-11-21")
        #expect(try cell("Last update") == register.effectiveDate)
        // Measures per activity: the upload check protects documents, not the newsletter.
        let newsletters = try #require(rows.first { $0[0] == "newsletters" })
        let measures = try #require(header.firstIndex(of: "Security measures"))
        #expect(services[measures].contains("checked in a separate process"))
        #expect(!newsletters[measures].contains("checked in a separate process"))
    }

    @Test(arguments: Language.allCases)
    func thePolicyCarriesTheNoticesOfArticles13And14(language: Language) {
        let markdown = MarkdownPolicy.render(PolicyDocument(register: register, language: language, capabilities: Self.bare))
        let fr = language == .fr
        let expected = fr ? [
            "Décisions automatisées et profilage", "ne prend aucune décision fondée exclusivement sur un traitement automatisé",
            "rapport entre les revenus du foyer et un loyer donné", "Votre droit absolu de vous opposer à la prospection",
            "ce droit est absolu", "Mineurs", "N'ouvrez pas de compte si vous avez moins de 18 ans", "Données que nous ne recevons pas de vous",
            "Garants", "le locataire qui vous désigne comme garant", "une copie des garanties peut être obtenue",
            "responsable de traitement distinct",
        ] : [
            "Automated decisions and profiling", "makes no decision based solely on automated processing",
            "ratio of the household's income to a given rent", "Your absolute right to object to direct marketing",
            "this right is absolute", "Minors", "Do not open an account if you are under 18", "Data we do not receive from you",
            "Guarantors", "the tenant who names you as guarantor", "a copy of the safeguards can be obtained",
            "a separate controller",
        ]
        #expect(expected.filter { !markdown.contains($0) } == [])
        // Nothing of the removed fields, nor of mechanisms this build lacks.
        for gone in fr ? ["photographie", "nationalité", "« Gérer les cookies »"] : ["photograph", "nationality", "\"Manage cookies\""] {
            #expect(!markdown.contains(gone), "\(gone)")
        }
    }

    @Test func theShippedRegisterIsAnExampleThatProductionRefuses() {
        let found = Placeholders.found(in: register)
        #expect(found.contains { $0.hasPrefix("controller.registration") })
        #expect(found.contains { $0.hasPrefix("dpo.email") })
        let own = register.withOwnIdentity()
        #expect(Placeholders.found(in: own) == [])
        #expect(Placeholders.websiteMatches(own, baseURLHost: "dossier.bailleur-ami.fr"))
        #expect(Placeholders.websiteMatches(own, baseURLHost: "bailleur-ami.fr"))
        #expect(!Placeholders.websiteMatches(own, baseURLHost: "evil-bailleur-ami.fr"))
        #expect(!Placeholders.websiteMatches(own, baseURLHost: "dossier.example.org"))
    }

    @Test func theGuarantorNoticeQuotesTheTenantsNameOnOneLine() {
        let text = MailTemplate.guarantorNamed(tenantName: "Eve\r\nBcc: victim@example.org\u{2028}x", policyLink: "https://d.test/privacy?lang=en",
                                               dpoEmail: "dpo@d.test").text(.en)
        #expect(text.contains("\"Eve  Bcc: victim@example.org x\""))
        #expect(text.contains("https://d.test/privacy?lang=en"))
        #expect(text.contains("dpo@d.test"))
        #expect(text.contains("Source: the tenant who named you."))
    }
}
