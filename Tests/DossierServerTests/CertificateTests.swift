@testable import DossierServer
import DossierCore
import DossierTestSupport
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// File certificates: the facts printed (read back from the PDF), the public check for genuine,
/// tampered, outdated, revoked and expired codes, and that the check tells nothing more.
@Suite("File certificates")
struct CertificateTests {
    static func issue(_ app: Application, _ auth: HTTPHeaders, rent: Int?) async throws -> CertificatesController.CertificateBody {
        var body: CertificatesController.CertificateBody?
        try await app.testing().test(.POST, "api/v1/me/certificates", headers: auth, beforeRequest: { req in
            try req.content.encode(CertificatesController.NewCertificateBody(rent: rent))
        }, afterResponse: { res in
            #expect(res.status == .created, "\(res.body.string)")
            body = try res.content.decode(CertificatesController.CertificateBody.self)
        })
        return try #require(body)
    }

    static func check(_ app: Application, _ code: String) async throws -> (status: HTTPStatus, verdict: String?, page: String) {
        let answer = try await SharingTests.get(app, "verify/\(code)?lang=en")
        let page = String(decoding: answer.body, as: UTF8.self)
        let verdict = page.range(of: #"data-status="([a-z]+)""#, options: .regularExpression).map {
            String(page[$0].dropFirst(#"data-status=""#.count).dropLast())
        }
        return (answer.status, verdict, page)
    }

    @Test(arguments: TestDatabase.all)
    func aCertificateStatesVerifiedFactsAndItsCheckSaysOnlyWhereItStands(database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            let tenant = try await SharingTests.tenant(app)
            try await app.testing().test(.PATCH, "api/v1/me/profile", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["monthlyIncome": 3210], as: .json)
            }, afterResponse: { res in #expect(res.status == .ok) })
            // Staff validated the tax notice (a proof of income) and the identity card.
            for id in [tenant.payslip, tenant.photo] {
                let document = try #require(try await Document.find(id, on: app.db))
                document.status = .validated
                try await document.save(on: app.db)
            }
            let certificate = try await Self.issue(app, tenant.auth, rent: 900)
            #expect(CertificateCode.normalized(certificate.code) != nil && certificate.code.count == 14)
            #expect(certificate.status == .current && certificate.url.hasSuffix("/verify/\(certificate.code)"))

            var pdf = Data()
            try await app.testing().test(.GET, String(certificate.pdf.dropFirst()), headers: tenant.auth) { res in
                #expect(res.status == .ok && res.headers.contentType == .pdf)
                pdf = Data(buffer: res.body)
            }
            let text = try SharingTests.text(of: pdf)
            for fact in ["Jane Doe", "3 210 €", "900 €", "3.57 times the rent", "A proof of income was checked by our staff",
                         "Last or second-to-last tax notice", "identity card", "Guarantor: none", certificate.code, certificate.url] {
                #expect(text.contains(fact), "\(fact) in \(text)")
            }
            #expect(!text.contains("rent receipts"))

            // Genuine and current, whatever the case or the dashes; one character off is not genuine.
            #expect(try await Self.check(app, certificate.code).verdict == "current")
            #expect(try await Self.check(app, certificate.code.lowercased().replacingOccurrences(of: "-", with: "")).verdict == "current")
            var tampered = Array(certificate.code)
            tampered[0] = tampered[0] == "A" ? "B" : "A"
            let forged = try await Self.check(app, String(tampered))
            #expect(forged.status == .notFound && forged.verdict == "unknown")
            // The check says nothing about the tenant; on request, what the certificate states (to
            // compare with a document that could have been altered), still without the name.
            let genuine = try await Self.check(app, certificate.code)
            for secret in ["Jane", "Doe", "3210", "3 210", "900", "tax", "jane.doe@example.org"] {
                #expect(!genuine.page.contains(secret), "\(secret)")
            }
            let detailed = String(decoding: try await SharingTests.get(app, "verify/\(certificate.code)?details=1&lang=en").body, as: UTF8.self)
            #expect(detailed.contains("3 210 €") && detailed.contains("3.57 times the rent") && detailed.contains("tax notice"))
            #expect(!detailed.contains("Jane") && !detailed.contains("Doe") && !detailed.contains("jane.doe@example.org"))

            // The file changes: the certificate is outdated, not forged.
            try await app.testing().test(.PATCH, "api/v1/me/profile", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["monthlyIncome": 2500], as: .json)
            }, afterResponse: { res in #expect(res.status == .ok) })
            #expect(try await Self.check(app, certificate.code).verdict == "outdated")

            // Revoked.
            let second = try await Self.issue(app, tenant.auth, rent: nil)
            try await app.testing().test(.DELETE, "api/v1/me/certificates/\(second.id)", headers: tenant.auth) { res in #expect(res.status == .noContent) }
            #expect(try await Self.check(app, second.code).verdict == "revoked")

            // Expired 3 months after it was issued.
            let third = try await Self.issue(app, tenant.auth, rent: nil)
            clock.advance(by: CertificateStatus.validity.added(to: clock.now).timeIntervalSince(clock.now) - 1)
            #expect(try await Self.check(app, third.code).verdict == "current")
            clock.advance(by: 1)
            #expect(try await Self.check(app, third.code).verdict == "expired")
        }
    }

    @Test(arguments: TestDatabase.all)
    func badRentsAndGuessedCodesAreRefused(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let tenant = try await SharingTests.tenant(app)
            for rent in [0, -5, 100_001] {
                try await app.testing().test(.POST, "api/v1/me/certificates", headers: tenant.auth, beforeRequest: { req in
                    try req.content.encode(["rent": rent])
                }, afterResponse: { res in #expect(res.status == .unprocessableEntity, "\(rent)") })
            }
            #expect(try await FileCertificateRecord.query(on: app.db).count() == 0)
            // Guessing codes is slowed down like guessing links.
            for _ in 0..<ShareRules.guessing.maximumFailures {
                #expect(try await Self.check(app, CertificateCode.generate()).status == .notFound)
            }
            #expect(try await SharingTests.get(app, "verify/\(CertificateCode.generate())").status == .tooManyRequests)
        }
    }
}
