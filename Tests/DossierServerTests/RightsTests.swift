@testable import DossierServer
import DossierCore
import DossierTestSupport
import Fluent
import SQLKit
import Foundation
import Testing
import Vapor
import VaporTesting

/// The data-subject rights, on SQLite and PostgreSQL: what the right of access shows, item by
/// item, checked against the database and the register's rules.
@Suite("Data-subject rights")
struct RightsTests {
    static func access(_ app: Application, _ auth: HTTPHeaders) async throws -> RightsController.AccessBody {
        var body: RightsController.AccessBody?
        try await app.testing().test(.GET, "api/v1/me/access", headers: auth) { res in
            #expect(res.status == .ok, "\(res.body.string)")
            #expect(res.headers.first(name: .cacheControl) == "no-store")
            body = try res.content.decode(RightsController.AccessBody.self)
        }
        return try #require(body)
    }

    @Test(arguments: TestDatabase.all)
    func accessShowsEveryItemWithItsPurposeRecipientsAndDeletionDay(database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            let tenant = try await SharingTests.tenant(app)
            try await app.testing().test(.PATCH, "api/v1/me/profile", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["monthlyIncome": 2500, "surface": 40])
            }, afterResponse: { res in #expect(res.status == .ok, "\(res.body.string)") })
            try await app.testing().test(.POST, "api/v1/me/guarantors", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["kind": "organisation", "name": "Visale"])
            }, afterResponse: { res in #expect(res.status == .created) })
            let (share, token, _) = try await SharingTests.share(app, tenant)
            #expect(try await SharingTests.get(app, "s/\(token)").status == .ok)
            try await app.testing().test(.POST, "api/v1/me/certificates", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["rent": 800])
            }, afterResponse: { res in #expect(res.status == .created) })
            // Someone else's file: none of it in the tenant's answer.
            let other = try await SharingTests.tenant(app, email: "other@example.org")

            clock.advance(by: 86400)
            let report = try await Self.access(app, tenant.auth)
            let kinds = Dictionary(grouping: report.entries, by: \.kind)
            #expect(kinds["account"]?.count == 1)
            #expect(kinds["profile"]?.count == 1)
            #expect(kinds["document"]?.count == 3)
            #expect(kinds["guarantor"]?.count == 1)
            #expect(kinds["share"]?.first?.id == share?.id.uuidString.lowercased())
            #expect(kinds["share-accesses"]?.first?.label.contains("(1)") == true)
            #expect(kinds["certificate"]?.count == 1)
            #expect((kinds["connection"]?.count ?? 0) >= 1)
            #expect(!report.entries.contains { $0.id == other.payslip.uuidString.lowercased() })

            // Each explained by the register: the documents are kept 12 months from collection,
            // for the services, and may go to agencies, landlords and insurers.
            let document = try #require(kinds["document"]?.first { $0.id == tenant.payslip.uuidString.lowercased() })
            let stored = try #require(try await Document.find(tenant.payslip, on: app.db))
            #expect(document.purpose.id == "services")
            #expect(document.legalBases.isEmpty == false)
            #expect(Set(document.recipients.map(\.id)).isSuperset(of: ["agencies", "landlords", "insurers"]))
            let documentRule = try #require(document.retention.first)
            #expect(documentRule.category.id == "supporting-documents")
            #expect(documentRule.endsAt == RetentionPeriod(12, .month).added(to: stored.createdAt))
            #expect(documentRule.then == "delete")
            // The connection log: 6 months from each entry.
            // (The tenant's: the other tenant signed in at the same instant of the test's clock.)
            let tenantID = try #require(try await Account.query(on: app.db).filter(\.$emailKey == "jane.doe@example.org").first()?.requireID())
            let event = try #require(try await ConnectionEvent.query(on: app.db).filter(\.$account.$id == tenantID)
                .sort(\.$occurredAt, .descending).first())
            let connection = try #require(kinds["connection"]?.first { $0.id == event.id?.uuidString.lowercased() })
            #expect(connection.retention.first?.endsAt == RetentionPeriod(6, .month).added(to: event.occurredAt))
            // The account: 1 year from the last activity, then archived 5 years.
            let account = try #require(try await Account.query(on: app.db).filter(\.$emailKey == "jane.doe@example.org").first())
            let identification = try #require(kinds["account"]?.first?.retention.first)
            #expect(identification.endsAt == RetentionPeriod(1, .year).added(to: account.lastActivityAt))
            #expect(identification.then == "archive")
            #expect(identification.archivedUntil == RetentionPeriod(5, .year).added(to: RetentionPeriod(1, .year).added(to: account.lastActivityAt)))
            // The profile's income is not archived (the register excludes it).
            let income = try #require(kinds["profile"]?.first?.retention.first { $0.category.id == "economic-financial" })
            #expect(income.then == "delete" && income.archivedUntil == nil)

