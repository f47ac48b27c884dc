@testable import DossierServer
import DossierCore
import DossierTestSupport
import Fluent
import Foundation
import SQLKit
import Testing
import VaporTesting

/// What the server stores, promises and sends agrees with the register.
@Suite("The register and the server agree")
struct RegisterTruthServerTests {
    /// Every table and column of a database, read from its catalogue.
    static func schema(of database: any Database) async throws -> [String: Set<String>] {
        let sql = try #require(database as? any SQLDatabase)
        var tables: [String: Set<String>] = [:]
        if sql.dialect.name == "sqlite" {
            let names = try await sql.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all()
                .map { try $0.decode(column: "name", as: String.self) }
            for name in names {
                tables[name] = Set(try await sql.raw("SELECT name FROM pragma_table_info(\(bind: name))").all()
                    .map { try $0.decode(column: "name", as: String.self) })
            }
        } else {
            let rows = try await sql.raw("""
                SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()
                """).all()
            for row in rows {
                tables[try row.decode(column: "table_name", as: String.self), default: []].insert(try row.decode(column: "column_name", as: String.self))
            }
        }
        return tables
    }

    /// What a schema holds that ``StoredItems`` does not declare, in words.
    static func undeclared(_ schema: [String: Set<String>], declared: [StoredItems.Table]) -> [String] {
        schema.keys.sorted().flatMap { table -> [String] in
            guard let declaration = declared.first(where: { $0.name == table }) else { return ["table \(table)"] }
            return schema[table]!.subtracting(declaration.columns).sorted().map { "column \(table).\($0)" }
        }
    }

    @Test(arguments: TestDatabase.all)
    func everyTableAndColumnIsDeclaredWithAPurposeAndARule(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let data = try await Self.schema(of: app.db)
            let keys = try await Self.schema(of: try #require(app.databases.database(.keys, logger: app.logger, on: app.eventLoopGroup.any())))
            #expect(Self.undeclared(data, declared: StoredItems.data) == [])
            #expect(Self.undeclared(keys, declared: StoredItems.keys) == [])
            // Nothing declared that the schema does not have: the list stays the schema's.
            for table in StoredItems.data {
                #expect(data[table.name] == table.columns, "\(table.name)")
            }
            for table in StoredItems.data + StoredItems.keys {
                #expect(table.reasons.isEmpty == (table.noPersonalData != nil), "\(table.name): reasons or why none")
            }
            #expect(StoredItems.problems(in: app.dossier.register.register) == [])
        }
    }

