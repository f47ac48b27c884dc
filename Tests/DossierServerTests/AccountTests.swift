@testable import DossierServer
import DossierCore
import Fluent
import Foundation
import Testing
import VaporTesting

@Suite("Accounts: sign-up, verification, sign-in and out, reset, throttling")
struct AccountTests {
    @Test(arguments: TestDatabase.all)
    func signUpRefusesBadFieldsAndStoresNothing(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.testing().test(.POST, "api/v1/accounts", beforeRequest: { req in
                try req.content.encode(["email": "not-an-address", "password": "short", "firstName": "", "lastName": "Doe", "language": "en"])
            }, afterResponse: { res in
                #expect(res.status == .unprocessableEntity)
                let body = try res.content.decode(ErrorBody.self)
                #expect(body.error.code == "validation_failed")
                let fields = try res.content.decode(FieldsBody.self).error.fields
                #expect(Set(fields.map(\.field)) == ["email", "firstName", "password"])
                #expect(fields.contains { $0.field == "password" && $0.message == "At least 12 characters." })
                #expect(fields.contains { $0.field == "firstName" && $0.message == "This field is required." })
            })
            try await app.testing().test(.POST, "api/v1/accounts", beforeRequest: { req in
                try req.content.encode(["email": "jane@example.org", "password": "password123456", "firstName": "Jane", "lastName": "Doe", "language": "en"])
            }, afterResponse: { res in
                #expect(res.status == .unprocessableEntity)
                #expect(res.body.string.contains("This password is too common."))
            })
            try await app.testing().test(.POST, "api/v1/accounts", beforeRequest: { req in
                try req.content.encode(["email": "jane@example.org"])
            }, afterResponse: { res in
                #expect(res.status == .badRequest)
                let value1 = try res.content.decode(ErrorBody.self).error.message
                #expect(value1.contains("missing field 'password'"))
            })
            try await app.testing().test(.POST, "api/v1/accounts", headers: ["Content-Type": "application/json"], body: .init(string: "{not json"), afterResponse: { res in
                #expect(res.status == .badRequest)
            })
            let value2 = try await Account.query(on: app.db).count()
            #expect(value2 == 0)
            let value3 = try await app.outbox().isEmpty
            #expect(value3)
        }
    }

    struct FieldsBody: Decodable {
        struct Detail: Decodable { var fields: [FieldProblem] }
        var error: Detail
    }

    @Test(arguments: TestDatabase.all)
    func duplicateEmailMakesNoSecondAccountWhateverTheCase(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp(email: "Jane.Doe@Example.org")
            // The same answer as for a new address (see SecurityReviewTests.finding9), and one account.
            try await app.testing().test(.POST, "api/v1/accounts", beforeRequest: { req in
                try req.content.encode(["email": "jane.doe@EXAMPLE.org", "password": "another long passphrase", "firstName": "J", "lastName": "D", "language": "en"])
            }, afterResponse: { res in #expect(res.status == .created) })
            let value5 = try await Account.query(on: app.db).count()
            #expect(value5 == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func signUpVerifySignInConnectionsSignOut(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp()
            // The verification message waits in the outbox; without SMTP it becomes an .eml file.
            let report = try await app.dossier.outbox.deliverDue(on: app.db)
            #expect(report == .init(sent: 1, retried: 0, failed: 0))
            let files = try FileManager.default.contentsOfDirectory(at: app.dossier.configuration.outboxDirectory, includingPropertiesForKeys: nil)
            #expect(files.count == 1)
            let eml = try String(contentsOf: try #require(files.first), encoding: .utf8)
            #expect(eml.contains("To: jane.doe@example.org"))
            #expect(eml.contains("Subject: Confirm your email address"))
            let verifyLink = try #require(link(in: eml, startingWith: "http://127.0.0.1:8080/verify-email?token="))
            let attributes = try FileManager.default.attributesOfItem(atPath: files[0].path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)

            let bearer = try await app.signIn()
            try await app.testing().test(.GET, "api/v1/me", headers: ["Authorization": "Bearer \(bearer)"]) { res in
                #expect(res.status == .ok)
                let value6 = try res.content.decode(AccountsController.AccountBody.self).emailVerified
                #expect(value6 == false)
            }
            try await app.testing().test(.POST, "api/v1/accounts/verify", beforeRequest: { req in
                try req.content.encode(["token": try #require(token(of: verifyLink))])
            }, afterResponse: { res in
                #expect(res.status == .ok)
                let value7 = try res.content.decode(AccountsController.AccountBody.self).emailVerified
                #expect(value7)
            })
            try await app.testing().test(.POST, "api/v1/accounts/verify", beforeRequest: { req in
                try req.content.encode(["token": try #require(token(of: verifyLink))])
            }, afterResponse: { res in
                #expect(res.status == .gone)
            })

            // A wrong password first, then the connection log shows both attempts, newest first.
            try await app.testing().test(.POST, "api/v1/sessions", beforeRequest: { req in
                try req.content.encode(["email": "jane.doe@example.org", "password": "not the password at all"])
            }, afterResponse: { res in #expect(res.status == .unauthorized) })
            try await app.testing().test(.GET, "api/v1/me/connections", headers: ["Authorization": "Bearer \(bearer)", "User-Agent": "test"]) { res in
                #expect(res.status == .ok)
                let events = try res.content.decode([AccountsController.ConnectionBody].self)
                #expect(events.map(\.outcome) == ["wrong-password", "success"])
                #expect(events.allSatisfy { $0.kind == "sign-in" && !$0.ipAddress.isEmpty })
            }
            try await app.testing().test(.DELETE, "api/v1/sessions/current", headers: ["Authorization": "Bearer \(bearer)"]) { res in
                #expect(res.status == .noContent)
            }
            try await app.testing().test(.GET, "api/v1/me", headers: ["Authorization": "Bearer \(bearer)"]) { res in
                #expect(res.status == .unauthorized)
            }
            let events = try await ConnectionEvent.query(on: app.db).all()
            #expect(events.map(\.kind).filter { $0 == .signOut }.count == 1)
        }
    }

    /// The session and its account are read by one hand-written joined query: what it reads is
    /// the signed-in account, an ended or expired session is refused, and the activity it
    /// records (every five minutes) updates the rows it read, never adds any.
    @Test(arguments: TestDatabase.all)
    func aRequestsSessionAndAccountComeFromOneQueryAndTheirActivityIsSaved(database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        func bearer(_ token: String) -> HTTPHeaders { ["Authorization": "Bearer \(token)"] }
        try await withDossier(on: database, clock: clock) { app in
            _ = try await app.signUp()
            _ = try await app.signUp(email: "other@example.org")
            let token = try await app.signIn()
            _ = try await app.signIn(email: "other@example.org")
            try await app.testing().test(.GET, "api/v1/me", headers: bearer(token)) { res in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("jane.doe@example.org"))
            }
            let account = try #require(try await Account.query(on: app.db).filter(\.$emailKey == "jane.doe@example.org").first())
            let session = try #require(try await Session.query(on: app.db).filter(\.$account.$id == account.requireID()).first())
            #expect(session.lastSeenAt == testEpoch)
            clock.advance(by: 301)
            try await app.testing().test(.GET, "api/v1/me", headers: bearer(token)) { res in #expect(res.status == .ok) }
            let seen = try #require(try await Session.find(session.requireID(), on: app.db))
            #expect(seen.lastSeenAt == testEpoch + 301)
            let active = try #require(try await Account.find(account.requireID(), on: app.db))
            #expect(active.lastActivityAt == testEpoch + 301)
            #expect(try await Account.query(on: app.db).count() == 2)
            #expect(try await Session.query(on: app.db).count() == 2)
            // Valid to its last second, refused after.
            clock.advance(by: AccountService.apiSessionLifetime - 301 - 1)
            try await app.testing().test(.GET, "api/v1/me", headers: bearer(token)) { res in #expect(res.status == .ok) }
            clock.advance(by: 2)
            try await app.testing().test(.GET, "api/v1/me", headers: bearer(token)) { res in #expect(res.status == .unauthorized) }
        }
    }

    @Test(arguments: TestDatabase.all)
    func wrongPasswordsAreThrottledPerAccount(database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            try await app.signUp()
            for _ in 0..<5 {
                try await app.testing().test(.POST, "api/v1/sessions", beforeRequest: { req in
                    try req.content.encode(["email": "jane.doe@example.org", "password": "a wrong password"])
                }, afterResponse: { res in #expect(res.status == .unauthorized) })
                clock.advance(by: 10)
            }
            // Now even the right password waits, from this address: 30 s after the fifth failure.
            try await app.testing().test(.POST, "api/v1/sessions", beforeRequest: { req in
                try req.content.encode(["email": "jane.doe@example.org", "password": "correct horse battery staple"])
            }, afterResponse: { res in
                #expect(res.status == .tooManyRequests)
                let retryAfter = try #require(res.headers.first(name: "Retry-After").flatMap(Int.init))
                #expect(retryAfter == 30 - 10)
                let value8 = try res.content.decode(ErrorBody.self).error.message
                #expect(value8 == "Trop de tentatives échouées. Réessayez dans 1 minute.")
            })
            let throttled = try await ConnectionEvent.query(on: app.db).filter(\.$outcome == .throttled).count()
            #expect(throttled == 1)
            // Each further failure doubles the wait: the sixth means a minute.
            clock.advance(by: 20)
            try await app.testing().test(.POST, "api/v1/sessions", beforeRequest: { req in
                try req.content.encode(["email": "jane.doe@example.org", "password": "a wrong password"])
            }, afterResponse: { res in #expect(res.status == .unauthorized) })
            clock.advance(by: 30)
            try await app.testing().test(.POST, "api/v1/sessions", beforeRequest: { req in
                try req.content.encode(["email": "jane.doe@example.org", "password": "correct horse battery staple"])
            }, afterResponse: { res in #expect(res.status == .tooManyRequests) })
            clock.advance(by: 31)
            _ = try await app.signIn()
        }
    }

    @Test func wrongPasswordsAreThrottledPerAddressAcrossAccounts() async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: .sqlite, clock: clock) { app in
            for attempt in 0..<20 {
                try await app.testing().test(.POST, "api/v1/sessions", beforeRequest: { req in
                    try req.content.encode(["email": "nobody\(attempt)@example.org", "password": "whatever it is"])
                }, afterResponse: { res in #expect(res.status == .unauthorized) })
            }
            try await app.testing().test(.POST, "api/v1/sessions", beforeRequest: { req in
                try req.content.encode(["email": "someone.else@example.org", "password": "whatever it is"])
            }, afterResponse: { res in #expect(res.status == .tooManyRequests) })
        }
    }

    @Test(arguments: TestDatabase.all)
    func resetLinkWorksOnceAndExpires(database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            try await app.signUp()
            let bearer = try await app.signIn()
            try await app.testing().test(.POST, "api/v1/password/forgot", beforeRequest: { req in
                try req.content.encode(["email": "JANE.DOE@example.org"])
            }, afterResponse: { res in #expect(res.status == .accepted) })
            // An unknown address gets the same answer, and no message.
            try await app.testing().test(.POST, "api/v1/password/forgot", beforeRequest: { req in
                try req.content.encode(["email": "nobody@example.org"])
            }, afterResponse: { res in #expect(res.status == .accepted) })
            let messages = try await app.outbox()
            #expect(messages.count == 2)
            let texts = try await app.outboxTexts()
            let reset = try #require(link(in: texts[1], startingWith: "http://127.0.0.1:8080/password/reset?token="))
            let resetToken = try #require(token(of: reset))

            try await app.testing().test(.POST, "api/v1/password/reset", beforeRequest: { req in
                try req.content.encode(["token": resetToken, "password": "short"])
            }, afterResponse: { res in #expect(res.status == .unprocessableEntity) })
            try await app.testing().test(.POST, "api/v1/password/reset", beforeRequest: { req in
                try req.content.encode(["token": resetToken, "password": "a brand new passphrase"])
            }, afterResponse: { res in #expect(res.status == .noContent) })
            // Used once: refused the second time.
            try await app.testing().test(.POST, "api/v1/password/reset", beforeRequest: { req in
                try req.content.encode(["token": resetToken, "password": "yet another passphrase"])
            }, afterResponse: { res in
                #expect(res.status == .gone)
                let value9 = try res.content.decode(ErrorBody.self).error.message
                #expect(value9 == "This link was already used.")
            })
            // Sessions opened before the reset are closed; the new password works, the old does not.
            try await app.testing().test(.GET, "api/v1/me", headers: ["Authorization": "Bearer \(bearer)"]) { res in
                #expect(res.status == .unauthorized)
            }
            _ = try await app.signIn(password: "a brand new passphrase")

            // A link older than 30 minutes is refused.
            try await app.testing().test(.POST, "api/v1/password/forgot", beforeRequest: { req in
                try req.content.encode(["email": "jane.doe@example.org"])
            }, afterResponse: { res in #expect(res.status == .accepted) })
            let lastMessage = try await app.outboxTexts().last ?? ""
            let lateLink = try #require(link(in: lastMessage, startingWith: "http://127.0.0.1:8080/password/reset?token="))
            let late = try #require(token(of: lateLink))
            clock.advance(by: 31 * 60)
            try await app.testing().test(.POST, "api/v1/password/reset", beforeRequest: { req in
                try req.content.encode(["token": late, "password": "too late passphrase"])
            }, afterResponse: { res in
                #expect(res.status == .gone)
                let value10 = try res.content.decode(ErrorBody.self).error.message
                #expect(value10 == "This link has expired.")
            })
        }
    }

    @Test func meRequiresABearerToken() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.testing().test(.GET, "api/v1/me") { res in
                #expect(res.status == .unauthorized)
                #expect(res.headers.first(name: "WWW-Authenticate") == "Bearer")
            }
            try await app.testing().test(.GET, "api/v1/me", headers: ["Authorization": "Bearer forged"]) { res in
                #expect(res.status == .unauthorized)
            }
        }
    }

    @Test func staffAccountsComeFromTheCLIService() async throws {
        try await withDossier(on: .sqlite) { app in
            let created = try await StaffAccounts.create(
                on: app, email: try #require(EmailAddress("dpo@example.org")), password: "a long staff passphrase",
                firstName: "Dana", lastName: "Po", role: .dpo, language: .fr
            )
            let account = try #require(try await Account.find(created.id, on: app.db))
            #expect(account.role == .dpo)
            #expect(account.emailVerifiedAt != nil)
            await #expect(throws: ValidationFailure.self) {
                _ = try await StaffAccounts.create(on: app, email: try #require(EmailAddress("op@example.org")), password: "short",
                                                   firstName: "O", lastName: "P", role: .operator_, language: .fr)
            }
        }
    }
}
