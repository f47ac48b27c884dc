@testable import DossierServer
import DossierCore
import DossierTestSupport
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// Consents (GDPR Art. 7) and objections (Art. 21), on SQLite and PostgreSQL: the ledger proves
/// each consent given and withdrawn; objecting to direct marketing is absolute and outlives an
/// erasure on the objection list; objecting to legitimate interests waits for review; the
/// register decides which purpose is which.
@Suite("Consents and objections")
struct ConsentTests {
    static func send(_ app: Application, _ method: HTTPMethod, _ path: String, _ headers: HTTPHeaders,
                     body: [String: String]? = nil) async throws -> (status: HTTPStatus, json: [String: JSONValue]) {
        var answer: (HTTPStatus, [String: JSONValue]) = (.internalServerError, [:])
        try await app.testing().test(method, path, headers: headers, beforeRequest: { req in
            if let body { try req.content.encode(body) }
        }, afterResponse: { res in
            answer = (res.status, (try? JSONDecoder().decode([String: JSONValue].self, from: Data(buffer: res.body))) ?? [:])
        })
        return answer
    }

    @Test(arguments: TestDatabase.all)
    func consentsAndObjectionsAreRecordedAndOutliveAnErasure(database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            let tenant = try await SharingTests.tenant(app)
            let account = try #require(try await Account.query(on: app.db).filter(\.$emailKey == "jane.doe@example.org").first())
            let listed = try await SharingTests.get(app, "api/v1/me/consents", headers: tenant.auth)
            let states = try JSONDecoder().decode([[String: JSONValue]].self, from: listed.body)
            #expect(Set(states.compactMap { if case let .string(text)? = $0["purpose"] { text } else { nil } }) == ["newsletters", "community"])
            #expect(states.allSatisfy { $0["state"] == .string("never") })

            // Given, once; withdrawn as easily; the ledger keeps both for 5 years from the withdrawal.
            #expect(try await Self.send(app, .POST, "api/v1/me/consents", tenant.auth, body: ["purpose": "newsletters"]).status == .created)
            #expect(try await Self.send(app, .POST, "api/v1/me/consents", tenant.auth, body: ["purpose": "newsletters"]).status == .ok)
            #expect(try await Self.send(app, .POST, "api/v1/me/consents", tenant.auth, body: ["purpose": "services"]).status == .unprocessableEntity)
            #expect(try await Self.send(app, .POST, "api/v1/me/consents", tenant.auth, body: ["purpose": "nope"]).status == .unprocessableEntity)
            #expect(try await Self.send(app, .POST, "api/v1/me/consents", tenant.auth, body: ["purpose": "newsletters", "extra": "x"]).status == .unprocessableEntity)
            clock.advance(by: 86400)
            #expect(try await Self.send(app, .DELETE, "api/v1/me/consents/newsletters", tenant.auth).status == .noContent)
            #expect(try await Self.send(app, .DELETE, "api/v1/me/consents/newsletters", tenant.auth).status == .conflict)
            #expect(try await Self.send(app, .DELETE, "api/v1/me/consents/services", tenant.auth).status == .unprocessableEntity)
            let ledger = try await ConsentRecord.query(on: app.db).filter(\.$subject == account.subject).sort(\.$position).all()
            #expect(ledger.map(\.action) == [.given, .withdrawn])
            #expect(ledger.allSatisfy { $0.keepUntil == RetentionPeriod(5, .year).added(to: clock.now) && $0.policyVersion == "1.3.0" })

            // Objecting to newsletters: upheld at once, the consent given again ended, the address listed.
            #expect(try await Self.send(app, .POST, "api/v1/me/consents", tenant.auth, body: ["purpose": "newsletters"]).status == .created)
            let upheld = try await Self.send(app, .POST, "api/v1/me/objections", tenant.auth, body: ["purpose": "newsletters"])
            #expect(upheld.status == .created && upheld.json["outcome"] == .string("upheld"))
            #expect(try await Self.send(app, .POST, "api/v1/me/objections", tenant.auth, body: ["purpose": "newsletters"]).status == .ok)
            // Absolute: no consent afterwards undoes it.
            #expect(try await Self.send(app, .POST, "api/v1/me/consents", tenant.auth, body: ["purpose": "newsletters"]).status == .conflict)
            #expect(try await ConsentRecord.query(on: app.db).filter(\.$subject == account.subject).sort(\.$position, .descending).first()?.source == "objection")
            let address = try #require(EmailAddress("Jane.Doe@example.org"))
            #expect(try await ConsentService.objected(address, to: "newsletters", services: app.dossier, on: app.db))
            // To a purpose of legitimate interests: staff review it within the month.
            let review = try await Self.send(app, .POST, "api/v1/me/objections", tenant.auth, body: ["purpose": "statistics"])
            #expect(review.status == .accepted && review.json["outcome"] == .string("to-review"))
            // To a purpose of consent: withdraw it instead. To the contract: no objection applies.
            #expect(try await Self.send(app, .POST, "api/v1/me/objections", tenant.auth, body: ["purpose": "community"]).status == .unprocessableEntity)
            #expect(try await Self.send(app, .POST, "api/v1/me/objections", tenant.auth, body: ["purpose": "services"]).status == .unprocessableEntity)
            #expect(try await ObjectionRecord.query(on: app.db).count() == 2)

            // The access view lists them.
            let report = try await RightsTests.access(app, tenant.auth)
            #expect(report.entries.contains { $0.kind == "consent" && $0.purpose.id == "consent-management" })
            #expect(report.entries.filter { $0.kind == "objection" }.count == 2)

            // Erased: the ledger and the objection list stay, as the receipt says.
            let objectedAt = clock.now
            clock.advance(by: 86400)
            let receipt = try #require(try await ErasureTests.erase(app, tenant.auth))
            let kept = Dictionary(receipt.kept.map { ("\($0.purpose.id)/\($0.category.id)", $0) }) { first, _ in first }
            #expect(kept["consent-management/consent-records"]?.until == RetentionPeriod(5, .year).added(to: clock.now))
            #expect(kept["rights-requests/objections"]?.until == RetentionPeriod(5, .year).added(to: objectedAt))
            #expect(!receipt.erased.contains { $0.kind == "consent" || $0.kind == "objection" })
            #expect(try await ConsentService.objected(address, to: "newsletters", services: app.dossier, on: app.db))
            // Given, withdrawn, given again, withdrawn by the objection: the erasure found nothing given.
            #expect(try await ConsentRecord.query(on: app.db).filter(\.$subject == account.subject).count() == 4)

            // On their day they go.
            clock.advance(by: RetentionPeriod(5, .year).added(to: objectedAt).timeIntervalSince(clock.now) - 1)
            #expect(try await ConsentService.sweepExpired(on: app.db, now: clock.now) == 0)
            clock.advance(by: 1)
            #expect(try await ConsentService.sweepExpired(on: app.db, now: clock.now) == 6)
            #expect(try await ConsentService.objected(address, to: "newsletters", services: app.dossier, on: app.db) == false)
            #expect(try await ConsentRecord.query(on: app.db).count() == 0)
        }
    }
}
