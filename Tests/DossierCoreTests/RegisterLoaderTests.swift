import DossierCore
import DossierTestSupport
import Foundation
import Testing

@Suite("Loading and checking a register")
struct RegisterLoaderTests {
    let minimal: String

    init() throws {
        minimal = try String(contentsOf: Fixtures.url("minimal-register.yaml"), encoding: .utf8)
    }

    /// Loads `yaml`, expecting it to be refused; returns the problems.
    func problems(_ yaml: String) throws -> [RegisterProblem] {
        do {
            _ = try RegisterLoader.load(yaml: yaml, file: "test.yaml")
            Issue.record("the register was accepted")
            return []
        } catch let error as InvalidRegister {
            return error.problems
        }
    }

    /// The 1-based line of the first occurrence of `text` in `yaml`.
    func line(of text: String, in yaml: String) -> Int? {
        yaml.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(text) }.map { $0 + 1 }
    }

    func replacing(_ old: String, with new: String) throws -> String {
        try #require(minimal.contains(old), "fixture lacks \(old)")
        return minimal.replacingOccurrences(of: old, with: new)
    }

    @Test func shippedRegisterIsValid() throws {
        let loaded = try RegisterLoader.load()
        #expect(loaded.register.purposes.count >= 17)
        #expect(loaded.digest.count == 64)
    }

    @Test func minimalRegisterIsValid() throws {
        let loaded = try RegisterLoader.load(yaml: minimal)
        #expect(loaded.register.purposes.map(\.id) == ["account", "newsletter"])
    }

    @Test func unknownDataCategoryIsLocated() throws {
        let yaml = try replacing("categories: [identification]\n    retention", with: "categories: [identity]\n    retention")
        let found = try problems(yaml)
        let problem = try #require(found.first { $0.message.contains("unknown data category 'identity'") })
        #expect(problem.path == "purposes[1].categories[0]")
        #expect(problem.line == line(of: "categories: [identity]", in: yaml))
        #expect(problem.message.contains("expected an id listed under 'categories'"))
        #expect(problem.description.hasPrefix("test.yaml:\(problem.line!):"))
    }

    @Test func purposeWithoutLegalBasis() throws {
        let yaml = try replacing("    legalBases:\n      - basis: contract\n", with: "")
        let problem = try #require(try problems(yaml).first { $0.message.contains("has no legal basis") })
        #expect(problem.path == "purposes[0]")
        #expect(problem.message.contains("purpose 'account'"))
        #expect(problem.message.contains("legitimate-interests"))
        #expect(problem.line == line(of: "- id: account", in: yaml))
    }

    @Test func consentWithoutWithdrawal() throws {
        let yaml = try replacing("    withdrawal: {fr: lien de désinscription, en: unsubscribe link}\n", with: "")
        let found = try problems(yaml)
        #expect(found.count == 1)
        let problem = try #require(found.first)
        #expect(problem.path == "purposes[1]")
        #expect(problem.message.contains("purpose 'newsletter' relies on consent but does not say how to withdraw it"))
    }

    @Test func unparseableDuration() throws {
        let yaml = try replacing("keep: 6 months", with: "keep: 6 mois")
        let found = try problems(yaml)
        #expect(found.count == 1)
        let problem = try #require(found.first)
        #expect(problem.path == "purposes[0].retention[0].keep")
        #expect(problem.line == line(of: "keep: 6 mois", in: yaml))
        #expect(problem.message.contains("unparseable duration '6 mois'"))
        #expect(problem.message.contains("N days|weeks|months|years"))
    }

    @Test func transferWithoutSafeguard() throws {
        let yaml = try replacing("    safeguard: standard-contractual-clauses\n", with: "")
        let found = try problems(yaml)
        #expect(found.count == 1)
        let problem = try #require(found.first)
        #expect(problem.path == "transfers[0]")
        #expect(problem.message.contains("transfer 'crm-us' to US has no safeguard"))
        #expect(problem.message.contains("adequacy"))
    }

    @Test func duplicateIDs() throws {
        let yaml = try replacing("  - id: connection-data\n", with: "  - id: identification\n")
        let problem = try #require(try problems(yaml).first { $0.message.contains("duplicate id") })
        #expect(problem.path == "categories[1].id")
        #expect(problem.message == "duplicate id 'identification' (already used by categories[0])")
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        let second = lines.indices.filter { lines[$0] == "  - id: identification" }.dropFirst().first
        #expect(problem.line == second.map { $0 + 1 })
    }

    @Test func unknownVocabularyWordsAreAllReportedTogether() throws {
        let yaml = try replacing("basis: contract", with: "basis: contrat")
            .replacingOccurrences(of: "from: last-activity", with: "from: last-login")
        let found = try problems(yaml)
        #expect(found.map(\.path) == ["purposes[0].legalBases[0].basis", "purposes[0].retention[1].from"])
        #expect(found[0].message.hasPrefix("unknown legal basis 'contrat'; expected one of: consent, contract"))
        #expect(found[1].message.hasPrefix("unknown start event 'last-login'; expected one of: collection"))
        #expect(found[1].line == line(of: "from: last-login", in: yaml))
    }

    @Test func processorOutsideTheEUNeedsATransfer() throws {
        let yaml = try replacing("    processor: crm\n    country: US\n", with: "    processor: crm\n    country: CA\n")
        let messages = try problems(yaml).map(\.message)
        #expect(messages.contains { $0.contains("processor 'crm' is in US, outside the EU/EEA, and no transfer with a safeguard covers it") })
    }

    @Test func retentionMustCoverEveryCategory() throws {
        let yaml = try replacing("      - keep: 1 year\n        from: last-activity\n        then: delete\n", with: "")
        let problem = try #require(try problems(yaml).first)
        #expect(problem.message == "purpose 'account' has no retention rule for data category 'identification'; expected a rule naming it, or one without 'categories'")
    }

    @Test func missingRequiredKey() throws {
        let found = try problems(try replacing("  name: Test Controller SAS\n", with: ""))
        #expect(found.map(\.description) == ["test.yaml:6:3: controller: missing required key 'name'"])
    }

    @Test func missingTranslation() throws {
        let found = try problems(try replacing("{fr: Lettre, en: Newsletter}", with: "{fr: Lettre}"))
        #expect(found.map(\.path) == ["purposes[1].name"])
        #expect(found.first?.message == "missing text in 'en'; expected {fr: …, en: …}")
    }

    @Test func yamlSyntaxErrorHasAPosition() throws {
        let found = try problems(minimal.replacingOccurrences(of: "version: 0.1.0", with: "version: [0.1.0"))
        let problem = try #require(found.first)
        #expect(problem.message.hasPrefix("invalid YAML"))
        #expect(problem.line != nil)
    }

    @Test func reminderMustFallWithinThePeriod() throws {
        let yaml = try replacing("        from: last-activity\n", with: "        from: last-activity\n        remind: 2 years\n")
        let problem = try #require(try problems(yaml).first)
        #expect(problem.path == "purposes[0].retention[1].remind")
    }

    @Test func unreadableFile() throws {
        #expect(throws: InvalidRegister.self) {
            try RegisterLoader.load(from: URL(fileURLWithPath: "/nonexistent/register.yaml"))
        }
    }
}
