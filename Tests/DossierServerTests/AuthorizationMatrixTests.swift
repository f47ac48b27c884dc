@testable import DossierServer
import DossierCore
import DossierTestSupport
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// The authorization matrix, generated from the route table: every route, called as every role
/// with ids that belong to someone else, answers as its declared access says (`RouteAccess`,
/// next to each route). Allowed roles get past authorization; the others get 401, 403 or 404,
/// and for a route that names an object, exactly what a missing object gets: they learn nothing.
@Suite("Authorization matrix")
struct AuthorizationMatrixTests {
    enum Role: String, CaseIterable, Sendable {
        case anonymous, tenant, otherTenant, coTenant, operator_, dpo, admin
        /// Someone who was given the tenant's share link, and nothing else (no account).
        case linkHolder
        /// A member of the agency the tenant shared with (by its address), and its administrator.
        case orgMember, orgAdmin
    }

    /// Who the declaration lets in.
    static func allowed(_ access: RouteAccess) -> Set<Role> {
        switch access {
        case .anyone: Set(Role.allCases)
        case .signedIn: Set(Role.allCases).subtracting([.anonymous, .linkHolder])
        case .owner: [.tenant]
        case .partner: [.coTenant]
        case .staff: [.operator_, .dpo, .admin]
        // The token in the path is the credential: whoever holds the link, account or not.
        case .linkHolder: Set(Role.allCases)
        case .organisationMember: [.orgMember, .orgAdmin]
        case .organisationAdmin: [.orgAdmin]
        }
    }

    /// A tenant with a document, a guarantor and a couple application her partner was let into;
    /// another tenant; three staff; each signed in on the API and in a browser.
    struct World {
        var bearer: [Role: String] = [:]
        var browser: [Role: (cookies: HTTPHeaders, csrf: String)] = [:]
        /// The value of each path parameter: always someone's, never the caller's unless the
        /// caller is the one the declaration lets in.
        var parameters: [String: String] = [:]
        /// The same, but the document and the guarantor are the other tenant's: what a role let
        /// in must still not reach.
        var foreign: [String: String] = [:]
        /// The other tenant's share link token: a link that works, but not to the tenant's file.
        var otherToken = ""

