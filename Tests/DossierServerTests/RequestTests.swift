@testable import DossierServer
import DossierCore
import DossierTestSupport
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// Rights requests handled by staff (GDPR Art. 12) and post-mortem directives (loi 78-17 art.
/// 85), on SQLite and PostgreSQL, the clock moved: deadlines per Regulation 1182/71, the
/// extension notice within the first month, identity proof deleted once checked, refusal with
/// the CNIL, reminders, the record's 5 years.
@Suite("Rights requests and post-mortem directives")
struct RequestTests {
    static func send(_ app: Application, _ method: HTTPMethod, _ path: String, _ headers: HTTPHeaders,
                     json: [String: JSONValue]? = nil) async throws -> (status: HTTPStatus, json: [String: JSONValue]) {
        var answer: (HTTPStatus, [String: JSONValue]) = (.internalServerError, [:])
        try await app.testing().test(method, path, headers: headers, beforeRequest: { req in
            if let json {
                req.body = ByteBuffer(data: try JSONEncoder().encode(json))
                req.headers.contentType = .json
            }
        }, afterResponse: { res in
            answer = (res.status, (try? JSONDecoder().decode([String: JSONValue].self, from: Data(buffer: res.body))) ?? [:])
        })
        return answer
    }

    static func dpo(_ app: Application) async throws -> HTTPHeaders {
        _ = try await StaffAccounts.create(on: app, email: try #require(EmailAddress("dpo@example.org")), password: "a long staff passphrase",
                                           firstName: "Dana", lastName: "Po", role: .dpo, language: .en)
        return ["Authorization": "Bearer \(try await app.signIn(email: "dpo@example.org", password: "a long staff passphrase"))"]
    }

    static func string(_ value: JSONValue?) -> String? {
        if case let .string(text)? = value { return text }
        return nil
    }