            // The page says the same.
            let (browser, _, _) = try await app.browserSignedIn()
            var page = ""
            try await app.testing().test(.GET, "account/data?lang=en", headers: browser.cookieHeader) { res in
                #expect(res.status == .ok)
                page = res.body.string
            }
            #expect(page.contains("data-kind=\"document\"") && page.contains("data-kind=\"connection\""))
            #expect(page.contains(ShareWatermark.day(of: documentRule.endsAt ?? .distantPast)))
        }
    }

    /// The entries of a ZIP, read by Python's zipfile (which checks every CRC).
    static func unzip(_ zip: Data) throws -> [String: Data] {
        let script = "import base64, io, json, sys, zipfile\nz = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))\nassert z.testzip() is None\n"
            + "print(json.dumps({n: base64.b64encode(z.read(n)).decode() for n in z.namelist()}))"
        let out = try SharingTests.run("/usr/bin/env", ["python3", "-c", script], input: zip)
        let entries = try JSONDecoder().decode([String: String].self, from: out)
        return entries.compactMapValues { Data(base64Encoded: $0) }
    }

    @Test(arguments: TestDatabase.all)
    func theExportHoldsTheDataAndTheOriginalDocuments(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let tenant = try await SharingTests.tenant(app)
            try await app.testing().test(.PATCH, "api/v1/me/profile", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["monthlyIncome": 2500])
            }, afterResponse: { res in #expect(res.status == .ok) })
            try await app.testing().test(.POST, "api/v1/me/guarantors", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["kind": "organisation", "name": "Visale"])
            }, afterResponse: { res in #expect(res.status == .created) })
            let (share, token, _) = try await SharingTests.share(app, tenant)
            #expect(try await SharingTests.get(app, "s/\(token)").status == .ok)
            let other = try await SharingTests.tenant(app, email: "other@example.org")
            // A consent, an objection, a request and directives: the rights exercised are the person's data too.
            for (path, body) in [("api/v1/me/consents", ["purpose": "community"]), ("api/v1/me/objections", ["purpose": "newsletters"]),
                                 ("api/v1/me/requests", ["right": "rectification", "details": "Mon nom est mal orthographié."])] {
                try await app.testing().test(.POST, path, headers: tenant.auth, beforeRequest: { req in try req.content.encode(body) },
                                             afterResponse: { res in #expect(res.status == .created, "\(path): \(res.body.string)") })
            }
            try await app.testing().test(.PUT, "api/v1/me/directives", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["choice": "erase", "instructions": "Tout effacer."])
            }, afterResponse: { res in #expect(res.status == .created) })

            let answer = try await SharingTests.get(app, "api/v1/me/export", headers: tenant.auth)
            #expect(answer.status == .ok)
            #expect(answer.type == "application/zip")
            let entries = try Self.unzip(answer.body)
            for name in ["data.json", "data.schema.json", "documents.csv", "connections.csv", "share-accesses.csv", "consents.csv"] {
                #expect(entries[name] != nil, "\(name) missing from \(entries.keys.sorted())")
            }
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let data = try decoder.decode(ExportService.ExportedData.self, from: try #require(entries["data.json"]))
            #expect(data.format == "dossier-export" && data.version == 2)
            #expect(data.consents.map(\.purpose) == ["community"] && data.objections.map(\.outcome) == ["upheld"])
            #expect(data.requests.first?.details == "Mon nom est mal orthographié." && data.requests.first?.dueDay.count == 10)
            #expect(data.directives?.instructions == "Tout effacer.")
            #expect(data.account.email == "jane.doe@example.org")
            #expect(data.profile.monthlyIncome == 2500)
            #expect(data.guarantors.map(\.name) == ["Visale"])
            #expect(Set(data.documents.map(\.id)) == [tenant.payslip, tenant.photo, tenant.rentReceipt])
            #expect(!data.documents.contains { $0.id == other.payslip })
            #expect(data.shares.map(\.id) == [try #require(share?.id)])
            #expect(data.shares.first?.recipient.email == "contact@agence-dupont.example")
            #expect(data.shares.first?.accesses.map(\.action) == ["view"])
            #expect(data.connections.isEmpty == false)
            // The originals, decrypted, byte for byte, where data.json says they are.
            let payslip = try #require(data.documents.first { $0.id == tenant.payslip }?.files.first)
            #expect(entries[payslip.path] == (try upload("payslip.pdf")))
            #expect(payslip.name == "payslip.pdf")
            let photo = try #require(data.documents.first { $0.id == tenant.photo }?.files.first)
            #expect(entries[photo.path]?.count == photo.size)
            // The tables: a header and a line per document.
            let csv = String(decoding: try #require(entries["documents.csv"]), as: UTF8.self)
            #expect(csv.hasPrefix("id,type,category,status,source,received_at,created_at,files\r\n"))
            #expect(csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 4)
            // The schema in the ZIP is the one in the repository.
            let shipped = try? Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../docs/export.schema.json").standardized)
            if entries["data.schema.json"] != shipped {
                let written = FileManager.default.temporaryDirectory.appendingPathComponent("export.schema.json")
                try entries["data.schema.json"]?.write(to: written)
                Issue.record("docs/export.schema.json differs from the schema the server ships (written to \(written.path)): replace it")
            }
            // Ten an hour, then 429.
            for _ in 0..<9 { #expect(try await SharingTests.get(app, "api/v1/me/export", headers: tenant.auth).status == .ok) }
            #expect(try await SharingTests.get(app, "api/v1/me/export", headers: tenant.auth).status == .tooManyRequests)
        }
    }

    /// The holdings read (the access view's, the erasure's) is the same statement for everyone:
    /// PostgreSQL prepares it once a connection and runs it again with other values, with the
    /// same rows as the first time.
    @Test(arguments: TestDatabase.all)
    func theHoldingsReadIsPreparedOnceAConnection(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            _ = try await SharingTests.tenant(app)
            _ = try await SharingTests.tenant(app, email: "other@example.org")
            let accounts = try await Account.query(on: app.db).filter(\.$role == .tenant).sort(\.$createdAt).all()
            #expect(accounts.count == 2)
            try await app.db.transaction { db in
                let service = AccessService(database: db, services: app.dossier, logger: app.logger)
                let first = try await service.holdings(of: accounts[0])
                let second = try await service.holdings(of: accounts[1])
                let again = try await service.holdings(of: accounts[0])
                #expect(first.documents.count == 3 && second.documents.count == 3)
                #expect(Set(first.documents.map(\.id)).isDisjoint(with: second.documents.map(\.id)))
                #expect(again.documents.map(\.id) == first.documents.map(\.id))
                #expect(again.connections.map(\.id) == first.connections.map(\.id))
                guard case .postgres = database, let sql = db as? any SQLDatabase else { return }
                // One statement prepared on this connection, run three times.
                let prepared = try await sql.raw("""
                    SELECT "generic_plans" + "custom_plans" AS "runs" FROM "pg_prepared_statements" WHERE "name" LIKE 'dossier.holdings.%'
                    """).all(decodingColumn: "runs", as: Int.self)
                #expect(prepared == [3])
                // Another text under the same name is refused, never run under its plan.
                await #expect(throws: PreparedQuery.Mismatch.self) {
                    _ = try await PreparedQuery.rows("SELECT 1", as: AccessService.HoldingsRead.self, on: db)
                }
            }
        }
    }

    @Test func originalNamesAreSafeZipPathsOnAnySystem() {
        #expect(ExportService.safeName("../../etc/passwd") == ".._.._etc_passwd")
        #expect(ExportService.safeName("a:b*c?d\"e<f>g|h\\i") == "a_b_c_d_e_f_g_h_i")
        #expect(ExportService.safeName("..") == "file")
        #expect(ExportService.safeName(" \u{202E}fdp.exe ") == "_fdp.exe")
        #expect(ExportService.safeName(String(repeating: "é", count: 100)).utf8.count <= 120)
    }

    @Test func theWebExportIsAFormNotALink() async throws {
        try await withDossier(on: .sqlite) { app in
            _ = try await SharingTests.tenant(app)
            let (browser, csrf, _) = try await app.browserSignedIn()
            // A GET (a link another site could follow) exports nothing.
            #expect(try await SharingTests.get(app, "account/export", headers: browser.cookieHeader).status == .methodNotAllowed)
            var headers = browser.cookieHeader
            headers.contentType = .urlEncodedForm
            try await app.testing().test(.POST, "account/export", headers: headers, body: .init(string: "csrf=wrong")) { res in
                #expect(res.status == .forbidden)
            }
            try await app.testing().test(.POST, "account/export", headers: headers, body: .init(string: browser.form(["csrf": csrf]))) { res in
                #expect(res.status == .ok)
                #expect(res.headers.first(name: .contentType) == "application/zip")
            }
        }
    }

    @Test func csvCellsThatASpreadsheetWouldRunAreQuoted() {
        let table = CSV.table(["agent"], [["=HYPERLINK(\"x\")"], ["+1"], ["Mozilla, 5.0"], ["plain"]])
        #expect(table == "agent\r\n\"'=HYPERLINK(\"\"x\"\")\"\r\n'+1\r\n\"Mozilla, 5.0\"\r\nplain\r\n")
    }
}
