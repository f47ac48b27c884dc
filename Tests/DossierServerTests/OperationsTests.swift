@testable import DossierServer
import DossierCore
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// What an operator's tools read: readiness for a load balancer, metrics for Prometheus, and the
/// Global Privacy Control statement for browsers.
@Suite("Operations")
struct OperationsTests {
    struct Readiness: Decodable {
        struct Detail: Decodable { var code: String; var message: String }
        var status: String
        var database: String
        var keys: String
        var blobs: String
        var error: Detail?
    }

    @Test(arguments: TestDatabase.all)
    func readinessSaysWhichPartDoesNotAnswer(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.testing().test(.GET, "health/ready") { res in
                #expect(res.status == .ok)
                #expect(res.headers.first(name: .cacheControl) == "no-store")
                let body = try res.content.decode(Readiness.self)
                #expect((body.status, body.database, body.keys, body.blobs) == ("ready", "ok", "ok", "ok"))
            }
            // The blob directory gone (a mount lost): not ready, and it says which part.
            let blobs = app.dossier.configuration.blobDirectory
            let moved = blobs.deletingLastPathComponent().appendingPathComponent("blobs-away")
            try FileManager.default.moveItem(at: blobs, to: moved)
            try await app.testing().test(.GET, "health/ready") { res in
                #expect(res.status == .serviceUnavailable)
                let body = try res.content.decode(Readiness.self)
                #expect((body.status, body.database, body.keys, body.blobs) == ("unavailable", "ok", "ok", "unavailable"))
                #expect(body.error?.code == "not-ready")
                #expect(body.error?.message == "Not ready: the blob store does not answer.")
            }
            // Liveness is not readiness: the process still answers.
            try await app.testing().test(.GET, "health") { res in #expect(res.status == .ok) }
            try FileManager.default.moveItem(at: moved, to: blobs)
            try await app.testing().test(.GET, "health/ready") { res in #expect(res.status == .ok) }
        }
    }

    @Test func metricsCountRequestsByRoutePatternAndReadTheDeadlines() async throws {
        try await withDossier(on: .sqlite) { app in
            let token = SecretToken.generate()
            try await app.testing().test(.GET, "health") { res in #expect(res.status == .ok) }
            try await app.testing().test(.GET, "s/\(token)") { res in #expect(res.status == .notFound) }
            try await app.testing().test(.GET, "no/such/page/\(token)") { res in #expect(res.status == .notFound) }
            try await app.testing().test(.GET, "metrics") { res in
                #expect(res.status == .ok)
                #expect(res.headers.contentType?.type == "text" && res.headers.contentType?.subType == "plain")
                #expect(res.headers.contentType?.parameters["version"] == "0.0.4")
                let text = res.body.string
                #expect(text.contains(#"http_requests_total{method="GET",path="/health",status="200"}"#))
                #expect(text.contains(#"http_requests_total{method="GET",path="/s/:token",status="404"}"#))
                #expect(text.contains(#"http_requests_total{method="undefined",path="vapor_route_undefined",status="404"}"#))
                #expect(text.contains("http_request_duration_seconds_bucket{"))
                // Patterns only: no token, id or address reaches a label.
                #expect(!text.contains(token))
                #expect(text.contains(#"dossier_register_info{version="\#(app.dossier.register.register.version)"} 1"#))
                // Every line a comment or `name{labels} value`.
                for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                    #expect(line.split(separator: " ").count == 2, "\(line)")
                    #expect(Double(line.split(separator: " ").last ?? "") != nil, "\(line)")
                }
            }
        }
    }

    @Test func withATokenMetricsAnswerOnlyItsBearer() async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: .sqlite, clock: clock, configure: { $0.metricsToken = "scrape-secret-0123456789" }) { app in
            try await app.testing().test(.GET, "metrics") { res in
                #expect(res.status == .unauthorized)
                #expect(res.headers.first(name: .wwwAuthenticate) == "Bearer")
            }
            var wrong = HTTPHeaders()
            wrong.bearerAuthorization = .init(token: "scrape-secret-0123456789-wrong")
            try await app.testing().test(.GET, "metrics", headers: wrong) { res in
                #expect(res.status == .unauthorized)
                let body = try res.content.decode(APIErrorMiddleware.Body.self)
                #expect(body.error.code == "unauthorized")
            }
            // The scraper with the token also gets the gauges read from the database: a request
            // filed and past its due date is open and overdue.
            let tenant = try await SharingTests.tenant(app)
            try await app.testing().test(.POST, "api/v1/me/requests", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["right": "access"])
            }, afterResponse: { res in #expect(res.status == .created, "\(res.body.string)") })
            var right = HTTPHeaders()
            right.bearerAuthorization = .init(token: "scrape-secret-0123456789")
            try await app.testing().test(.GET, "metrics", headers: right) { res in
                #expect(res.status == .ok)
                #expect(res.body.string.contains(#"dossier_rights_requests{state="open"} 1"#))
                #expect(res.body.string.contains(#"dossier_rights_requests{state="overdue"} 0"#))
                #expect(res.body.string.contains(#"dossier_outbox_messages{state="failed"} 0"#))
            }
            clock.advance(by: 40 * 86_400)
            try await app.testing().test(.GET, "metrics", headers: right) { res in
                #expect(res.body.string.contains(#"dossier_rights_requests{state="overdue"} 1"#))
            }
        }
    }

    @Test func theGPCStatementSaysTheSignalIsHonoured() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.testing().test(.GET, ".well-known/gpc.json") { res in
                #expect(res.status == .ok)
                #expect(res.headers.contentType == .json)
                struct Support: Decodable { var gpc: Bool; var lastUpdate: String }
                let support = try res.content.decode(Support.self)
                #expect(support.gpc)
                #expect(support.lastUpdate == app.dossier.register.register.effectiveDate)
                #expect(support.lastUpdate.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil)
            }
        }
    }
}