        /// With `pending`, the partner asked to join and waits (for the routes that let a member
        /// in or turn one away); otherwise the tenant let them in.
        static func make(_ app: Application, pending: Bool = false) async throws -> World {
            var world = World()
            let password = "correct horse battery staple"
            let tenant = try await app.signUp(email: "tenant@example.org", firstName: "Tea", lastName: "Nant", verified: true)
            _ = try await app.signUp(email: "other@example.org", firstName: "Otto", lastName: "Ther", verified: true)
            let partner = try await app.signUp(email: "partner@example.org", firstName: "Pat", lastName: "Ner", verified: true)
            for (role, email) in [(Role.operator_, "operator@example.org"), (.dpo, "dpo@example.org"), (.admin, "admin@example.org")] {
                let kind: DossierCore.Role = role == .operator_ ? .operator_ : role == .dpo ? .dpo : .admin
                _ = try await StaffAccounts.create(on: app, email: try #require(EmailAddress(email)), password: password,
                                                   firstName: "S", lastName: role.rawValue, role: kind, language: .en)
            }
            // The agency the tenant shares with, by its address, with a member and an administrator.
            let agency = try await OrganisationTests.register(app, name: "Agence Dupont", email: "agence@example.org")
            // A pending invitation of the agency's, and one of another organisation's.
            let other = try await Organisations.create(on: app, name: "Autre Agence", kind: .agency)
            try await Organisations.invite(on: app, organisation: agency, email: "pending@example.org", admin: false, language: .en)
            try await Organisations.invite(on: app, organisation: other, email: "elsewhere@example.org", admin: false, language: .en)
            let invitation = try #require(try await OrganisationInvitation.query(on: app.db).filter(\.$organisation.$id == agency).first()?.id)
            let otherInvitation = try #require(try await OrganisationInvitation.query(on: app.db).filter(\.$organisation.$id == other).first()?.id)
            var colleague: UUID?
            for (email, admin) in [("agent@example.org", false), ("boss@example.org", true)] {
                let member = try await StaffAccounts.create(on: app, email: try #require(EmailAddress(email)), password: password, firstName: "M",
                                                            lastName: admin ? "Boss" : "Agent", role: .member, organisationID: agency, language: .en)
                if admin {
                    try await Account.query(on: app.db).filter(\.$id == member.id).set(\.$organisationAdmin, to: true).update()
                } else {
                    colleague = member.id
                }
            }
            let emails: [Role: String] = [.tenant: "tenant@example.org", .otherTenant: "other@example.org", .coTenant: "partner@example.org",
                                          .operator_: "operator@example.org", .dpo: "dpo@example.org", .admin: "admin@example.org",
                                          .orgMember: "agent@example.org", .orgAdmin: "boss@example.org"]
            for (role, email) in emails {
                world.bearer[role] = try await app.signIn(email: email, password: password)
                let signedIn = try await app.browserSignedIn(email: email, password: password)
                world.browser[role] = (signedIn.browser.cookieHeader, signedIn.csrf)
            }
            let tenantAuth: HTTPHeaders = ["Authorization": "Bearer \(world.bearer[.tenant]!)"]
            let otherAuth: HTTPHeaders = ["Authorization": "Bearer \(world.bearer[.otherTenant]!)"]
            var otherDocument: UUID?
            try await app.upload(token: world.bearer[.otherTenant]!, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                otherDocument = try res.content.decode(RentalFileController.DocumentBody.self).id
            }
            var otherGuarantor: UUID?
            try await app.testing().test(.POST, "api/v1/me/guarantors", headers: otherAuth, beforeRequest: { req in
                try req.content.encode(["kind": "organisation", "name": "Garantme"])
            }, afterResponse: { res in otherGuarantor = try res.content.decode(RentalFileController.GuarantorBody.self).id })
            var document: UUID?
            try await app.upload(token: world.bearer[.tenant]!, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                #expect(res.status == .created)
                document = try res.content.decode(RentalFileController.DocumentBody.self).id
            }
            var guarantor: UUID?
            try await app.testing().test(.POST, "api/v1/me/guarantors", headers: tenantAuth, beforeRequest: { req in
                try req.content.encode(["kind": "organisation", "name": "Visale"])
            }, afterResponse: { res in guarantor = try res.content.decode(RentalFileController.GuarantorBody.self).id })
            var code: String?
            try await app.testing().test(.POST, "api/v1/me/application", headers: tenantAuth, beforeRequest: { req in
                try req.content.encode(["kind": "couple"])
            }, afterResponse: { res in code = try res.content.decode(RentalFileController.ApplicationBody.self).joinCode })
            try await app.testing().test(.POST, "api/v1/me/application/join", headers: ["Authorization": "Bearer \(world.bearer[.coTenant]!)"], beforeRequest: { req in
                try req.content.encode(["code": try #require(code)])
            }, afterResponse: { res in #expect(res.status == .ok) })
            if !pending {
                try await app.testing().test(.POST, "api/v1/me/application/members/\(partner)/approve", headers: tenantAuth) { res in
                    #expect(res.status == .ok)
                }
            }
            // The tenant shares the whole file with the agency's address; the other tenant shares
            // theirs with another agency, which has no organisation account.
            var share: (id: UUID, token: String)?
            var otherShare: (id: UUID, token: String)?
            for (auth, isTenant) in [(tenantAuth, true), (otherAuth, false)] {
                try await app.testing().test(.POST, "api/v1/me/shares", headers: auth, beforeRequest: { req in
                    try req.content.encode(SharesController.NewShareBody(recipient: .init(name: "Agence Dupont", email: isTenant ? "Agence@Example.org" : "autre@example.org", kind: "agency"),
                                                                         purpose: "Visite", documentIds: nil, expiresAt: nil))
                }, afterResponse: { res in
                    #expect(res.status == .created)
                    let body = try res.content.decode(SharesController.ShareBody.self)
                    if isTenant {
                        share = (body.id, String(try #require(body.url).split(separator: "/").last ?? ""))
                    } else {
                        otherShare = (body.id, String(try #require(body.url).split(separator: "/").last ?? ""))
                    }
                })
            }
            // Each issues a file certificate.
            var certificates: [(id: UUID, code: String)] = []
            for auth in [tenantAuth, otherAuth] {
                try await app.testing().test(.POST, "api/v1/me/certificates", headers: auth, beforeRequest: { req in
                    try req.content.encode(["rent": 900])
                }, afterResponse: { res in
                    #expect(res.status == .created)
                    let body = try res.content.decode(CertificatesController.CertificateBody.self)
                    certificates.append((body.id, body.code))
                })
            }
            // The tenant files a rights request (staff's routes name it).
            var request: UUID?
            try await app.testing().test(.POST, "api/v1/me/requests", headers: tenantAuth, beforeRequest: { req in
                try req.content.encode(["right": "access"])
            }, afterResponse: { res in
                #expect(res.status == .created, "\(res.body.string)")
                request = try res.content.decode(RequestService.View.self).id
            })
            world.parameters = [
                "request": try #require(request).uuidString, "action": "extension",
                "document": try #require(document).uuidString, "guarantor": try #require(guarantor).uuidString,
                // The tenant's partner, whom the tenant manages; the tenant, whose file the partner sees.
                "member": partner.uuidString, "partner": tenant.uuidString,
                // The tenant a member of staff files a document for.
                "account": tenant.uuidString, "version": app.dossier.register.register.version,
                // The tenant's share link: its id for the tenant's API, its token for its holder.
                "share": try #require(share).id.uuidString, "token": try #require(share).token,
                "certificate": certificates[0].id.uuidString, "code": certificates[0].code,
                // The tenant's link, in the agency's inbox; the agency's member, for its administrator.
                "received": try #require(share).id.uuidString, "colleague": try #require(colleague).uuidString,
                "invitation": invitation.uuidString,
            ]
            world.foreign = world.parameters.merging(["document": try #require(otherDocument).uuidString,
                                                      "guarantor": try #require(otherGuarantor).uuidString,
                                                      "share": try #require(otherShare).id.uuidString,
                                                      "certificate": certificates[1].id.uuidString,
                                                      // A link to another address; someone of no organisation.
                                                      "received": try #require(otherShare).id.uuidString,
                                                      "colleague": tenant.uuidString, "invitation": otherInvitation.uuidString]) { $1 }
            world.otherToken = try #require(otherShare).token
            return world
        }
    }

    struct Answer: Equatable {
        var status: UInt
        /// The body, JSON with its keys sorted, a page without its form tokens.
        var body: String
        var location: String?

        init(status: UInt, body: String, location: String?) {
            self.status = status
            self.location = location
            if let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)),
               let sorted = try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]) {
                self.body = String(decoding: sorted, as: UTF8.self)
            } else {
                self.body = body.replacingOccurrences(of: #"value="[^"]*""#, with: "value=\"\"", options: .regularExpression)
            }
        }
    }

    /// `route` called as `role`, its path parameters from `parameters`.
    static func call(_ route: Route, as role: Role, in world: World, parameters: [String: String], on app: Application) async throws -> Answer {
        var path = ""
        for component in route.path {
            switch component {
            case let .parameter(name): path += "/" + (parameters[name] ?? "unknown")
            case let .constant(text): path += "/" + text
            default: path += "/x"
            }
        }
        if path.isEmpty { path = "/" }
        var headers = HTTPHeaders()
        if path.hasPrefix("/api/") {
            if let bearer = world.bearer[role] { headers.add(name: .authorization, value: "Bearer \(bearer)") }
        } else if let browser = world.browser[role] {
            headers = browser.cookies
            headers.add(name: CSRFMiddleware.header, value: browser.csrf)
        } else {
            // Anonymous: the double-submit token any visitor's browser gets.
            let token = String(repeating: "a", count: 43)
            headers.add(name: .cookie, value: "\(WebCookie.csrf)=\(token)")
            headers.add(name: CSRFMiddleware.header, value: token)
        }
        var answer = Answer(status: 0, body: "", location: nil)
        try await app.testing().test(route.method, path, headers: headers) { res in
            // The page may echo the path it was asked for (its language link): the ids in the path are not news.
            let asked = route.path.compactMap { component -> String? in
                if case let .parameter(name) = component { parameters[name] } else { nil }
            }
            let body = asked.reduce(res.body.string) { text, id in
                text.replacingOccurrences(of: id, with: "{id}").replacingOccurrences(of: id.lowercased(), with: "{id}")
            }
            answer = Answer(status: res.status.code, body: body, location: res.headers.first(name: .location))
        }
        return answer
    }

    /// What is wrong with `route` in `world`: one line a finding.
    static func findings(for route: Route, in world: World, on app: Application) async throws -> [String] {
        guard let access = route.declaredAccess else { return ["\(route.signature): no declared access"] }
        let allowed = Self.allowed(access)
        let namesSomething = route.path.contains { if case .parameter = $0 { true } else { false } }
        var findings: [String] = []
        // Those turned away first: the allowed role may change what it calls (a deletion).
        for role in Role.allCases.sorted(by: { !allowed.contains($0) && allowed.contains($1) }) {
            let answer = try await call(route, as: role, in: world, parameters: world.parameters, on: app)
            let what = "\(route.signature) as \(role.rawValue) (\(access.rawValue))"
            if answer.status >= 500 { findings.append("\(what): \(answer.status)"); continue }
            let redirectedToSignIn = answer.status == 303 && answer.location == "/signin"
            let turnedAway = [401, 403, 404].contains(answer.status) || redirectedToSignIn
            if allowed.contains(role) {
                if [401, 403].contains(answer.status) || (namesSomething && answer.status == 404) || redirectedToSignIn {
                    findings.append("\(what): turned away with \(answer.status)")
                }
                // Let in, but given the other tenant's document or guarantor: nothing of it.
                let namesForeign = route.path.contains {
                    $0 == .parameter("document") || $0 == .parameter("guarantor") || $0 == .parameter("share") || $0 == .parameter("certificate")
                        || $0 == .parameter("received") || $0 == .parameter("colleague") || $0 == .parameter("invitation")
                }
                if access == .linkHolder, route.path.contains(.parameter("document")) {
                    // The tenant's document through the other tenant's link answers as a missing one.
                    let through = world.parameters.merging(["token": world.otherToken]) { $1 }
                    let foreign = try await call(route, as: role, in: world, parameters: through, on: app)
                    let nothing = try await call(route, as: role, in: world, parameters: through.merging(["document": UUID().uuidString]) { $1 }, on: app)
                    if foreign.status != 404 || foreign != nothing {
                        findings.append("\(what) with the tenant's document through another link: answers \(foreign.status) where a missing one gets \(nothing.status)")
                    }
                }
                if namesForeign, [.owner, .partner, .organisationMember, .organisationAdmin].contains(access) {
                    let foreign = try await call(route, as: role, in: world, parameters: world.foreign, on: app)
                    let missing = world.foreign.mapValues { _ in UUID().uuidString }.merging(["version": "0.0.0"]) { $1 }
                    let nothing = try await call(route, as: role, in: world, parameters: missing, on: app)
                    if foreign.status >= 500 || foreign != nothing {
                        findings.append("\(what) with the other tenant's object: answers \(foreign.status) where a missing one gets \(nothing.status)")
                    }
                }
            } else if !turnedAway {
                findings.append("\(what): let through with \(answer.status)")
            } else if namesSomething, role != .anonymous {
                // "Not yours" answers exactly as "does not exist".
                let missing = world.parameters.mapValues { _ in UUID().uuidString }.merging(["version": "0.0.0"]) { $1 }
                let nothing = try await call(route, as: role, in: world, parameters: missing, on: app)
                if nothing != answer {
                    findings.append("\(what): answers \(answer.status) '\(answer.body.prefix(80))' where a missing one gets \(nothing.status) '\(nothing.body.prefix(80))'")
                }
            }
        }
        if access == .linkHolder {
            // A token nobody was given opens nothing (once per route: unknown tokens are throttled).
            let made = try await call(route, as: .linkHolder, in: world, parameters: world.parameters.merging(["token": SecretToken.generate()]) { $1 }, on: app)
            if made.status != 404 { findings.append("\(route.signature) with a made-up token: \(made.status)") }
        }
        return findings
    }

    @Test(arguments: TestDatabase.all)
    func everyRouteAnswersEveryRoleAsDeclared(database: TestDatabase) async throws {
        var findings: [String] = []
        var routes: [Route] = []
        try await withDossier(on: database) { app in
            routes = app.routes.all
            #expect(RouteAccessCheck.undeclared(in: app.routes) == [])
            let shared = try await World.make(app)
            for route in routes where route.method == .GET {
                findings += try await Self.findings(for: route, in: shared, on: app)
            }
        }
        // Each route that changes something in a world of its own, so that one call does not
        // decide the next.
        for signature in routes.filter({ $0.method != .GET }).map(\.signature) {
            try await withDossier(on: database) { app in
                let route = try #require(app.routes.all.first { $0.signature == signature })
                let managesMembers = route.path.contains { $0 == .parameter("member") }
                let world = try await World.make(app, pending: managesMembers)
                findings += try await Self.findings(for: route, in: world, on: app)
            }
        }
        #expect(findings == [])
        #expect(routes.count > 50)
        print("authorization matrix (\(database.testDescription)): \(routes.count) routes × \(Role.allCases.count) roles checked, \(findings.count) findings")
    }

    @Test func aRouteThatForgetsItsOwnershipCheckIsCaught() async throws {
        try await withDossier(on: .sqlite) { app in
            // A scratch route that reads any document by id, owner or not.
            app.grouped("api", "v1").grouped(BearerAuthMiddleware()).get("me", "leaky", ":document") { req async throws -> String in
                _ = try req.requireAuthenticated()
                guard let document = try await Document.find(req.parameters.require("document", as: UUID.self), on: req.db) else {
                    throw Abort(.notFound, reason: "No such document.")
                }
                return document.type
            }.access(.owner)
            // And one that forgets to declare who may call it.
            app.get("api", "v1", "undeclared") { _ in "hello" }
            #expect(RouteAccessCheck.undeclared(in: app.routes) == ["GET /api/v1/undeclared"])
            let world = try await World.make(app)
            let leaky = try #require(app.routes.all.first { $0.signature == "GET /api/v1/me/leaky/:document" })
            let findings = try await Self.findings(for: leaky, in: world, on: app)
            #expect(findings.contains("GET /api/v1/me/leaky/:document as otherTenant (owner): let through with 200"))
            #expect(findings.contains("GET /api/v1/me/leaky/:document as operator_ (owner): let through with 200"))
            // And the owner of one document reaching another's with it.
            #expect(findings.contains("GET /api/v1/me/leaky/:document as tenant (owner) with the other tenant's object: answers 200 where a missing one gets 404"))
            let undeclared = try #require(app.routes.all.first { $0.signature == "GET /api/v1/undeclared" })
            #expect(try await Self.findings(for: undeclared, in: world, on: app) == ["GET /api/v1/undeclared: no declared access"])
        }
    }
}
