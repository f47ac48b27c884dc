@testable import DossierServer
import DossierCore
import DossierTestSupport
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// Restriction of processing (GDPR Art. 18), on SQLite and PostgreSQL: while it lasts, every path
/// that would process the data is refused (links, the organisation inbox, review, changes,
/// sharing), nothing is stored, the owner still reads and exports; lifted, all works again.
@Suite("Restriction")
struct RestrictionTests {
    static func status(_ app: Application, _ method: HTTPMethod, _ path: String, _ headers: HTTPHeaders,
                       body: [String: String]? = nil) async throws -> HTTPStatus {
        var status = HTTPStatus.internalServerError
        try await app.testing().test(method, path, headers: headers, beforeRequest: { req in
            if let body { try req.content.encode(body) }
        }, afterResponse: { res in status = res.status })
        return status
    }

    @Test(arguments: TestDatabase.all)
    func restrictionBlocksEveryPathThatWouldProcessTheData(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let tenant = try await SharingTests.tenant(app)
            var guarantor: UUID?
            try await app.testing().test(.POST, "api/v1/me/guarantors", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["kind": "organisation", "name": "Visale"])
            }, afterResponse: { res in guarantor = try res.content.decode(RentalFileController.GuarantorBody.self).id })
            // The agency has an organisation account: the link is in its inbox.
            let agency = try await OrganisationTests.agency(app)
            let (share, token, _) = try await SharingTests.share(app, tenant)
            #expect(try await SharingTests.get(app, "s/\(token)").status == .ok)
            #expect(try await OrganisationTests.inbox(app, agency.member).count == 1)
            let shareID = try #require(share?.id)
            var code = ""
            try await app.testing().test(.POST, "api/v1/me/certificates", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["rent": 800])
            }, afterResponse: { res in code = try res.content.decode(CertificatesController.CertificateBody.self).code })
            #expect(try await CertificateTests.check(app, code).verdict == "current")
            _ = try await StaffAccounts.create(on: app, email: try #require(EmailAddress("op@example.org")), password: "a long staff passphrase",
                                               firstName: "O", lastName: "Perator", role: .operator_, language: .en)
            let staff: HTTPHeaders = ["Authorization": "Bearer \(try await app.signIn(email: "op@example.org", password: "a long staff passphrase"))"]
            // Another tenant's file is not concerned.
            let other = try await SharingTests.tenant(app, email: "other@example.org")

            #expect(try await Self.status(app, .POST, "api/v1/me/restriction", tenant.auth) == .created)
            #expect(try await Self.status(app, .POST, "api/v1/me/restriction", tenant.auth) == .ok)
            let state = try await SharingTests.get(app, "api/v1/me/restriction", headers: tenant.auth)
            #expect(try JSONDecoder().decode([String: JSONValue].self, from: state.body)["restricted"] == .bool(true))
            // The recipient is told (Art. 19).
            #expect(try await app.outboxTexts(to: "contact@agence-dupont.example").contains { $0.contains("restricted") })

            // Recipients: the link and its downloads refuse.
            #expect(try await SharingTests.get(app, "s/\(token)").status == .forbidden)
            #expect(try await SharingTests.get(app, "s/\(token)/file.zip").status == .forbidden)
            #expect(try await SharingTests.get(app, "s/\(token)/file.pdf").status == .forbidden)
            // The organisation's inbox no longer lists it, nor opens it; the certificate's check answers as for an unknown code.
            #expect(try await OrganisationTests.inbox(app, agency.member).isEmpty)
            #expect(try await SharingTests.get(app, "api/v1/organisation/inbox/\(shareID)", headers: agency.member).status == .forbidden)
            #expect(try await CertificateTests.check(app, code).status == .notFound)
            // Staff: not in the queue, not readable, no decision.
            try await app.testing().test(.GET, "api/v1/staff/reviews", headers: staff) { res in
                #expect(res.status == .ok)
                let queue = try res.content.decode([StaffController.QueueEntry].self)
                #expect(!queue.contains { $0.document == tenant.payslip })
                #expect(queue.contains { $0.document == other.payslip })
            }
            #expect(try await Self.status(app, .GET, "api/v1/staff/documents/\(tenant.payslip)/content", staff) == .forbidden)
            #expect(try await Self.status(app, .POST, "api/v1/staff/documents/\(tenant.payslip)/review", staff,
                                          body: ["decision": "validated"]) == .forbidden)
            // The owner: no change, no new sharing; and nothing stored.
            let documentsBefore = try await Document.query(on: app.db).count()
            #expect(try await Self.status(app, .PATCH, "api/v1/me/profile", tenant.auth, body: ["phone": "0601020304"]) == .conflict)
            try await app.upload(token: tenant.token, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                #expect(res.status == .conflict, "\(res.body.string)")
            }
            #expect(try await Document.query(on: app.db).count() == documentsBefore)
            #expect(try await Self.status(app, .DELETE, "api/v1/me/documents/\(tenant.photo)", tenant.auth) == .conflict)
            #expect(try await Document.find(tenant.photo, on: app.db) != nil)
            #expect(try await Self.status(app, .POST, "api/v1/me/guarantors", tenant.auth, body: ["kind": "organisation", "name": "Garantme"]) == .conflict)
            #expect(try await Self.status(app, .DELETE, "api/v1/me/guarantors/\(try #require(guarantor))", tenant.auth) == .conflict)
            _ = try await SharingTests.share(app, tenant, status: .conflict)
            #expect(try await Share.query(on: app.db).count() == 1)
            #expect(try await Self.status(app, .POST, "api/v1/me/certificates", tenant.auth, body: [:]) == .conflict)
            #expect(try await FileCertificateRecord.query(on: app.db).count() == 1)
            let profile = try await SharingTests.get(app, "api/v1/me/profile", headers: tenant.auth)
            #expect(!String(decoding: profile.body, as: UTF8.self).contains("0601020304"))
            // What still works: the owner's rights, and less processing.
            #expect(try await SharingTests.get(app, "api/v1/me/access", headers: tenant.auth).status == .ok)
            #expect(try await SharingTests.get(app, "api/v1/me/export", headers: tenant.auth).status == .ok)
            #expect(try await SharingTests.get(app, "api/v1/me/documents/\(tenant.payslip)/content", headers: tenant.auth).status == .ok)
            // The other tenant's file is processed as usual.
            #expect(try await Self.status(app, .PATCH, "api/v1/me/profile", other.auth, body: ["phone": "0611111111"]) == .ok)

            // Lifted: all works again.
            #expect(try await Self.status(app, .DELETE, "api/v1/me/restriction", tenant.auth) == .noContent)
            #expect(try await Self.status(app, .DELETE, "api/v1/me/restriction", tenant.auth) == .conflict)
            #expect(try await SharingTests.get(app, "s/\(token)").status == .ok)
            #expect(try await OrganisationTests.inbox(app, agency.member).count == 1)
            #expect(try await CertificateTests.check(app, code).status == .ok)
            #expect(try await Self.status(app, .PATCH, "api/v1/me/profile", tenant.auth, body: ["phone": "0601020304"]) == .ok)
            #expect(try await Self.status(app, .GET, "api/v1/staff/documents/\(tenant.payslip)/content", staff) == .ok)
            // Restricted again, the person can still erase everything.
            #expect(try await Self.status(app, .POST, "api/v1/me/restriction", tenant.auth) == .created)
            #expect(try await ErasureTests.erase(app, tenant.auth) != nil)
            #expect(try await RestrictedSubject.query(on: app.db).count() == 0)
        }
    }

    @Test func onlyATenantRestrictsFromTheAccount() async throws {
        try await withDossier(on: .sqlite) { app in
            _ = try await StaffAccounts.create(on: app, email: try #require(EmailAddress("op@example.org")), password: "a long staff passphrase",
                                               firstName: "O", lastName: "Perator", role: .operator_, language: .en)
            let staff: HTTPHeaders = ["Authorization": "Bearer \(try await app.signIn(email: "op@example.org", password: "a long staff passphrase"))"]
            #expect(try await Self.status(app, .POST, "api/v1/me/restriction", staff) == .conflict)
            // An address not yet proved: whoever signed up with it cannot freeze what its owner will claim.
            try await app.signUp(email: "squatter@example.org")
            let squatter: HTTPHeaders = ["Authorization": "Bearer \(try await app.signIn(email: "squatter@example.org"))"]
            #expect(try await Self.status(app, .POST, "api/v1/me/restriction", squatter) == .forbidden)
            // Nor consent or object in its owner's name.
            #expect(try await Self.status(app, .POST, "api/v1/me/consents", squatter, body: ["purpose": "newsletters"]) == .forbidden)
            #expect(try await Self.status(app, .POST, "api/v1/me/objections", squatter, body: ["purpose": "newsletters"]) == .forbidden)
            #expect(try await ConsentRecord.query(on: app.db).count() == 0)
            #expect(try await ObjectionRecord.query(on: app.db).count() == 0)
            #expect(try await RestrictedSubject.query(on: app.db).count() == 0)
        }
    }
}