extension OperationsTests {
    /// `Sec-GPC: 1` at sign-in is an objection to direct marketing (GDPR Art. 21(5)); without it,
    /// nothing is recorded.
    @Test(arguments: TestDatabase.all)
    func aBrowserSendingGlobalPrivacyControlObjectsToDirectMarketing(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp(email: "gpc@example.org", verified: true)
            try await app.signUp(email: "plain@example.org", verified: true)
            func signIn(_ email: String, gpc: Bool) async throws -> HTTPHeaders {
                var token = ""
                var headers: HTTPHeaders = gpc ? ["Sec-GPC": "1"] : [:]
                try await app.testing().test(.POST, "api/v1/sessions", headers: headers, beforeRequest: { req in
                    try req.content.encode(["email": email, "password": "correct horse battery staple"])
                }, afterResponse: { res in
                    #expect(res.status == .created, "\(res.body.string)")
                    token = try res.content.decode([String: String].self)["token"] ?? ""
                })
                headers = [:]
                headers.bearerAuthorization = .init(token: token)
                return headers
            }
            func objections(_ auth: HTTPHeaders) async throws -> [String: String] {
                var found: [String: String] = [:]
                try await app.testing().test(.GET, "api/v1/me/objections", headers: auth) { res in
                    #expect(res.status == .ok)
                    let list = try res.content.decode([[String: String?]].self)
                    for item in list { found[(item["purpose"] ?? "") ?? ""] = (item["outcome"] ?? "") ?? "" }
                }
                return found
            }
            let marketing = app.dossier.register.register.purposes.filter { ObjectionRules.outcome(for: $0) == .upheld }.map(\.id).sorted()
            #expect(!marketing.isEmpty)
            let withSignal = try await signIn("gpc@example.org", gpc: true)
            #expect(try await objections(withSignal) == Dictionary(uniqueKeysWithValues: marketing.map { ($0, "upheld") }))
            // Recorded as the signal's, not as a form's.
            let recorded = try await AuditRecord.query(on: app.db).filter(\.$action == "objection.recorded").all()
            #expect(recorded.count == marketing.count)
            #expect(recorded.allSatisfy { $0.details.contains("\"source\":\"gpc\"") })
            // Again: nothing new, nothing doubled, nothing written.
            _ = try await signIn("gpc@example.org", gpc: true)
            #expect(try await ObjectionRecord.query(on: app.db).count() == marketing.count)
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "objection.recorded").count() == marketing.count)
            let without = try await signIn("plain@example.org", gpc: false)
            #expect(try await objections(without).isEmpty)
        }
    }
}
