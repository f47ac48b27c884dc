@testable import DossierServer
import DossierCore
import Fluent
import Foundation
import SQLKit
import Testing
import VaporTesting

/// One test per finding of the security review (issue 8) that touches the server; the findings
/// about uploaded files (3, 5's parser, 14) are in DossierCoreTests/FileInspectorTests. Each
/// reproduces the attack.
@Suite("Security review findings")
struct SecurityReviewTests {
    static let password = "correct horse battery staple"

    func bearer(_ token: String) -> HTTPHeaders { ["Authorization": "Bearer \(token)"] }

    // MARK: 1. Pre-registered account hijack

    @Test(arguments: TestDatabase.all)
    func finding1_unverifiedAccountCanNeitherApplyNorUpload(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            // The attacker signs up with the victim's address, which they cannot confirm.
            try await app.signUp(email: "victim@example.org")
            let token = try await app.signIn(email: "victim@example.org")
            try await app.testing().test(.POST, "api/v1/me/application", headers: bearer(token), beforeRequest: { req in
                try req.content.encode(["kind": "couple"])
            }, afterResponse: { res in #expect(res.status == .forbidden) })
            try await app.testing().test(.POST, "api/v1/me/application/join", headers: bearer(token), beforeRequest: { req in
                try req.content.encode(["code": "whatever"])
            }, afterResponse: { res in #expect(res.status == .forbidden) })
            try await app.upload(token: token, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                #expect(res.status == .forbidden)
            }
            #expect(try await ApplicationMember.query(on: app.db).count() == 0)
            #expect(try await Document.query(on: app.db).count() == 0)
        }
    }

    @Test(arguments: TestDatabase.all)
    func finding1_joiningNeedsTheMembersApproval(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let aliceID = try await app.signUp(email: "alice@example.org", verified: true)
            let alice = try await app.signIn(email: "alice@example.org")
            let malloryID = try await app.signUp(email: "mallory@example.org", verified: true)
            let mallory = try await app.signIn(email: "mallory@example.org")
            var code = ""
            try await app.testing().test(.POST, "api/v1/me/application", headers: bearer(alice), beforeRequest: { req in
                try req.content.encode(["kind": "couple"])
            }, afterResponse: { res in
                #expect(res.status == .created)
                code = try #require(try res.content.decode(RentalFileController.ApplicationBody.self).joinCode)
            })
            var documentID: UUID?
            try await app.upload(token: alice, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                #expect(res.status == .created)
                documentID = try res.content.decode(RentalFileController.DocumentBody.self).id
            }
            let document = try #require(documentID)
            // Mallory has the code, but joining only asks: she sees nothing yet.
            try await app.testing().test(.POST, "api/v1/me/application/join", headers: bearer(mallory), beforeRequest: { req in
                try req.content.encode(["code": code])
            }, afterResponse: { res in
                #expect(res.status == .ok)
                let body = try res.content.decode(RentalFileController.ApplicationBody.self)
                #expect(body.status == .pending)
                #expect(body.members.count == 1)
            })
            try await app.testing().test(.GET, "api/v1/me/application/members/\(aliceID)/documents/\(document)/content", headers: bearer(mallory)) { res in
                #expect(res.status == .notFound)
            }
            try await app.testing().test(.GET, "api/v1/me/application", headers: bearer(mallory)) { res in
                let body = try res.content.decode(RentalFileController.ApplicationBody.self)
                #expect(body.status == .pending)
                #expect(body.members.allSatisfy { $0.documents == nil })
            }
            // Alice was told, and sees the request.
            #expect(try await app.outboxTexts(to: "alice@example.org").contains { $0.contains("Subject: A request to join your application") })
            // Mallory cannot approve herself.
            try await app.testing().test(.POST, "api/v1/me/application/members/\(malloryID)/approve", headers: bearer(mallory)) { res in
                #expect(res.status == .notFound)
            }
            // Alice declines: Mallory is out.
            try await app.testing().test(.DELETE, "api/v1/me/application/members/\(malloryID)", headers: bearer(alice)) { res in
                #expect(res.status == .noContent)
            }
            try await app.testing().test(.GET, "api/v1/me/application", headers: bearer(mallory)) { res in
                #expect(res.status == .notFound)
            }
            // Asked again and approved this time, the partner sees the file.
            try await app.testing().test(.POST, "api/v1/me/application/join", headers: bearer(mallory), beforeRequest: { req in
                try req.content.encode(["code": code])
            }, afterResponse: { res in #expect(res.status == .ok) })
            try await app.testing().test(.POST, "api/v1/me/application/members/\(malloryID)/approve", headers: bearer(alice)) { res in
                #expect(res.status == .ok)
            }
            try await app.testing().test(.GET, "api/v1/me/application/members/\(aliceID)/documents/\(document)/content", headers: bearer(mallory)) { res in
                #expect(res.status == .ok)
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func finding1_resetClaimingANeverVerifiedAccountDiscardsWhatWasBuiltOnIt(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            // As the old code allowed: an unverified account already in a couple with the attacker.
            try await app.signUp(email: "attacker@example.org", verified: true)
            let attacker = try await app.signIn(email: "attacker@example.org")
            var code = ""
            try await app.testing().test(.POST, "api/v1/me/application", headers: bearer(attacker), beforeRequest: { req in
                try req.content.encode(["kind": "couple"])
            }, afterResponse: { res in code = try #require(try res.content.decode(RentalFileController.ApplicationBody.self).joinCode) })
            let victimID = try await app.signUp(email: "victim@example.org")
            let application = try #require(try await RentalApplication.query(on: app.db).filter(\.$joinCodeHash == SecretToken.hash(code)).first())
            try await ApplicationMember(applicationID: try application.requireID(), accountID: victimID, now: Date(), approved: true).create(on: app.db)
            let victimBefore = try #require(try await Account.find(victimID, on: app.db)).subject
            try await app.testing().test(.PATCH, "api/v1/me/profile", headers: bearer(try await app.signIn(email: "victim@example.org")), beforeRequest: { req in
                try req.content.encode(["city": "Lyon"])
            }, afterResponse: { res in #expect(res.status == .ok) })

            // The real owner claims the address with a reset link.
            try await app.testing().test(.POST, "api/v1/password/forgot", beforeRequest: { req in
                try req.content.encode(["email": "victim@example.org"])
            }, afterResponse: { res in #expect(res.status == .accepted) })
            let reset = try #require(try await app.outboxTexts(to: "victim@example.org").compactMap { link(in: $0, startingWith: "http://127.0.0.1:8080/password/reset?token=") }.last)
            try await app.testing().test(.POST, "api/v1/password/reset", beforeRequest: { req in
                try req.content.encode(["token": try #require(token(of: reset)), "password": "the owner's own passphrase"])
            }, afterResponse: { res in #expect(res.status == .noContent) })

            #expect(try await ApplicationMember.query(on: app.db).filter(\.$account.$id == victimID).count() == 0)
            #expect(try await Profile.query(on: app.db).filter(\.$account.$id == victimID).count() == 0)
            let victim = try #require(try await Account.find(victimID, on: app.db))
            #expect(victim.emailVerifiedAt != nil)
            #expect(victim.subject != victimBefore)
            let shredded = try #require(try await SubjectKey.query(on: app.db(.keys)).filter(\.$subject == victimBefore).first())
            #expect(shredded.wrappedKey == nil)
        }
    }

    @Test(arguments: TestDatabase.all)
    func finding1_aMemberCanLeaveAndStaffFileNothingForAnUnverifiedAccount(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp(email: "alice@example.org", verified: true)
            let alice = try await app.signIn(email: "alice@example.org")
            var code = ""
            try await app.testing().test(.POST, "api/v1/me/application", headers: bearer(alice), beforeRequest: { req in
                try req.content.encode(["kind": "couple"])
            }, afterResponse: { res in code = try #require(try res.content.decode(RentalFileController.ApplicationBody.self).joinCode) })
            let bobID = try await app.signUp(email: "bob@example.org", verified: true)
            let bob = try await app.signIn(email: "bob@example.org")
            try await app.testing().test(.POST, "api/v1/me/application/join", headers: bearer(bob), beforeRequest: { req in
                try req.content.encode(["code": code])
            }, afterResponse: { res in #expect(res.status == .ok) })
            // Those who decide see the address of who asks.
            try await app.testing().test(.GET, "api/v1/me/application", headers: bearer(alice)) { res in
                let body = try res.content.decode(RentalFileController.ApplicationBody.self)
                #expect(body.members.first { $0.account == bobID }?.email == "bob@example.org")
            }
            try await app.testing().test(.POST, "api/v1/me/application/members/\(bobID)/approve", headers: bearer(alice)) { res in
                #expect(res.status == .ok)
            }
            // Alice leaves: Bob sees her file no more, and is alone.
            try await app.testing().test(.DELETE, "api/v1/me/application", headers: bearer(alice)) { res in
                #expect(res.status == .noContent)
            }
            try await app.testing().test(.GET, "api/v1/me/application", headers: bearer(bob)) { res in
                let body = try res.content.decode(RentalFileController.ApplicationBody.self)
                #expect(body.members.map(\.account) == [bobID])
            }
            try await app.testing().test(.DELETE, "api/v1/me/application", headers: bearer(alice)) { res in
                #expect(res.status == .notFound)
            }
            // Staff cannot file a posted document into an account whose address nobody confirmed.
            let unverified = try await app.signUp(email: "victim@example.org")
            let staff = try await StaffAccounts.create(on: app, email: try #require(EmailAddress("op@example.org")), password: "a long staff passphrase",
                                                       firstName: "O", lastName: "P", role: .operator_, language: .en)
            _ = staff
            let operatorToken = try await app.signIn(email: "op@example.org", password: "a long staff passphrase")
            try await app.upload(token: operatorToken, type: "tax-notice", files: [("a.pdf", "application/pdf", try upload("payslip.pdf"))],
                                 path: "api/v1/staff/tenants/\(unverified)/documents", fields: ["source": "post", "receivedAt": "2026-11-02"]) { res in
                #expect(res.status == .conflict)
            }
        }
    }

    @Test func finding1_theFilePageShowsTheHousehold() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.signUp(email: "alice@example.org", verified: true)
            let alice = try await app.signIn(email: "alice@example.org")
            try await app.testing().test(.POST, "api/v1/me/application", headers: bearer(alice), beforeRequest: { req in
                try req.content.encode(["kind": "couple"])
            }, afterResponse: { res in #expect(res.status == .created) })
            let browser = try await app.browserSignedIn(email: "alice@example.org").browser
            try await app.testing().test(.GET, "file?lang=en", headers: browser.cookieHeader) { res in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("id=\"household-members\""))
                #expect(res.body.string.contains("Jane Doe"))
            }
        }
    }

    // MARK: 2. CSRF bypass by multipart

    @Test func finding2_everyWebPostChecksTheTokenInEveryEncoding() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.signUp(verified: true)
            let (browser, csrf, _) = try await app.browserSignedIn()
            let webPosts = app.routes.all.filter { $0.method == .POST && $0.path.first?.description != "api" }
            #expect(webPosts.count >= 10)
            let before = try await AuditRecord.query(on: app.db).count()
            for route in webPosts {
                let path = route.path.map { component -> String in
                    if case .parameter = component { return UUID().uuidString }
                    return component.description
                }.joined(separator: "/")
                // URL-encoded without the token, and multipart with the token only in the body.
                var urlencoded = browser.cookieHeader
                urlencoded.contentType = .urlEncodedForm
                try await app.testing().test(.POST, path, headers: urlencoded,
                                             body: .init(string: "email=jane.doe%40example.org&password=x&decision=validated")) { res in
                    #expect(res.status == .forbidden, "\(path) urlencoded")
                }
                var form = MultipartBody()
                form.field("csrf", csrf)
                form.field("email", "jane.doe@example.org")
                form.field("password", Self.password)
                var multipart = browser.cookieHeader
                multipart.replaceOrAdd(name: .contentType, value: form.headers.first(name: .contentType)!)
                try await app.testing().test(.POST, path, headers: multipart, body: form.body) { res in
                    #expect(res.status == .forbidden, "\(path) multipart")
                    #expect(!res.headers[.setCookie].contains { $0.hasPrefix("dossier_session=") })
                }
            }
            // Nothing happened: no sign-in, sign-out, upload or change was recorded.
            #expect(try await AuditRecord.query(on: app.db).count() == before)
        }
    }

    // MARK: 4. One request crashed the process

    @Test(arguments: TestDatabase.all)
    func finding4_extremeNumbersAreRefusedNotFatal(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp()
            let token = try await app.signIn()
            for literal in ["1e300", "-1e300", "1.7976931348623157e308", "9223372036854775808", "-9223372036854775809", "1e19", "5e-324"] {
                for field in ["surface", "rent", "monthlyIncome", "savings", "maxBudget"] {
                    var headers = bearer(token)
                    headers.contentType = .json
                    try await app.testing().test(.PATCH, "api/v1/me/profile", headers: headers, body: .init(string: "{\"\(field)\": \(literal)}")) { res in
                        #expect(res.status == .unprocessableEntity || res.status == .badRequest, "\(field)=\(literal): \(res.status)")
                    }
                }
            }
            #expect(try await Profile.query(on: app.db).count() == 0)
        }
    }

    @Test func finding4_patchRulesNeverTrapOnAnyDouble() {
        for value in [Double.infinity, -.infinity, .nan, 1e300, -1e300, .greatestFiniteMagnitude, 9.3e18, -9.3e18, 0.5] {
            let result = ProfilePatch.apply(["surface": .number(value), "savings": .number(value)], to: RentalProfile(), language: .en, today: testEpoch)
            #expect(throws: FieldProblems.self) { try result.get() }
        }
    }

    // MARK: 5. Inspection off the event loop, with a limit

    @Test func finding5_inspectionsBeyondTheLimitAreRefusedNotQueuedForever() async throws {
        let pool = InspectionPool(maximumConcurrent: 1, maximumWaiting: 1) { $0 == .fr ? "occupé" : "busy" }
        let gate = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let first = Task { try await pool.run(in: .en) { started.signal(); gate.wait(); return 1 } }
        started.wait()
        let second = Task { try await pool.run(in: .en) { 2 } }
        // Once the second holds the waiting slot, a third finds none and is told so at once, in its language.
        while pool.occupied < 2 { await Task.yield() }
        for (language, text) in [(Language.fr, "occupé"), (.en, "busy")] {
            do {
                _ = try await pool.run(in: language) { 3 }
                Issue.record("a third inspection was accepted")
            } catch let busy as UploadGate.Busy {
                #expect(busy.status == .serviceUnavailable)
                #expect(busy.reason == text)
            }
        }
        gate.signal()
        #expect(try await first.value == 1)
        #expect(try await second.value == 2)
        await pool.shutdown()
    }

    // MARK: 6. The master key beside the data

    @Test func finding6_aKeyFileInsideTheDataDirectoryIsRefusedOnAPublicAddress() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-key-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = DossierConfiguration(dataDirectory: directory.appendingPathComponent("data"))
        configuration.isDevelopmentInstance = false
        configuration.smtpURL = "smtp://relay.example:587"
        #expect(configuration.productionProblems.count == 1)
        #expect(configuration.productionProblems[0].contains("inside the data directory"))
        let app = try await Application.make(.testing)
        await #expect(throws: ConfigurationError.self) { try await DossierApp.configure(app, configuration) }
        try await app.asyncShutdown()
        configuration.masterKeyFile = directory.appendingPathComponent("keys/master.key").path
        #expect(configuration.productionProblems.isEmpty)
        configuration.masterKeyFile = nil
        configuration.masterKey = Data(repeating: 7, count: 32).base64EncodedString()
        #expect(configuration.productionProblems.isEmpty)
        configuration.masterKey = nil
        configuration.allowsKeyInDataDirectory = true
        #expect(configuration.productionProblems.isEmpty)
        // Production also needs a mail relay: no tokens written to files.
        configuration.smtpURL = nil
        #expect(configuration.productionProblems.contains { $0.contains("SMTP_URL") })
        // On loopback (the development instance of the README's first command) it is accepted.
        configuration.allowsKeyInDataDirectory = false
        configuration.isDevelopmentInstance = true
        #expect(configuration.productionProblems.isEmpty)
    }

    @Test func finding6_behindAProxyOrUnderHTTPSIsProductionEvenOnLoopback() {
        let base = ["DOSSIER_DATA_DIR": "/tmp/x"]
        #expect(DossierConfiguration.fromEnvironment(base).isDevelopmentInstance)
        #expect(!DossierConfiguration.fromEnvironment(base.merging(["DOSSIER_BASE_URL": "https://dossier.example"]) { $1 }).isDevelopmentInstance)
        #expect(!DossierConfiguration.fromEnvironment(base.merging(["DOSSIER_TRUSTED_PROXIES": "127.0.0.1"]) { $1 }).isDevelopmentInstance)
        #expect(!DossierConfiguration.fromEnvironment(base.merging(["DOSSIER_ENV": "production"]) { $1 }).isDevelopmentInstance)
    }

    // MARK: 7. A missing key silently replaced

    @Test func finding7_aMissingKeyFileIsNotReplacedWhenTheDatabaseHoldsData() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-canary-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = DossierConfiguration(dataDirectory: directory)
        configuration.passwordCost = 4
        let keyFile = directory.appendingPathComponent("master.key")
        try await withFileApp(configuration) { app in
            try await app.signUp()
        }
        #expect(FileManager.default.fileExists(atPath: keyFile.path))
        try FileManager.default.removeItem(at: keyFile)
        await #expect(throws: ConfigurationError.self) { try await withFileApp(configuration) { _ in } }
        #expect(!FileManager.default.fileExists(atPath: keyFile.path), "no new key is written over a database sealed with another")
        configuration.masterKey = Data(repeating: 1, count: 32).base64EncodedString()
        await #expect(throws: ConfigurationError.self) { try await withFileApp(configuration) { _ in } }
    }

    @Test(arguments: TestDatabase.all)
    func finding7_anotherKeyIsRefusedOnTheSameDatabase(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp()
            var other = app.dossier.configuration
            // In-memory SQLite is private to its application: the file case is tested above.
            guard !other.inMemoryDatabase else { return }
            other.masterKey = Data(repeating: 9, count: 32).base64EncodedString()
            let second = try await Application.make(.testing)
            await #expect(throws: ConfigurationError.self) {
                try await DossierApp.configure(second, other)
                try await DossierApp.migrate(second)
            }
            try await second.asyncShutdown()
        }
    }

    // MARK: 8. The body read before the caller is known

    @Test func finding8_anAnonymousUploadIsRefusedBeforeItsBodyIsRead() async throws {
        try await withDossier(on: .sqlite) { app in
            // More than any upload may be: the old route collected it all, then said 413.
            var huge = MultipartBody()
            huge.file(fileName: "big.pdf", type: "application/pdf", bytes: Data(repeating: 0x41, count: RentalFileService.maximumBody + 1))
            try await app.testing().test(.POST, "api/v1/me/documents", headers: huge.headers, body: huge.body) { res in
                #expect(res.status == .unauthorized)
            }
            try await app.testing().test(.POST, "file/documents", headers: huge.headers, body: huge.body) { res in
                #expect(res.status == .forbidden)
            }
        }
    }

    @Test func finding8_oneUploadAtATimePerAccountAndAFewInAll() async throws {
        let gate = UploadGate(maximumConcurrent: 2)
        let (a, b, c) = (UUID(), UUID(), UUID())
        try await gate.enter(a, language: .en)
        await #expect(throws: UploadGate.Busy.self) { try await gate.enter(a, language: .en) }
        try await gate.enter(b, language: .en)
        do {
            try await gate.enter(c, language: .en)
            Issue.record("a third upload was let in")
        } catch let busy as UploadGate.Busy {
            #expect(busy.status == .serviceUnavailable)
        }
        await gate.leave(a)
        try await gate.enter(c, language: .en)
    }

    @Test func finding8_aTenantsQuotaIsEnforced() async throws {
        try await withDossier(on: .sqlite) { app in
            let id = try await app.signUp(verified: true)
            let token = try await app.signIn()
            for _ in 0..<RentalFileService.maximumDocuments {
                try await Document(accountID: id, guarantorID: nil, subject: "x", type: "tax-notice", category: "tax", source: .upload,
                                   receivedAt: nil, filedBy: nil, now: Date()).create(on: app.db)
            }
            try await app.upload(token: token, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                #expect(res.status == .payloadTooLarge)
            }
        }
    }

    // MARK: 9. Account enumeration

    @Test(arguments: TestDatabase.all)
    func finding9_signUpAnswersTheSameForAnExistingAddress(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            var answers: [String] = []
            for email in ["jane.doe@example.org", "JANE.DOE@example.org", "someone.new@example.org"] {
                try await app.testing().test(.POST, "api/v1/accounts", beforeRequest: { req in
                    try req.content.encode(["email": email, "password": "another long passphrase", "firstName": "J", "lastName": "D", "language": "en"])
                }, afterResponse: { res in
                    #expect(res.status == .created)
                    let body = try res.content.decode(AccountsController.SignUpAccepted.self)
                    answers.append(body.message)
                })
            }
            #expect(Set(answers).count == 1)
            #expect(try await Account.query(on: app.db).count() == 2)
            // The owner is told someone tried.
            let texts = try await app.outboxTexts(to: "jane.doe@example.org")
            #expect(texts.contains { $0.contains("Subject: Someone tried to sign up with your address") })
        }
    }

    @Test func finding9_theDecoyHashCostsWhatARealOneCosts() async throws {
        try await withDossier(on: .sqlite, configure: { $0.passwordCost = 6 }) { app in
            #expect(app.dossier.decoyHash.hasPrefix("$2b$06$"))
        }
    }

    // MARK: 10. Lock-outs

    @Test func finding10_aStrangersFailuresDoNotLockTheOwnerOut() async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: .sqlite, clock: clock, configure: { $0.trustedProxies = ["127.0.0.1", "::1"] }) { app in
            try await app.signUp()
            let tester = try app.testing(method: .running(port: 0))
            for _ in 0..<8 {
                try await tester.test(.POST, "api/v1/sessions", headers: ["X-Forwarded-For": "203.0.113.9"], beforeRequest: { req in
                    try req.content.encode(["email": "jane.doe@example.org", "password": "a wrong password"])
                }, afterResponse: { res in #expect(res.status == .unauthorized || res.status == .tooManyRequests) })
            }
            // The attacker's address waits…
            try await tester.test(.POST, "api/v1/sessions", headers: ["X-Forwarded-For": "203.0.113.9"], beforeRequest: { req in
                try req.content.encode(["email": "jane.doe@example.org", "password": Self.password])
            }, afterResponse: { res in #expect(res.status == .tooManyRequests) })
            // …the owner, from home, signs in.
            try await tester.test(.POST, "api/v1/sessions", headers: ["X-Forwarded-For": "198.51.100.7"], beforeRequest: { req in
                try req.content.encode(["email": "jane.doe@example.org", "password": Self.password])
            }, afterResponse: { res in #expect(res.status == .created) })
            let addresses = Set(try await ConnectionEvent.query(on: app.db).all().map(\.ipAddress))
            #expect(addresses == ["203.0.113.9", "198.51.100.7"])
        }
    }

    @Test func finding10_forwardedForIsBelievedOnlyFromConfiguredProxies() throws {
        let none = try ClientAddressResolver(trustedProxies: [])
        #expect(none.client(peer: "10.0.0.5", forwardedFor: ["203.0.113.9"]) == "10.0.0.5")
        let proxies = try ClientAddressResolver(trustedProxies: ["10.0.0.0/8", "2001:db8::/32"])
        #expect(proxies.client(peer: "10.0.0.5", forwardedFor: ["203.0.113.9"]) == "203.0.113.9")
        // A client's own forged entry sits left of the address the proxy saw: the proxy's wins.
        #expect(proxies.client(peer: "10.0.0.5", forwardedFor: ["1.2.3.4, 203.0.113.9"]) == "203.0.113.9")
        #expect(proxies.client(peer: "10.0.0.5", forwardedFor: ["203.0.113.9, 10.0.0.7"]) == "203.0.113.9")
        #expect(proxies.client(peer: "2001:db8::1", forwardedFor: ["198.51.100.7"]) == "198.51.100.7")
        #expect(proxies.client(peer: "192.0.2.1", forwardedFor: ["198.51.100.7"]) == "192.0.2.1")
        #expect(proxies.client(peer: "10.0.0.5", forwardedFor: ["not an address"]) == "10.0.0.5")
        #expect(throws: ConfigurationError.self) { try ClientAddressResolver(trustedProxies: ["10.0.0.0/33"]) }
        #expect(throws: ConfigurationError.self) { try ClientAddressResolver(trustedProxies: ["proxy.example"]) }
    }

    @Test func finding10_delaysGrowWithEachFailure() {
        let policy = ThrottlePolicy.perAccountAndAddress
        let now = testEpoch
        let failures = { (count: Int) in (0..<count).map { now - Double(count - $0) } }
        #expect(policy.decision(failures: failures(4), now: now) == .allowed)
        guard case let .blocked(first) = policy.decision(failures: failures(5), now: now),
              case let .blocked(second) = policy.decision(failures: failures(6), now: now),
              case let .blocked(third) = policy.decision(failures: failures(7), now: now) else {
            Issue.record("not blocked")
            return
        }
        #expect(first < second && second < third)
        #expect(third <= policy.window)
    }

    // MARK: 11. Rate limits and user text in mail

    @Test(arguments: TestDatabase.all)
    func finding11_resetRequestsAreRateLimitedPerAddress(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp()
            for attempt in 0..<4 {
                try await app.testing().test(.POST, "api/v1/password/forgot", beforeRequest: { req in
                    try req.content.encode(["email": "jane.doe@example.org"])
                }, afterResponse: { res in
                    #expect(res.status == (attempt < RateLimit.perTarget.maximum ? .accepted : .tooManyRequests))
                })
            }
            let resets = try await app.outboxTexts().filter { $0.contains("Subject: Reset your password") }
            #expect(resets.count == RateLimit.perTarget.maximum)
        }
    }

    @Test func finding11_signUpsAreRateLimitedPerClient() async throws {
        try await withDossier(on: .sqlite) { app in
            for attempt in 0...RateLimit.perClient.maximum {
                try await app.testing().test(.POST, "api/v1/accounts", beforeRequest: { req in
                    try req.content.encode(["email": "person\(attempt)@example.org", "password": Self.password, "firstName": "P", "lastName": "Q"])
                }, afterResponse: { res in
                    #expect(res.status == (attempt < RateLimit.perClient.maximum ? .created : .tooManyRequests))
                })
            }
            // No address is kept in clear for the count.
            let keys = try await ThrottleEvent.query(on: app.db).all().map(\.key)
            #expect(!keys.contains { $0.contains("@") })
        }
    }

    @Test func finding11_aNameTypedAtSignUpNeverReachesTheMail() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.signUp(email: "victim@example.org", firstName: "Urgent: call +33 1 23 45 67 89 or visit evil.example",
                                 lastName: "Phish")
            let text = try #require(try await app.outboxTexts().first)
            #expect(!text.contains("evil.example"))
            #expect(!text.contains("Phish"))
        }
    }

    // MARK: 12. Tokens kept in the outbox

    @Test(arguments: TestDatabase.all)
    func finding12_noTokenRestsInClearInTheOutbox(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp()
            let text = try #require(try await app.outboxTexts().first)
            let verifyToken = try #require(link(in: text, startingWith: "http://127.0.0.1:8080/verify-email?token=").flatMap(token(of:)))
            let stored = try #require(try await app.outbox().first)
            #expect(stored.message.isEmpty)
            let sealed = try #require(stored.sealed)
            #expect(sealed.range(of: Data(verifyToken.utf8)) == nil)
            #expect(try await app.dossier.outbox.deliverDue(on: app.db) == .init(sent: 1, retried: 0, failed: 0))
            let delivered = try #require(try await app.outbox().first)
            #expect(delivered.sealed == nil && delivered.message.isEmpty)
        }
    }

    @Test func finding12_emlFilesExpire() async throws {
        let clock = ManualClock(Date())
        try await withDossier(on: .sqlite, clock: clock) { app in
            try await app.signUp()
            try await app.dossier.outbox.deliverDue(on: app.db)
            let directory = app.dossier.configuration.outboxDirectory
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).count == 1)
            #expect(app.dossier.outbox.expireFiles() == 0)
            // The register's rule for service messages: 7 days from collection.
            #expect(app.dossier.outbox.keep == RetentionPeriod(7, .day))
            // Counted from the file's own date (the real clock's, however slow the machine was to
            // write it), not from when the test started.
            let name = try #require(try FileManager.default.contentsOfDirectory(atPath: directory.path).first)
            let written = try #require(try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.modificationDate] as? Date)
            clock.set(written)
            clock.advance(by: 7 * 24 * 3600 - 60)
            #expect(app.dossier.outbox.expireFiles() == 0)
            clock.advance(by: 120)
            #expect(app.dossier.outbox.expireFiles() == 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        }
    }

    // MARK: 13. A rewritable audit chain

    @Test(arguments: TestDatabase.all)
    func finding13_deletingTheLastEntriesIsDetected(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            for index in 0..<8 {
                try await app.dossier.audit.record(AuditEvent(action: "test.event", details: ["n": "\(index)"]), by: "test", on: app.db)
            }
            guard case .intact = try await app.dossier.audit.verify(on: app.db) else { Issue.record("not intact"); return }
            try await AuditRecord.query(on: app.db).filter(\.$sequence > 3).delete()
            guard case let .broken(_, reason) = try await app.dossier.audit.verify(on: app.db) else {
                Issue.record("truncation not detected")
                return
            }
            #expect(reason.contains("entries were deleted"))
        }
    }

    @Test(arguments: TestDatabase.all)
    func finding13_aRewrittenChainWithRecomputedHashesIsDetected(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            for index in 0..<5 {
                try await app.dossier.audit.record(AuditEvent(action: "test.event", details: ["n": "\(index)"]), by: "test", on: app.db)
            }
            // Rewrite entry 2 and recompute every later link with plain SHA-256, as the old chain allowed.
            let records = try await AuditRecord.query(on: app.db).sort(\.$sequence).all()
            var previous = records[0].hash
            for index in 1..<records.count {
                var entry = records[index].entry
                if index == 1 { entry.action = "test.innocent" }
                entry.previousHash = previous
                entry.hash = entry.computedHash()
                records[index].action = entry.action
                records[index].previousHash = entry.previousHash
                records[index].hash = entry.hash
                try await records[index].save(on: app.db)
                previous = entry.hash
            }
            guard case .broken = try await app.dossier.audit.verify(on: app.db) else {
                Issue.record("rewrite not detected")
                return
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func finding13_unkeyingTheChainAndDroppingTheAnchorIsDetectedNotResealed(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            for index in 0..<4 {
                try await app.dossier.audit.record(AuditEvent(action: "test.event", details: ["n": "\(index)"]), by: "test", on: app.db)
            }
            // Someone with the database and the data directory, not the key: unkeyed plain chain, no anchor.
            let records = try await AuditRecord.query(on: app.db).sort(\.$sequence).all()
            var previous = AuditEntry.genesisHash
            for record in records {
                var entry = record.entry
                if record.sequence == 2 { entry.action = "test.innocent" }
                entry.previousHash = previous
                entry.hash = entry.computedHash()
                record.action = entry.action
                record.previousHash = entry.previousHash
                record.hash = entry.hash
                record.keyed = false
                try await record.save(on: app.db)
                previous = entry.hash
            }
            try FileManager.default.removeItem(at: app.dossier.configuration.auditAnchorURL)
            guard case .broken = try await app.dossier.audit.verify(on: app.db) else { Issue.record("not detected"); return }
            // A restart seals nothing by itself…
            try await DossierApp.migrate(app)
            guard case .broken = try await app.dossier.audit.verify(on: app.db) else { Issue.record("resealed at start"); return }
        }
    }

    @Test func finding13_theUpgradeIsRefusedOnceAnythingIsKeyed() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.dossier.audit.record(AuditEvent(action: "test.event"), by: "test", on: app.db)
            try await (app.db as! any SQLDatabase).update(AuditRecord.schema).set("keyed", to: false).run()
            try await app.dossier.audit.record(AuditEvent(action: "test.event"), by: "test", on: app.db)
            await #expect(throws: Abort.self) { _ = try await AuditVerification.upgrade(on: app) }
        }
    }

    @Test(arguments: TestDatabase.all)
    func finding13_theEntryCommitsWithTheChangeOrNotAtAll(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            struct Planned: Error {}
            let before = try await AuditRecord.query(on: app.db).count()
            await #expect(throws: Planned.self) {
                try await app.dossier.audit.transaction(on: app.db) { db, audit in
                    try await Organisation(name: "Agence", kind: .agency, now: Date()).create(on: db)
                    audit.record(AuditEvent(action: "organisation.created"), by: "test")
                    throw Planned()
                }
            }
            #expect(try await Organisation.query(on: app.db).count() == 0)
            #expect(try await AuditRecord.query(on: app.db).count() == before)
        }
    }

    // MARK: 15–17. Mail transport

    @Test func finding15_startTLSIsRequiredUnlessOnLoopbackOrWaived() throws {
        let remote = try MailSettings.smtp(from: "smtp://relay.example:587")
        #expect(remote.requiresTLS)
        let waived = try MailSettings.smtp(from: "smtp://relay.example:25?tls=optional")
        #expect(!waived.requiresTLS)
        let local = try MailSettings.smtp(from: "smtp://127.0.0.1:2525")
        #expect(!local.requiresTLS)
        #expect(throws: ConfigurationError.self) { try MailSettings.smtp(from: "smtp://relay.example?tls=maybe") }
    }

    @Test func finding15_nothingIsSentToARelayWithoutSTARTTLS() async throws {
        let server = try SMTPTestServer.start([])
        defer { server.stop() }
        try await withDossier(on: .sqlite) { app in
            var settings = try MailSettings.smtp(from: "smtp://127.0.0.1:\(server.port)")
            settings.treatsLoopbackAsRemote = true
            let transport = SMTPTransport(settings: settings, group: app.eventLoopGroup)
            await #expect(throws: SMTPTransport.ProtocolError.self) {
                try await transport.deliver(MailDelivery(id: UUID(), sender: "a@example.org", recipient: "b@example.org", message: "Subject: x\r\n\r\nsecret\r\n"))
            }
            #expect(try server.received().isEmpty)
        }
    }

    @Test func finding17_anSMTPRefusalKeepsOnlyItsCode() async throws {
        let server = try SMTPTestServer.start(["--reject-rcpt"])
        defer { server.stop() }
        try await withDossier(on: .sqlite, configure: { $0.smtpURL = "smtp://127.0.0.1:\(server.port)" }) { app in
            try await app.signUp()
            #expect(try await app.dossier.outbox.deliverDue(on: app.db) == .init(sent: 0, retried: 0, failed: 1))
            let message = try #require(try await app.outbox().first)
            #expect(message.lastError == "SMTP 550")
            #expect(message.sealed == nil)
        }
    }

    // MARK: 16. Headers on errors and documents

    @Test func finding16_errorsCarryTheSecurityHeaders() async throws {
        try await withDossier(on: .sqlite, configure: { $0.baseURL = "https://dossier.example" }) { app in
            for path in ["no/such/page", "api/v1/me"] {
                try await app.testing().test(.GET, path) { res in
                    #expect(res.status.code >= 400)
                    #expect(res.headers.first(name: "X-Content-Type-Options") == "nosniff")
                    #expect(res.headers.first(name: "X-Frame-Options") == "DENY")
                    let policy = try #require(res.headers.first(name: "Content-Security-Policy"))
                    #expect(policy.contains("base-uri 'none'") && policy.contains("form-action 'self'"))
                    #expect(res.headers.first(name: "Strict-Transport-Security")?.hasPrefix("max-age=") == true)
                }
            }
        }
    }

    @Test func finding16_documentsAreServedInASandbox() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.signUp(verified: true)
            let token = try await app.signIn()
            var id: UUID?
            try await app.upload(token: token, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                id = try res.content.decode(RentalFileController.DocumentBody.self).id
            }
            try await app.testing().test(.GET, "api/v1/me/documents/\(try #require(id))/content", headers: bearer(token)) { res in
                #expect(res.status == .ok)
                #expect(res.headers.first(name: "Content-Security-Policy")?.hasPrefix("sandbox") == true)
            }
        }
    }

    // MARK: 18. Single-use tokens

    @Test(arguments: TestDatabase.all)
    func finding18_aResetLinkWorksOnceEvenConcurrentlyAndVoidsItsSiblings(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp()
            for _ in 0..<2 {
                try await app.testing().test(.POST, "api/v1/password/forgot", beforeRequest: { req in
                    try req.content.encode(["email": "jane.doe@example.org"])
                }, afterResponse: { res in #expect(res.status == .accepted) })
            }
            let links = try await app.outboxTexts().compactMap { link(in: $0, startingWith: "http://127.0.0.1:8080/password/reset?token=") }
            #expect(links.count == 2)
            let first = try #require(token(of: links[0])), second = try #require(token(of: links[1]))
            let service = AccountService(database: app.db, services: app.dossier,
                                         passwords: app.password.async(on: app.threadPool, hopTo: app.eventLoopGroup.next()), logger: app.logger)
            let client = ClientInfo(ipAddress: "127.0.0.1", userAgent: "test")
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<4 {
                    group.addTask {
                        (try? await service.resetPassword(token: first, newPassword: "concurrent passphrase \(index)", client: client, language: .en)) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            // The other link sent earlier no longer works.
            try await app.testing().test(.POST, "api/v1/password/reset", beforeRequest: { req in
                try req.content.encode(["token": second, "password": "a sibling's passphrase"])
            }, afterResponse: { res in #expect(res.status == .gone) })
        }
    }

    // MARK: 19. Data directory permissions

    @Test func finding19_anOpenDataDirectoryIsRefusedAndTheDatabaseIsPrivate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-perm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = DossierConfiguration(dataDirectory: directory)
        configuration.passwordCost = 4
        try await withFileApp(configuration) { _ in }
        for name in ["dossier.sqlite", "master.key"] {
            let mode = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(name)")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        await #expect(throws: ConfigurationError.self) { try await withFileApp(configuration) { _ in } }
    }

    // MARK: 20. AEAD bound to the document

    @Test(arguments: TestDatabase.all)
    func finding20_aBlobMovedToAnotherDocumentDoesNotOpen(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp(verified: true)
            let token = try await app.signIn()
            var ids: [UUID] = []
            for name in ["payslip.pdf", "scan-with-text.png"] {
                let type = name.hasSuffix("pdf") ? "application/pdf" : "image/png"
                try await app.upload(token: token, type: "tax-notice", files: [(name, type, try upload(name))]) { res in
                    ids.append(try res.content.decode(RentalFileController.DocumentBody.self).id)
                }
            }
            // Someone with write access to the database points document 2 at document 1's blob.
            let first = try #require(try await DocumentFile.query(on: app.db).filter(\.$document.$id == ids[0]).first())
            let second = try #require(try await DocumentFile.query(on: app.db).filter(\.$document.$id == ids[1]).first())
            second.blobKey = first.blobKey
            second.digest = first.digest
            second.sealedName = first.sealedName
            try await (app.db as! any SQLDatabase).update(DocumentFile.schema).set("blob_key", to: "swapped-\(UUID())")
                .where("id", .equal, try first.requireID()).run()
            try await second.save(on: app.db)
            try await app.testing().test(.GET, "api/v1/me/documents/\(ids[1])/content", headers: bearer(token)) { res in
                #expect(res.status != .ok)
                #expect(!res.body.string.hasPrefix("%PDF"))
            }
        }
    }
}