    /// Midday in Paris on a day.
    static func day(_ text: String) -> Date {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        return RequestDeadline.calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: 12))!
    }

    @Test(arguments: TestDatabase.all)
    func requestsAreDueAsTheRegulationCountsAndIdentityProofGoesOnceChecked(database: TestDatabase) async throws {
        // Filed on 31 January 2030: due Thursday 28 February.
        let clock = ManualClock(Self.day("2030-01-31"))
        try await withDossier(on: database, clock: clock) { app in
            try await app.signUp(verified: true)
            let tenant: HTTPHeaders = ["Authorization": "Bearer \(try await app.signIn())"]
            let staff = try await Self.dpo(app)

            let filed = try await Self.send(app, .POST, "api/v1/me/requests", tenant, json: ["right": "access", "details": "Tout ce que vous avez."])
            #expect(filed.status == .created)
            #expect(Self.string(filed.json["dueDay"]) == "2030-02-28" && Self.string(filed.json["status"]) == "open")
            #expect(filed.json["requesterName"] == nil, "the person's own view has no staff fields")
            let reference = try #require(Self.string(filed.json["reference"]))
            let id = try #require(Self.string(filed.json["id"]))
            #expect(try await app.outboxTexts(to: "jane.doe@example.org").contains { $0.contains(reference) && $0.contains("2030-02-28") })
            // Bad input stores nothing.
            #expect(try await Self.send(app, .POST, "api/v1/me/requests", tenant, json: ["right": "information"]).status == .unprocessableEntity)
            #expect(try await Self.send(app, .POST, "api/v1/me/requests", tenant, json: ["right": "access", "details": .string(String(repeating: "x", count: 4001))]).status == .unprocessableEntity)
            #expect(try await RightsRequest.query(on: app.db).count() == 1)
            // Staff only.
            #expect(try await Self.send(app, .GET, "api/v1/staff/requests", tenant).status == .forbidden)

            // A letter received on 29 February 2028 … entered the day it arrived: due 29 March.
            clock.set(Self.day("2030-02-01"))
            let letter = try await Self.send(app, .POST, "api/v1/staff/requests", staff, json: [
                "right": "erasure", "channel": "post", "receivedAt": "2030-01-31", "name": "Paul Martin", "details": "Effacez tout.",
            ])
            #expect(letter.status == .created && Self.string(letter.json["dueDay"]) == "2030-02-28")
            #expect(try await Self.send(app, .POST, "api/v1/staff/requests", staff, json: [
                "right": "erasure", "channel": "email", "receivedAt": "2030-01-31", "name": "Sans Adresse",
            ]).status == .unprocessableEntity)
            #expect(try await Self.send(app, .POST, "api/v1/staff/requests", staff, json: [
                "right": "erasure", "channel": "post", "receivedAt": "2030-03-01", "name": "Futur",
            ]).status == .unprocessableEntity)
            let queue = try JSONDecoder().decode([[String: JSONValue]].self, from: try await SharingTests.get(app, "api/v1/staff/requests", headers: staff).body)
            #expect(queue.count == 2 && queue.allSatisfy { $0["requesterName"] != nil })

            // Extended within the first month: the requester is told why; once only.
            let extended = try await Self.send(app, .POST, "api/v1/staff/requests/\(id)/extension", staff, json: ["reason": "Nombreuses pièces à rassembler"])
            #expect(extended.status == .ok && Self.string(extended.json["dueDay"]) == "2030-04-30" && extended.json["extended"] == .bool(true))
            #expect(try await app.outboxTexts(to: "jane.doe@example.org").contains { $0.contains("2030-04-30") && $0.contains("Nombreuses pièces") })
            #expect(try await Self.send(app, .POST, "api/v1/staff/requests/\(id)/extension", staff, json: ["reason": "encore"]).status == .conflict)
            // Past the first month, the letter's deadline can no longer be extended.
            let letterID = try #require(Self.string(letter.json["id"]))
            clock.set(Self.day("2030-03-01"))
            #expect(try await Self.send(app, .POST, "api/v1/staff/requests/\(letterID)/extension", staff, json: ["reason": "trop tard"]).status == .conflict)

            // Identity in doubt: asked by email, the proof filed, read, checked, and gone.
            #expect(try await Self.send(app, .POST, "api/v1/staff/requests/\(id)/identity-request", staff).json["status"] == .string("awaiting-identity"))
            let proof = Data("scan of an identity card".utf8)
            try await app.testing().test(.POST, "api/v1/staff/requests/\(id)/identity-proof", headers: staff.adding("Content-Type", "image/jpeg"),
                                         body: ByteBuffer(data: proof)) { res in #expect(res.status == .created, "\(res.body.string)") }
            let row = try #require(try await RightsRequest.find(UUID(uuidString: id), on: app.db))
            let key = try #require(row.proofKey)
            #expect(try await app.dossier.blobs.exists(key))
            #expect(try await app.dossier.blobs.get(key) != proof, "sealed at rest")
            try await app.testing().test(.GET, "api/v1/staff/requests/\(id)/identity-proof", headers: staff) { res in
                #expect(res.status == .ok && Data(buffer: res.body) == proof)
            }
            // The export waits for the identity.
            try await app.testing().test(.GET, "api/v1/staff/requests/\(id)/export", headers: staff) { res in #expect(res.status == .conflict) }
            let checked = try await Self.send(app, .POST, "api/v1/staff/requests/\(id)/identity", staff, json: ["outcome": "verified"])
            #expect(checked.status == .ok && checked.json["identity"] == .string("verified") && checked.json["proofWaiting"] == .bool(false))
            #expect(try await app.dossier.blobs.exists(key) == false)
            #expect(try await RightsRequest.find(UUID(uuidString: id), on: app.db)?.proofKey == nil)
            #expect(try await BlobJournalEntry.query(on: app.db).count() == 0)
            try await app.testing().test(.GET, "api/v1/staff/requests/\(id)/identity-proof", headers: staff) { res in #expect(res.status == .conflict) }
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "request.identity-checked").count() == 1)

            // Staff answer an access request with the person's export.
            try await app.testing().test(.GET, "api/v1/staff/requests/\(id)/export", headers: staff) { res in
                #expect(res.status == .ok && res.headers.contentType?.subType == "zip")
            }
            let answered = try await Self.send(app, .POST, "api/v1/staff/requests/\(id)/answer", staff, json: ["answer": "Voici votre export."])
            #expect(answered.status == .ok && answered.json["status"] == .string("answered"))
            #expect(try await Self.send(app, .POST, "api/v1/staff/requests/\(id)/answer", staff, json: [:]).status == .conflict)

            // The letter is refused with its reason; a postal requester gets no email.
            let refused = try await Self.send(app, .POST, "api/v1/staff/requests/\(letterID)/refusal", staff,
                                              json: ["reason": "identity-not-established", "details": "Aucun justificatif reçu."])
            #expect(refused.status == .ok && refused.json["refusal"] == .string("identity-not-established"))
            #expect(try await Self.send(app, .POST, "api/v1/staff/requests/\(letterID)/refusal", staff, json: ["reason": "excessive"]).status == .conflict)
            #expect(try await Self.send(app, .POST, "api/v1/staff/requests/\(letterID)/answer", staff, json: ["answer": .string("x"), "extra": .string("y")]).status == .unprocessableEntity)

            // The person sees their request handled; the access view lists it with its end.
            let mine = try JSONDecoder().decode([[String: JSONValue]].self, from: try await SharingTests.get(app, "api/v1/me/requests", headers: tenant).body)
            #expect(mine.count == 1 && mine[0]["status"] == .string("answered"))
            let report = try await RightsTests.access(app, tenant)
            let entry = try #require(report.entries.first { $0.kind == "request" })
            #expect(entry.retention.first?.endsAt == RetentionPeriod(5, .year).added(to: clock.now))

            // Kept 5 years from the answer, then the row and its key go.
            let answeredAt = clock.now
            clock.set(RetentionPeriod(5, .year).added(to: answeredAt) - 1)
            #expect(try await RequestService.sweepExpired(services: app.dossier, on: app.db, now: clock.now) == 0)
            clock.set(RetentionPeriod(5, .year).added(to: answeredAt))
            #expect(try await RequestService.sweepExpired(services: app.dossier, on: app.db, now: clock.now) == 2)
            #expect(try await RightsRequest.query(on: app.db).count() == 0)
            await #expect(throws: KeyVault.Shredded.self) { try await app.dossier.vault.openingKey(for: row.subject) }
        }
    }

    @Test(arguments: TestDatabase.all)
    func staffAreRemindedAndRefusalsNameTheCNIL(database: TestDatabase) async throws {
        // Received Friday 29 February 2028: due Wednesday 29 March.
        let clock = ManualClock(Self.day("2028-02-29"))
        try await withDossier(on: database, clock: clock) { app in
            let staff = try await Self.dpo(app)
            let received = try await Self.send(app, .POST, "api/v1/staff/requests", staff, json: [
                "right": "rectification", "channel": "email", "receivedAt": "2028-02-29", "name": "Paul Martin", "email": "paul@example.org",
                "language": "en",
            ])
            #expect(Self.string(received.json["dueDay"]) == "2028-03-29")
            let id = try #require(Self.string(received.json["id"])).lowercased()
            #expect(try await app.outboxTexts(to: "paul@example.org").contains { $0.contains("2028-03-29") })
            let dueAt = try #require(try await RightsRequest.find(UUID(uuidString: id), on: app.db)?.dueAt)

            func reminders() async throws -> [String] { try await app.outboxTexts(to: "dpo@example.org").filter { $0.contains("/staff/requests/\(id)") } }
            clock.set(dueAt - 8 * 86_400)
            #expect(try await RequestService.remind(services: app.dossier, on: app.db) == 0)
            clock.set(dueAt - 7 * 86_400)
            #expect(try await RequestService.remind(services: app.dossier, on: app.db) == 1)
            #expect(try await RequestService.remind(services: app.dossier, on: app.db) == 0)
            clock.set(dueAt - 3600)
            #expect(try await RequestService.remind(services: app.dossier, on: app.db) == 1)
            clock.set(dueAt)
            #expect(try await RequestService.remind(services: app.dossier, on: app.db) == 1)
            let sent = try await reminders()
            #expect(sent.count == 3 && sent.last?.contains("should have been answered by 2028-03-29") == true)
            let queue = try JSONDecoder().decode([[String: JSONValue]].self, from: try await SharingTests.get(app, "api/v1/staff/requests", headers: staff).body)
            #expect(queue.first?["overdue"] == .bool(true))

            let refused = try await Self.send(app, .POST, "api/v1/staff/requests/\(id)/refusal", staff, json: ["reason": "manifestly-unfounded"])
            #expect(refused.status == .ok)
            let refusal = try #require(try await app.outboxTexts(to: "paul@example.org").last)
            #expect(refusal.contains("manifestly unfounded") && refusal.contains("CNIL"))
            // Closed: no more reminders.
            clock.advance(by: 30 * 86_400)
            #expect(try await RequestService.remind(services: app.dossier, on: app.db) == 0)
        }
    }

    @Test(arguments: TestDatabase.all)
    func objectionsToReviewAndPostMortemDirectivesGoThroughTheQueue(database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            try await app.signUp(verified: true)
            let tenant: HTTPHeaders = ["Authorization": "Bearer \(try await app.signIn())"]
            let staff = try await Self.dpo(app)

            // An objection to a purpose of legitimate interests waits in the queue; upheld by staff.
            #expect(try await Self.send(app, .POST, "api/v1/me/objections", tenant, json: ["purpose": "statistics"]).status == .accepted)
            let queue = try JSONDecoder().decode([[String: JSONValue]].self, from: try await SharingTests.get(app, "api/v1/staff/requests", headers: staff).body)
            let objection = try #require(queue.first { $0["right"] == .string("objection") })
            #expect(objection["channel"] == .string("account"))
            #expect(try await Self.send(app, .POST, "api/v1/staff/requests/\(try #require(Self.string(objection["id"])))/answer", staff).status == .ok)
            let objections = try JSONDecoder().decode([[String: JSONValue]].self, from: try await SharingTests.get(app, "api/v1/me/objections", headers: tenant).body)
            #expect(objections.first?["outcome"] == .string("upheld"))

            // Directives: recorded, replaced, read back; "communicate" needs someone to give the data to.
            #expect(try await Self.send(app, .GET, "api/v1/me/directives", tenant).status == .notFound)
            #expect(try await Self.send(app, .PUT, "api/v1/me/directives", tenant, json: ["choice": "communicate"]).status == .unprocessableEntity)
            #expect(try await Self.send(app, .PUT, "api/v1/me/directives", tenant, json: ["choice": "burn"]).status == .unprocessableEntity)
            #expect(try await Self.send(app, .PUT, "api/v1/me/directives", tenant, json: ["choice": "erase"]).status == .created)
            let replaced = try await Self.send(app, .PUT, "api/v1/me/directives", tenant, json: [
                "choice": "communicate", "instructions": "Mes pièces à ma sœur.", "contact": ["name": "Anne Doe", "email": "anne@example.org"],
            ])
            #expect(replaced.status == .ok)
            let stored = try #require(try await DirectiveRecord.query(on: app.db).first())
            #expect(!String(decoding: stored.sealed, as: UTF8.self).contains("sœur"), "sealed at rest")
            #expect(try await Self.send(app, .GET, "api/v1/me/directives", tenant).json["instructions"] == .string("Mes pièces à ma sœur."))

            // The person's own post-mortem request, answered, carries nothing out.
            let own = try await Self.send(app, .POST, "api/v1/me/requests", tenant, json: ["right": "post-mortem", "details": "Comment ça marche ?"])
            #expect(try await Self.send(app, .GET, "api/v1/staff/requests/\(try #require(Self.string(own.json["id"])))/directives", staff).status == .conflict)
            #expect(try await Self.send(app, .POST, "api/v1/staff/requests/\(try #require(Self.string(own.json["id"])))/answer", staff).status == .ok)
            #expect(try await DirectiveRecord.query(on: app.db).count() == 1)

            // The heir writes: staff record the post-mortem request and read the directives (audited)…
            let today = JSONValue.string(RequestsController.parisDay(clock.now))
            // It names the deceased's account apart from the heir's address, and never the heir's own.
            #expect(try await Self.send(app, .POST, "api/v1/staff/requests", staff, json: [
                "right": "post-mortem", "channel": "email", "receivedAt": today, "name": "Anne Doe", "email": "anne@example.org",
            ]).status == .unprocessableEntity)
            #expect(try await Self.send(app, .POST, "api/v1/staff/requests", staff, json: [
                "right": "post-mortem", "channel": "email", "receivedAt": today, "name": "Anne Doe", "email": "anne@example.org",
                "concerning": "anne@example.org",
            ]).status == .unprocessableEntity)
            #expect(try await Self.send(app, .POST, "api/v1/staff/requests", staff, json: [
                "right": "access", "channel": "email", "receivedAt": today, "name": "Anne Doe", "email": "anne@example.org",
                "concerning": "jane.doe@example.org",
            ]).status == .unprocessableEntity)
            let death = try await Self.send(app, .POST, "api/v1/staff/requests", staff, json: [
                "right": "post-mortem", "channel": "email", "receivedAt": today, "name": "Anne Doe",
                "email": "anne@example.org", "concerning": "jane.doe@example.org",
            ])
            let deathID = try #require(Self.string(death.json["id"]))
            #expect(death.json["account"] == .bool(true))
            // An address proves nothing: not before the heir's identity (and the death) is verified.
            #expect(try await Self.send(app, .GET, "api/v1/staff/requests/\(deathID)/directives", staff).status == .conflict)
            #expect(try await Self.send(app, .POST, "api/v1/staff/requests/\(deathID)/identity", staff, json: ["outcome": "verified"]).status == .ok)
            #expect(try await Self.send(app, .GET, "api/v1/staff/requests/\(deathID)/directives", staff).json["contact"] == .object(["name": .string("Anne Doe"), "email": .string("anne@example.org")]))
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "directives.read").count() == 1)
            // … and, once carried out, they are deleted.
            #expect(try await Self.send(app, .POST, "api/v1/staff/requests/\(deathID)/answer", staff, json: ["answer": "Directives exécutées."]).status == .ok)
            #expect(try await DirectiveRecord.query(on: app.db).count() == 0)
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "directives.executed").count() == 1)
            // Withdrawn when there are none: 409.
            #expect(try await Self.send(app, .DELETE, "api/v1/me/directives", tenant).status == .conflict)
            #expect(try await Self.send(app, .PUT, "api/v1/me/directives", tenant, json: ["choice": "keep"]).status == .created)
            #expect(try await Self.send(app, .DELETE, "api/v1/me/directives", tenant).status == .noContent)
        }
    }
}

extension HTTPHeaders {
    func adding(_ name: String, _ value: String) -> HTTPHeaders {
        var copy = self
        copy.replaceOrAdd(name: name, value: value)
        return copy
    }
}