    @Test(arguments: TestDatabase.all)
    func aColumnAddedWithoutADeclarationIsFound(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let sql = try #require(app.db as? any SQLDatabase)
            try await sql.raw("ALTER TABLE accounts ADD COLUMN shoe_size INTEGER").run()
            try await sql.raw("CREATE TABLE favourite_colours (id INTEGER PRIMARY KEY, account_id TEXT)").run()
            let found = Self.undeclared(try await Self.schema(of: app.db), declared: StoredItems.data)
            #expect(found == ["column accounts.shoe_size", "table favourite_colours"])
        }
    }

    @Test func everyProfileFieldBelongsToADeclaredCategoryOfTheServicePurpose() throws {
        let register = try RegisterLoader.load().register
        let services = try #require(register.purpose("services"))
        for (field, category) in RentalProfile.categories {
            #expect(register.category(category) != nil, "\(field) → \(category)")
            #expect(services.categories.contains(category), "\(field) → \(category)")
            #expect(!services.rules(for: category).isEmpty, "\(field) → \(category)")
        }
        // And nothing the register declares as a field is missing its rule either.
        for field in RentalProfile.retiredFields {
            #expect(RentalProfile.categories[field] == nil)
        }
    }

    @Test func aRegisterMissingAPurposeTheServerKeepsDataForIsRefused() async throws {
        let yaml = try Fixtures.shippedRegisterYAML().replacingOccurrences(of: "  - id: staff-accounts\n    name: {fr: \"Gestion", with: "  - id: staff-access\n    name: {fr: \"Gestion")
        let file = try temporaryFile(yaml)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        await #expect {
            try await withDossier(on: .sqlite, registerPath: file.path) { _ in }
        } throws: { error in
            (error as? InvalidRegister)?.problems.map(\.message)
                .contains("the server keeps 'staff-accounts' data for purpose 'staff-accounts', which this register does not declare") == true
        }
    }

    @Test func capabilitiesAreReadFromTheRouteTable() async throws {
        try await withDossier(on: .sqlite) { app in
            #expect(app.capabilities.contains(.profileRectification))
            #expect(app.capabilities.contains(.connectionLog))
            #expect(app.capabilities.contains(.policyPage))
            #expect(app.capabilities.contains(.accountDeletion))
            #expect(app.capabilities.contains(.postMortemDirectives))
            #expect(app.capabilities.contains(.rightsRequests))
            #expect(app.capabilities.contains(.shareLinks))
            // A route taken away takes its capability with it.
            #expect(BuildCapabilities.provided(by: Routes()).isDisjoint(with: [.profileRectification, .policyPage]))
        }
        #expect(try await BuildCapabilities.ofThisBuild() == Set(Capability.allCases.filter { capability in
            switch capability.implementation {
            case .route: [.policyPage, .profileRectification, .connectionLog, .shareLinks, .accessReport, .dataExport, .accountDeletion, .restriction, .consentLedger, .objection,
                                 .postMortemDirectives, .rightsRequests].contains(capability)
            case .component: BuildCapabilities.components.contains(capability)
            case .always: true
            }
        }))
    }

    @Test(arguments: Language.allCases)
    func thePolicyPageLinksOnlyPagesThatExist(language: Language) async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.testing().test(.GET, "privacy?lang=\(language.rawValue)") { res in
                let page = unescapeHTML(res.body.string)
                let erasure = try #require(rightItem("erasure", in: page))
                #expect(erasure.contains("<a href=\"/account\">"))
                // Each way this build has links its page (a way it lacks is not offered: versions test, CLI test);
                // writing to the DPO stays.
                let postMortem = try #require(rightItem("post-mortem", in: page))
                #expect(postMortem.contains(language == .fr ? "par écrit à notre délégué" : "by writing to our DPO"))
                #expect(postMortem.contains("<a href=\"/account\">"))
                let rectification = try #require(rightItem("rectification", in: page))
                #expect(rectification.contains("<a href=\"/file\">"))
                // Every page the policy links is one the server answers.
                for link in page.components(separatedBy: "<a href=\"/").dropFirst().compactMap({ $0.split(separator: "\"").first }) {
                    let path = String(link.split(separator: "?").first ?? "")
                    guard !path.isEmpty, !path.hasPrefix("api/") else { continue }
                    try await app.testing().test(.GET, path) { linked in
                        #expect(linked.status != .notFound, "/\(path)")
                    }
                }
            }
            // A test build with account deletion: the link appears, the fallback goes.
            app.capabilities.insert(.accountDeletion)
            try await app.testing().test(.GET, "privacy?lang=\(language.rawValue)") { res in
                let page = unescapeHTML(res.body.string)
                let erasure = try #require(rightItem("erasure", in: page))
                #expect(erasure.contains("<a href=\"/account\">"))
                #expect(!erasure.contains("dpo@dossier.example"))
            }
        }
    }

    @Test func theGuarantorNoticeCannotBeTurnedIntoAMailCannon() async throws {
        try await withDossier(on: .sqlite) { app in
            // Not from an account whose address was never confirmed.
            try await app.signUp(email: "eve@example.org", firstName: "Eve", lastName: "Pay at https://evil.example")
            let eve = try await app.signIn(email: "eve@example.org")
            try await app.testing().test(.POST, "api/v1/me/guarantors", headers: ["Authorization": "Bearer \(eve)"], beforeRequest: { req in
                try req.content.encode(["kind": "guarantor", "name": "Target", "email": "target@example.org"])
            }, afterResponse: { res in #expect(res.status == .forbidden) })
            #expect(try await app.outbox().filter { $0.recipient == "target@example.org" }.isEmpty)
            #expect(try await Guarantor.query(on: app.db).count() == 0)
            // Confirmed: one notice per address a day, three a day in all, and no link of hers in it.
            let account = try #require(try await Account.query(on: app.db).filter(\.$emailKey == "eve@example.org").first())
            try await app.verifyAddress(of: account)
            let auth: HTTPHeaders = ["Authorization": "Bearer \(eve)"]
            func name(_ address: String) async throws -> (HTTPStatus, UUID?) {
                var result: (HTTPStatus, UUID?) = (.ok, nil)
                try await app.testing().test(.POST, "api/v1/me/guarantors", headers: auth, beforeRequest: { req in
                    try req.content.encode(["kind": "guarantor", "name": "Target", "email": address])
                }, afterResponse: { res in
                    result = (res.status, try? res.content.decode(RentalFileController.GuarantorBody.self).id)
                })
                return result
            }
            func remove(_ id: UUID?) async throws {
                try await app.testing().test(.DELETE, "api/v1/me/guarantors/\(try #require(id))", headers: auth) { res in #expect(res.status == .noContent) }
            }
            let first = try await name("target@example.org")
            #expect(first.0 == .created)
            let notice = try #require(try await app.outboxTexts(to: "target@example.org").first)
            #expect(!notice.contains("evil"))
            #expect(!notice.contains("The name they gave"))
            try await remove(first.1)
            // Removing the guarantor took the notice (and its address) out of the outbox.
            #expect(try await app.outbox().filter { $0.recipient == "target@example.org" }.isEmpty)
            let again = try await name("target@example.org")
            #expect(again.0 == .created)
            #expect(try await app.outbox().filter { $0.recipient == "target@example.org" }.isEmpty, "told once a day")
            try await remove(again.1)
            for address in ["b@example.org", "c@example.org"] {
                let named = try await name(address)
                #expect(named.0 == .created)
                try await remove(named.1)
            }
            #expect(try await name("d@example.org").0 == .tooManyRequests)
            #expect(try await app.outbox().filter { $0.recipient == "d@example.org" }.isEmpty)
        }
        #expect(GuarantorNotice.displayName("Jeanne", "D'Arc-Lefèvre") == "Jeanne D'Arc-Lefèvre")
        #expect(GuarantorNotice.displayName("Eve", "Pay at https://evil.example") == nil)
    }

    @Test(arguments: Language.allCases)
    func thePolicyPageCarriesTheNoticesOfArticles13And14(language: Language) async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.testing().test(.GET, "privacy?lang=\(language.rawValue)") { res in
                let page = unescapeHTML(res.body.string)
                let expected = language == .fr
                    ? ["id=\"automated-decisions\"", "Décisions automatisées et profilage", "id=\"direct-marketing\"", "ce droit est absolu",
                       "id=\"minors\"", "id=\"indirect\"", "le locataire qui vous désigne comme garant", "une copie des garanties peut être obtenue",
                       "responsable de traitement distinct"]
                    : ["id=\"automated-decisions\"", "Automated decisions and profiling", "id=\"direct-marketing\"", "this right is absolute",
                       "id=\"minors\"", "id=\"indirect\"", "the tenant who names you as guarantor", "a copy of the safeguards can be obtained",
                       "a separate controller"]
                #expect(expected.filter { !page.contains($0) } == [])
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func aGuarantorNamedWithAnAddressIsToldAtOnce(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp(verified: true)
            let token = try await app.signIn()
            let auth: HTTPHeaders = ["Authorization": "Bearer \(token)"]
            try await app.testing().test(.POST, "api/v1/me/guarantors", headers: auth, beforeRequest: { req in
                try req.content.encode(["kind": "guarantor", "name": "Paul Doe", "email": "paul@example.org"])
            }, afterResponse: { res in #expect(res.status == .created) })
            try await app.testing().test(.POST, "api/v1/me/guarantors", headers: auth, beforeRequest: { req in
                try req.content.encode(["kind": "organisation", "name": "Visale"])
            }, afterResponse: { res in #expect(res.status == .created) })
            let notices = try await app.outboxTexts(to: "paul@example.org")
            #expect(notices.count == 1)
            let notice = try #require(notices.first)
            #expect(notice.contains("Subject: You were named as guarantor in a rental file"))
            #expect(notice.contains("\"Jane Doe\""))
            #expect(notice.contains("http://127.0.0.1:8080/privacy?lang=en"))
            #expect(notice.contains("dpo@dossier.example"))
            #expect(notice.contains("Source: the tenant who named you."))
            // Sealed under the guarantor's key, not the tenant's: erasing the guarantor erases it.
            let message = try #require(try await app.outbox().first { $0.recipient == "paul@example.org" })
            let guarantor = try #require(try await Guarantor.query(on: app.db).filter(\.$kind == .guarantor).first())
            #expect(message.subject == guarantor.subject)
            // Only the guarantor with an address is written to; the audit says it was.
            #expect(try await app.outbox().filter { $0.recipient != "jane.doe@example.org" }.count == 1)
            let actions = try await AuditRecord.query(on: app.db).all().map(\.action)
            #expect(actions.filter { $0 == "guarantor.notified" }.count == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func fieldsNoPurposeJustifiesAreRemovedFromStoredProfiles(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let id = try await app.signUp(verified: true)
            let account = try #require(try await Account.find(id, on: app.db))
            // A profile as an earlier version stored it, nationality and identity number included.
            let old: [String: JSONValue] = ["phone": "0601020304", "nationality": "FR", "identityNumber": "X123", "monthlyIncome": 2400]
            let sealed = try await app.dossier.vault.sealJSON(old, for: account.subject, context: "profile")
            try await Profile(accountID: id, sealed: sealed, now: Date()).create(on: app.db)
            try await M008RetireProfileFields(vault: app.dossier.vault).prepare(on: app.db)
            let stored = try #require(try await Profile.query(on: app.db).filter(\.$account.$id == id).first())
            let fields = try await app.dossier.vault.openJSON([String: JSONValue].self, stored.sealed, for: account.subject, context: "profile")
            #expect(fields["nationality"] == nil)
            #expect(fields["identityNumber"] == nil)
            #expect(fields["phone"] == "0601020304")
            #expect(fields["monthlyIncome"] == 2400)
            // The API refuses them now, and stores nothing.
            let token = try await app.signIn()
            try await app.testing().test(.PATCH, "api/v1/me/profile", headers: ["Authorization": "Bearer \(token)"], beforeRequest: { req in
                try req.content.encode(["nationality": "FR"])
            }, afterResponse: { res in
                #expect(res.status == .unprocessableEntity)
                #expect(res.body.string.contains("nationality"))
            })
        }
    }

    @Test(arguments: TestDatabase.all)
    func aBuildThatChangesThePoliciesWordingNeedsANewVersion(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let loaded = app.dossier.register
            let published = try #require(try await PolicyVersion.query(on: app.db).first())
            #expect(published.capabilities == app.capabilities.intersection(loaded.register.referencedCapabilities))
            // A capability the register never mentions changes nothing it says.
            let unmentioned = try #require(app.capabilities.first { !loaded.register.referencedCapabilities.contains($0) })
            try await PolicyPublisher.publish(loaded, capabilities: app.capabilities.subtracting([unmentioned]), on: app.db, production: true)
            // The same register on a build without post-mortem directives: that right would lose its page.
            let poorer = app.capabilities.subtracting([.postMortemDirectives])
            await #expect {
                try await PolicyPublisher.publish(loaded, capabilities: poorer, on: app.db, production: true)
            } throws: { error in
                String(describing: error).contains("this build changes what version 1.3.0 of the policy promises (removes post-mortem-directives)")
            }
            // The archived version is rendered as published, whatever this build has.
            app.capabilities = poorer
            try await app.testing().test(.GET, "privacy/versions/1.3.0?lang=en") { res in
                let page = unescapeHTML(res.body.string)
                let postMortem = try #require(rightItem("post-mortem", in: page))
                #expect(postMortem.contains("<a href=\"/account\">"))
            }
            // A development instance says so and adopts the new wording.
            try await PolicyPublisher.publish(loaded, capabilities: poorer, on: app.db, production: false)
            #expect(try await PolicyVersion.query(on: app.db).first()?.capabilities == poorer.intersection(loaded.register.referencedCapabilities))
        }
    }

    @Test func theSessionCookieLivesAsTheRegisterSays() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.signUp(verified: true)
            // The sign-in form's CSRF cookie and token, then the sign-in.
            var csrf = ""
            var cookie = ""
            try await app.testing().test(.GET, "signin") { res in
                let set = try #require(res.headers.setCookie?[WebCookie.csrf])
                csrf = set.string
                cookie = "\(WebCookie.csrf)=\(set.string)"
            }
            try await app.testing().test(.POST, "signin", headers: ["Cookie": cookie], beforeRequest: { req in
                try req.content.encode(["email": "jane.doe@example.org", "password": "correct horse battery staple", "csrf": csrf], as: .urlEncodedForm)
            }, afterResponse: { res in
                let session = try #require(res.headers.setCookie?[WebCookie.session])
                // "0 days" in the register: a cookie of the browser's session, no Max-Age.
                #expect(app.dossier.register.register.cookies.first { $0.name == WebCookie.session }?.duration.isZero == true)
                #expect(session.maxAge == nil)
                #expect(session.expires == nil)
            })
        }
        var register = try RegisterLoader.load().register
        register.cookies = register.cookies.map { cookie in
            var cookie = cookie
            if cookie.name == WebCookie.session { cookie.duration = RetentionPeriod(1, .day) }
            return cookie
        }
        #expect(WebCookie.maxAge(of: WebCookie.session, in: register, now: testEpoch) == 86_400)
    }

    @Test func theAccountPageStatesTheLogsRetentionFromTheRegister() async throws {
        try await withDossier(on: .sqlite) { app in
            let register = app.dossier.register.register
            #expect(ConnectionEvent.retention(in: register, language: .en) == "6 months from collection; then deleted.")
            #expect(ConnectionEvent.retention(in: register, language: .fr) == "6 mois à compter de la collecte ; puis supprimées.")
        }
    }

    @Test func productionRefusesTheExampleRegister() throws {
        let register = try RegisterLoader.load().register
        var configuration = DossierConfiguration(dataDirectory: URL(fileURLWithPath: "/nonexistent"))
        configuration.baseURL = "https://dossier.bailleur-ami.fr"
        let problems = DossierApp.productionRegisterProblems(register, configuration)
        #expect(problems.contains { $0.contains("controller.registration 'RCS Paris 000 000 000' is the example's") })
        #expect(problems.contains { $0.hasPrefix("processors[") && $0.contains("'Newsletter sending provider' is a placeholder") })
        #expect(problems.contains { $0.hasPrefix("controller.name 'Dossier Example SAS'") })
        // A corporate website elsewhere than the service is not refused (a warning says it).
        #expect(!problems.contains { $0.contains("controller.website") && $0.contains("DOSSIER_BASE_URL") })
        let own = register.withOwnIdentity()
        #expect(DossierApp.productionRegisterProblems(own, configuration) == [])
        // Documents kept in Frankfurt while the policy says France (checked where an object store keeps them).
        configuration.awsRegion = "eu-central-1"
        #expect(DossierApp.productionRegisterProblems(own, configuration) == [])
        configuration.blobsURL = "s3://dossier-documents/prod"
        #expect(DossierApp.productionRegisterProblems(own, configuration) == [
            "hosting.country 'FR' is not where AWS_REGION eu-central-1 keeps the data (DE): write where your data is hosted",
        ])
        configuration.awsRegion = "eu-west-3"
        #expect(DossierApp.productionRegisterProblems(own, configuration) == [])
    }

    @Test func productionRefusesToStartWithTheExampleRegisterBeforeTouchingTheDisk() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-prod-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = DossierConfiguration(dataDirectory: directory)
        configuration.isDevelopmentInstance = false
        configuration.masterKey = Data(repeating: 7, count: 32).base64EncodedString()
        configuration.smtpURL = "smtp://127.0.0.1:2525"
        let app = try await Application.make(.testing)
        await #expect {
            try await DossierApp.configure(app, configuration)
        } throws: { error in
            let text = String(describing: error)
            return text.contains("refusing to run as a production instance with a register that is not yours")
                && text.contains("dpo.email 'dpo@dossier.example' is an example address") && text.contains("DOSSIER_REGISTER")
        }
        try await app.asyncShutdown()
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }
}
