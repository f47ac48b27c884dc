import DossierCore
import DossierTestSupport
import Foundation
import Testing

/// Every seed promise appears in every rendering of the shipped register, in both languages.
@Suite("Renderings of the shipped register")
struct RenderingTests {
    let register: Register
    let seeds: SeedPromises

    init() throws {
        register = try RegisterLoader.load().register
        seeds = try SeedPromises.load()
    }

    @Test(arguments: Language.allCases)
    func markdownPolicyShowsEverySeedPromise(language: Language) {
        let markdown = MarkdownPolicy.render(PolicyDocument(register: register, language: language, capabilities: Capability.everything))
        #expect(seeds.missing(from: markdown, language: language) == [])
    }

    @Test(arguments: Language.allCases)
    func everySeedPurposeIsInTheRegister(language: Language) {
        let ids = Set(register.purposes.map(\.id))
        #expect(seeds.promises.filter { !ids.contains($0.purpose) }.map(\.purpose) == [])
    }

    @Test(arguments: Language.allCases)
    func csvRecordHasOneRowPerPurposeWithItsPromises(language: Language) throws {
        let csv = ProcessingRecord.csv(register, language: language, capabilities: Capability.everything)
        let rows = CSVReader.rows(csv)
        #expect(rows.first == ProcessingRecord.header(language))
        #expect(rows.count == register.purposes.count + 1)
        #expect(rows.allSatisfy { $0.count == ProcessingRecord.header(language).count })
        for promise in seeds.promises {
            let row = try #require(rows.first { $0.first == promise.purpose }, "no row for \(promise.purpose)")
            let text = row.joined(separator: " ")
            #expect(promise.texts(language).filter { !text.contains($0) } == [], "row \(promise.purpose)")
        }
    }

    @Test func csvQuotesWhatNeedsIt() {
        #expect(CSV.field("plain") == "plain")
        #expect(CSV.field("a, b") == "\"a, b\"")
        #expect(CSV.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
    }

    @Test(arguments: Language.allCases)
    func jsonLDRecordCarriesEveryPurposeAndPeriod(language: Language) throws {
        let data = DPVRecord.document(register, language: language, capabilities: Capability.everything).encoded()
        let document = try JSONDecoder().decode(JSONValue.self, from: data)
        #expect(document["@context"]?["dpv"] == "https://w3id.org/dpv#")
        guard case let .array(graph)? = document["@graph"] else {
            Issue.record("no @graph")
            return
        }
        for promise in seeds.promises {
            let id = "urn:dossier:register:\(register.version):purpose:\(promise.purpose)"
            let process = try #require(graph.first { $0["@id"] == .string(id) }, "no process \(id)")
            #expect(process["@type"] == "dpv:Process")
            let text = String(decoding: process.encoded(), as: UTF8.self)
            #expect(promise.periods.filter { !text.contains("\"\($0)\"") } == [], "periods of \(promise.purpose)")
            #expect(text.contains("eu-gdpr:A6-1-"))
        }
    }

    @Test func jsonRegisterRoundTrips() throws {
        let data = try RegisterJSON.encode(register)
        let decoded = try JSONDecoder().decode(Register.self, from: data)
        #expect(decoded.purposes.map(\.id) == register.purposes.map(\.id))
        let text = String(decoding: data, as: UTF8.self)
        for promise in seeds.promises {
            #expect(text.contains("\"id\" : \"\(promise.purpose)\""))
        }
        #expect(text.contains("\"keep\" : \"6 months\""))
        #expect(text.contains("\"noticeDays\" : 15"))
    }
}
