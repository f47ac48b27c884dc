@testable import DossierServer
import DossierCore
import DossierTestSupport
import Foundation
import Testing
import VaporTesting

@Suite("Policy, register and record routes")
struct PrivacyRoutesTests {
    let seeds: SeedPromises

    init() throws {
        seeds = try SeedPromises.load()
    }

    @Test(arguments: TestDatabase.all)
    func healthReportsTheDatabase(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.testing().test(.GET, "health") { res in
                #expect(res.status == .ok)
                let status = try res.content.decode(HealthController.Status.self)
                #expect(status.status == "ok")
                #expect(status.database == (database.testDescription == "SQLite" ? "sqlite" : "postgresql"))
                #expect(status.registerVersion == "1.3.0")
            }
        }
    }

    @Test(arguments: Language.allCases)
    func privacyPageShowsEverySeedPromise(language: Language) async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.testing().test(.GET, "privacy?lang=\(language.rawValue)") { res in
                #expect(res.status == .ok)
                #expect(res.headers.contentType == .html)
                let page = unescapeHTML(res.body.string)
                #expect(page.contains("<html lang=\"\(language.rawValue)\">"))
                let seeds = seeds.carriedOut(by: app.dossier.register.register, capabilities: app.capabilities)
                #expect(seeds.missing(from: page, language: language) == [])
                for promise in seeds.promises {
                    #expect(page.contains("id=\"purpose-\(promise.purpose)\""))
                }
            }
        }
    }

    @Test func privacyFollowsAcceptLanguage() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.testing().test(.GET, "privacy", headers: ["Accept-Language": "en-GB,en;q=0.9"]) { res in
                #expect(res.body.string.contains("<h1>Privacy policy</h1>"))
            }
            try await app.testing().test(.GET, "privacy", headers: ["Accept-Language": "de-DE"]) { res in
                #expect(res.body.string.contains("<h1>Politique de confidentialité</h1>"))
            }
        }
    }

    @Test func unsupportedLanguageIsAClearBadRequest() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.testing().test(.GET, "privacy?lang=de") { res in
                #expect(res.status == .badRequest)
                let body = try res.content.decode(ErrorBody.self)
                #expect(body.error.code == "bad_request")
                #expect(body.error.message == "Unsupported language 'de'; expected one of: fr, en.")
            }
        }
    }

    @Test func unknownRouteIsAJSONNotFound() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.testing().test(.GET, "api/v1/nothing") { res in
                #expect(res.status == .notFound)
                let body = try res.content.decode(ErrorBody.self)
                #expect(body.error.code == "not_found")
            }
        }
    }

    @Test func registerAsJSON() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.testing().test(.GET, "api/v1/register") { res in
                #expect(res.status == .ok)
                #expect(res.headers.first(name: .eTag) == "\"\(app.dossier.register.digest)\"")
                let register = try JSONDecoder().decode(Register.self, from: Data(res.body.readableBytesView))
                let ids = Set(register.purposes.map(\.id))
                #expect(seeds.promises.filter { !ids.contains($0.purpose) }.map(\.purpose) == [])
                #expect(register.policyChanges.noticeDays == 15)
            }
        }
    }

    @Test(arguments: Language.allCases)
    func recordAsCSV(language: Language) async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.testing().test(.GET, "api/v1/register/record.csv?lang=\(language.rawValue)") { res in
                #expect(res.status == .ok)
                #expect(res.headers.first(name: .contentType)?.hasPrefix("text/csv") == true)
                #expect(res.headers.first(name: .contentDisposition)?.contains("record-of-processing-1.3.0-\(language.rawValue).csv") == true)
                let text = res.body.string
                let seeds = seeds.carriedOut(by: app.dossier.register.register, capabilities: app.capabilities)
                #expect(text.hasPrefix(ProcessingRecord.header(language).joined(separator: ",")))
                #expect(seeds.promises.flatMap { $0.texts(language) }.filter { !text.contains($0) } == [])
            }
        }
    }

    @Test func recordAsJSONLD() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.testing().test(.GET, "api/v1/register/record.jsonld") { res in
                #expect(res.status == .ok)
                #expect(res.headers.first(name: .contentType)?.hasPrefix("application/ld+json") == true)
                let document = try JSONDecoder().decode(JSONValue.self, from: Data(res.body.readableBytesView))
                #expect(document["@type"] == "dpv:ROPA")
                let text = res.body.string
                let seeds = seeds.carriedOut(by: app.dossier.register.register, capabilities: app.capabilities)
                for promise in seeds.promises {
                    #expect(text.contains("purpose:\(promise.purpose)\""))
                }
                #expect(Set(seeds.promises.flatMap(\.periods)).filter { !text.contains("\"\($0)\"") } == [])
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func publishedVersionsAreListedAndReadable(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.testing().test(.GET, "privacy/versions", headers: ["Accept": "application/json"]) { res in
                #expect(res.status == .ok)
                let versions = try res.content.decode([PrivacyController.VersionSummary].self)
                #expect(versions.map(\.version) == ["1.3.0"])
                #expect(versions.first?.digest == app.dossier.register.digest)
                #expect(res.headers[.vary].contains("Accept"), "JSON and the page share the address")
            }
            try await app.testing().test(.GET, "privacy/versions?lang=en") { res in
                #expect(res.status == .ok)
                #expect(res.headers[.vary].contains("Accept"))
                #expect(res.body.string.contains("href=\"/privacy/versions/1.3.0\""))
            }
            try await app.testing().test(.GET, "privacy/versions/1.3.0?lang=en") { res in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("Registering on the website and creating an account"))
            }
            try await app.testing().test(.GET, "privacy/versions/9.9.9") { res in
                #expect(res.status == .notFound)
                let body = try res.content.decode(ErrorBody.self)
                #expect(body.error.message == "No published policy version '9.9.9'.")
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func aChangedRegisterNeedsANewVersion(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let changedText = try Fixtures.shippedRegisterYAML().replacingOccurrences(of: "kept", with: "kept") + "\n# edited\n"
            let changed = try RegisterLoader.load(yaml: changedText)
            await #expect(throws: ConfigurationError.self) {
                try await PolicyPublisher.publish(changed, capabilities: app.capabilities, on: app.db)
            }
            let bumped = try RegisterLoader.load(yaml: changedText.replacingOccurrences(of: "version: 1.3.0", with: "version: 1.4.0"))
            try await PolicyPublisher.publish(bumped, capabilities: app.capabilities, on: app.db)
            #expect(try await PolicyVersion.query(on: app.db).count() == 2)
        }
    }

    @Test func serverRefusesAnInvalidRegister() async throws {
        let broken = try Fixtures.shippedRegisterYAML().replacingOccurrences(of: "keep: 6 months", with: "keep: six months")
        let file = try temporaryFile(broken)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        await #expect {
            try await withDossier(on: .sqlite, registerPath: file.path) { _ in }
        } throws: { error in
            guard let invalid = error as? InvalidRegister else { return false }
            return invalid.problems.contains { $0.message.contains("unparseable duration 'six months'") && $0.file == file.path }
        }
    }

    @Test func serverRefusesARegisterWithoutTheCategoriesItStores() async throws {
        let minimal = try String(contentsOf: Fixtures.url("minimal-register.yaml"), encoding: .utf8)
        // Valid as a register, but it no longer declares the connection data the server logs.
        let withoutConnections = minimal
            .replacingOccurrences(of: "  - id: connection-data\n    name: {fr: données de connexion, en: connection data}\n", with: "")
            .replacingOccurrences(of: "categories: [identification, connection-data]", with: "categories: [identification]")
            .replacingOccurrences(of: "      - categories: [connection-data]\n        keep: 6 months\n        from: collection\n        then: delete\n", with: "")
        _ = try RegisterLoader.load(yaml: withoutConnections)
        let file = try temporaryFile(withoutConnections)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        await #expect {
            try await withDossier(on: .sqlite, registerPath: file.path) { _ in }
        } throws: { error in
            (error as? InvalidRegister)?.problems.map(\.message).contains("the server stores data category 'connection-data', which this register does not declare") == true
        }
    }

    @Test func responsesCarrySecurityHeaders() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.testing().test(.GET, "privacy") { res in
                #expect(res.headers.first(name: "X-Content-Type-Options") == "nosniff")
                #expect(res.headers.first(name: "Content-Security-Policy")?.contains("frame-ancestors 'none'") == true)
            }
        }
    }
}
