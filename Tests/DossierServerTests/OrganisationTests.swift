@testable import DossierServer
import DossierCore
import DossierTestSupport
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// Recipient organisations end to end, on SQLite and PostgreSQL: an agency registered with its
/// address, its administrator and members invited by email, the links tenants make to that
/// address in their inbox, every view logged for the tenant under the member's name, members
/// removed, and nothing of another address's links reachable.
@Suite("Recipient organisations")
struct OrganisationTests {
    static let password = "correct horse battery staple"

    /// Registers an organisation with its address, and confirms the address as its mailbox's
    /// reader would (the link mailed to it).
    static func register(_ app: Application, name: String, email: String) async throws -> UUID {
        let id = try await Organisations.create(on: app, name: name, kind: .agency, email: EmailAddress(email), language: .en)
        let text = try #require(try await app.outboxTexts(to: email).last)
        let token = String(try #require(text.firstMatch(of: /organisation\/confirm\?token=([A-Za-z0-9_-]+)/)).1)
        _ = try await OrganisationService(database: app.db, services: app.dossier, logger: app.logger).confirmAddress(token: token, language: .en)
        return id
    }

    /// The invitation token in the last message to `email`.
    static func invitationToken(_ app: Application, to email: String) async throws -> String {
        let text = try #require(try await app.outboxTexts(to: email).last)
        let match = try #require(text.firstMatch(of: /organisation\/join\?token=([A-Za-z0-9_-]+)/))
        return String(match.1)
    }

    static func join(_ app: Application, token: String, firstName: String, lastName: String,
                     status: HTTPStatus = .created) async throws -> String {
        var answer = ""
        try await app.testing().test(.POST, "api/v1/organisation/join", beforeRequest: { req in
            try req.content.encode(["token": token, "firstName": firstName, "lastName": lastName, "password": password])
        }, afterResponse: { res in
            #expect(res.status == status, "\(res.body.string)")
            answer = res.body.string
        })
        return answer
    }

    /// An agency with the address contact@agence-dupont.example, its administrator (invited from
    /// the command line's operation) and a member (invited by the administrator through the API).
    struct Agency {
        var id: UUID
        var admin: HTTPHeaders
        var member: HTTPHeaders
        var memberID: UUID
    }

    static func agency(_ app: Application, name: String = "Agence Dupont", email: String = "contact@agence-dupont.example",
                       people: (admin: String, member: String) = ("boss@agence-dupont.example", "mia@agence-dupont.example")) async throws -> Agency {
        let id = try await register(app, name: name, email: email)
        try await Organisations.invite(on: app, organisation: id, email: people.admin, admin: true, language: .en)
        _ = try await join(app, token: try await invitationToken(app, to: people.admin), firstName: "Bea", lastName: "Boss")
        let admin: HTTPHeaders = ["Authorization": "Bearer \(try await app.signIn(email: people.admin))"]
        try await app.testing().test(.POST, "api/v1/organisation/members", headers: admin, beforeRequest: { req in
            try req.content.encode(["email": people.member])
        }, afterResponse: { res in #expect(res.status == .created, "\(res.body.string)") })
        let joined = try await join(app, token: try await invitationToken(app, to: people.member), firstName: "Mia", lastName: "Member")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let memberID = try decoder.decode(OrganisationsController.MemberBody.self, from: Data(joined.utf8)).id
        let member: HTTPHeaders = ["Authorization": "Bearer \(try await app.signIn(email: people.member))"]
        return Agency(id: id, admin: admin, member: member, memberID: memberID)
    }

    /// A page as a signed-in browser gets it.
    static func page(_ app: Application, _ path: String, _ browser: WebTests.Browser) async throws -> (status: HTTPStatus, body: String) {
        let answer = try await SharingTests.get(app, path, headers: browser.cookieHeader)
        return (answer.status, String(decoding: answer.body, as: UTF8.self))
    }

    static func inbox(_ app: Application, _ auth: HTTPHeaders) async throws -> [OrganisationsController.ReceivedBody] {
        var files: [OrganisationsController.ReceivedBody] = []
        try await app.testing().test(.GET, "api/v1/organisation/inbox", headers: auth) { res in
            #expect(res.status == .ok, "\(res.body.string)")
            files = try res.content.decode([OrganisationsController.ReceivedBody].self)
        }
        return files
    }

    @Test(arguments: TestDatabase.all)
    func filesSharedWithTheAgencysAddressReachItsMembersAndEachViewIsLoggedByName(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let agency = try await Self.agency(app)
            let tenant = try await SharingTests.tenant(app)
            // Shared with the agency's address (SharingTests.share uses it), with an access code;
            // another link to someone else.
            let (shared, _, _) = try await SharingTests.share(app, tenant, documents: [tenant.payslip, tenant.photo], accessCode: true)
            let sharedID = try #require(shared?.id)
            let code = try #require(shared?.accessCode)
            #expect(shared?.organisation == "Agence Dupont")
            var withCode = agency.member
            withCode.add(name: "X-Access-Code", value: code)
            try await app.testing().test(.POST, "api/v1/me/shares", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(SharesController.NewShareBody(recipient: .init(name: "Other", email: "someone@else.example", kind: "landlord"),
                                                                     purpose: "Visit", documentIds: nil, expiresAt: nil))
            }, afterResponse: { res in #expect(res.status == .created) })

            // The member's inbox holds the agency's link only.
            let files = try await Self.inbox(app, agency.member)
            #expect(files.map(\.id) == [sharedID])
            #expect(files.first?.tenant == "Jane Doe")
            #expect(files.first?.purpose == "Visite du 12 rue des Lilas")
            #expect(files.first?.documents == nil)

            // Opened signed in, with the link's access code: the tenant chose it, members type it too.
            #expect(try await SharingTests.get(app, "api/v1/organisation/inbox/\(sharedID)", headers: agency.member).status == .unauthorized)
            var file: OrganisationsController.ReceivedBody?
            try await app.testing().test(.GET, "api/v1/organisation/inbox/\(sharedID)", headers: withCode) { res in
                #expect(res.status == .ok, "\(res.body.string)")
                #expect(res.headers.first(name: .cacheControl) == "no-store")
                file = try res.content.decode(OrganisationsController.ReceivedBody.self)
            }
            #expect(Set(try #require(file?.documents).map(\.id)) == [tenant.payslip, tenant.photo])
            // A document of the tenant's file the link does not carry answers as a missing one.
            let outside = try await SharingTests.get(app, "api/v1/organisation/inbox/\(sharedID)/documents/\(tenant.rentReceipt)", headers: withCode)
            #expect(outside.status == .notFound)
            let pdf = try await SharingTests.get(app, "api/v1/organisation/inbox/\(sharedID)/documents/\(tenant.payslip)", headers: withCode)
            #expect(pdf.status == .ok)
            #expect(pdf.type == "application/pdf")
            #expect(pdf.body != (try upload("payslip.pdf")))
            #expect(try SharingTests.text(of: pdf.body).contains("Agence Dupont"))
            let zip = try await SharingTests.get(app, "api/v1/organisation/inbox/\(sharedID)/file.zip", headers: withCode)
            #expect(try SharingTests.zipEntries(zip.body).count == 3)

            // The tenant sees each access, with who looked.
            var accesses: [SharesController.AccessBody] = []
            try await app.testing().test(.GET, "api/v1/me/shares/\(sharedID)/accesses", headers: tenant.auth) { res in
                accesses = try res.content.decode([SharesController.AccessBody].self)
            }
            #expect(accesses.count == 3)
            #expect(accesses.allSatisfy { $0.viewer?.name == "Mia Member" && $0.viewer?.organisation == "Agence Dupont" })
            #expect(Set(accesses.map(\.action)) == [.view, .document, .fileZIP])
            // And on the sharing page.
            let signedIn = try await app.browserSignedIn()
            let page = try await Self.page(app, "/file/sharing", signedIn.browser)
            #expect(page.body.contains("Mia Member (Agence Dupont)"))
            // The audit trail names the member's account, not the link.
            let audited = try await AuditRecord.query(on: app.db).all().filter { $0.action == "share.accessed" }
            #expect(audited.count == 3)

            // The member's page shows the same, and its downloads work signed in by cookie.
            let member = try await app.browserSignedIn(email: "mia@agence-dupont.example")
            let inboxPage = try await Self.page(app, "/organisation", member.browser)
            #expect(inboxPage.status == .ok)
            #expect(inboxPage.body.contains("/organisation/inbox/\(sharedID.uuidString.lowercased())"))
            // The page asks the code once; typed, a cookie admits the browser on this file's pages.
            let asked = try await Self.page(app, "/organisation/inbox/\(sharedID.uuidString.lowercased())", member.browser)
            #expect(asked.status == .unauthorized && asked.body.contains("action=\"/organisation/inbox/\(sharedID.uuidString.lowercased())/code\""))
            var form = member.browser.cookieHeader
            form.contentType = .urlEncodedForm
            try await app.testing().test(.POST, "organisation/inbox/\(sharedID.uuidString.lowercased())/code", headers: form,
                                         body: .init(string: member.browser.form(["csrf": member.csrf, "code": code]))) { res in
                #expect(res.status == .seeOther, "\(res.body.string)")
                member.browser.keep(res)
            }
            let filePage = try await Self.page(app, "/organisation/inbox/\(sharedID.uuidString.lowercased())", member.browser)
            #expect(filePage.body.contains("/organisation/inbox/\(sharedID.uuidString.lowercased())/documents/\(tenant.payslip.uuidString.lowercased())"))

            // Revoked: gone from the inbox, and refused.
            try await app.testing().test(.DELETE, "api/v1/me/shares/\(sharedID)", headers: tenant.auth) { res in #expect(res.status == .noContent) }
            #expect(try await Self.inbox(app, agency.member).isEmpty)
            #expect(try await SharingTests.get(app, "api/v1/organisation/inbox/\(sharedID)", headers: withCode).status == .gone)
            #expect(try await Self.page(app, "/organisation/inbox/\(sharedID.uuidString.lowercased())", member.browser).status == .gone)
        }
    }

    @Test(arguments: TestDatabase.all)
    func administratorsInviteAndRemoveMembersAndNobodyElseDoes(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let agency = try await Self.agency(app)
            // A member is not an administrator; a tenant is neither.
            _ = try await app.signUp(email: "tenant@example.org", verified: true)
            let tenant: HTTPHeaders = ["Authorization": "Bearer \(try await app.signIn(email: "tenant@example.org"))"]
            for auth in [agency.member, tenant] {
                #expect(try await SharingTests.get(app, "api/v1/organisation/members", headers: auth).status == .forbidden)
            }
            #expect(try await SharingTests.get(app, "api/v1/organisation/inbox", headers: tenant).status == .forbidden)

            var members: OrganisationsController.MembersBody?
            try await app.testing().test(.GET, "api/v1/organisation/members", headers: agency.admin) { res in
                members = try res.content.decode(OrganisationsController.MembersBody.self)
            }
            #expect(Set(try #require(members).members.map(\.email)) == ["boss@agence-dupont.example", "mia@agence-dupont.example"])
            #expect(members?.members.first { $0.email.hasPrefix("boss") }?.admin == true)
            #expect(members?.invitations.isEmpty == true)

            // Inviting an address that has an account (the tenant's) is answered as any other:
            // only its owner learns, on accepting, that it cannot join.
            try await app.testing().test(.POST, "api/v1/organisation/members", headers: agency.admin, beforeRequest: { req in
                try req.content.encode(["email": "Tenant@Example.org"])
            }, afterResponse: { res in #expect(res.status == .created, "\(res.body.string)") })
            let token = try await Self.invitationToken(app, to: "Tenant@example.org")
            let refused = try await Self.join(app, token: token, firstName: "T", lastName: "N", status: .conflict)
            // Told in French: nobody asked for another language.
            #expect(refused.contains("Cette adresse a déjà un compte Dossier"))
            // Bad input stores nothing.
            try await app.testing().test(.POST, "api/v1/organisation/members", headers: agency.admin, beforeRequest: { req in
                try req.content.encode(["email": "not an address"])
            }, afterResponse: { res in #expect(res.status == .unprocessableEntity) })
            _ = try await Self.join(app, token: "made-up", firstName: "A", lastName: "B", status: .notFound)

            // An invitation works once, and not after a week.
            try await app.testing().test(.POST, "api/v1/organisation/members", headers: agency.admin, beforeRequest: { req in
                try req.content.encode(["email": "late@agence-dupont.example"])
            }, afterResponse: { res in #expect(res.status == .created) })
            let late = try await Self.invitationToken(app, to: "late@agence-dupont.example")
            let page = try await SharingTests.get(app, "organisation/join?token=\(late)")
            #expect(page.status == .ok)
            #expect(String(decoding: page.body, as: UTF8.self).contains("Agence Dupont"))

            // Inviting again replaces the pending invitation (its link stops working); three a day
            // to one address, then 429, and no mail.
            for _ in 0..<2 {
                try await app.testing().test(.POST, "api/v1/organisation/members", headers: agency.admin, beforeRequest: { req in
                    try req.content.encode(["email": "late@agence-dupont.example"])
                }, afterResponse: { res in #expect(res.status == .created) })
            }
            #expect(try await SharingTests.get(app, "organisation/join?token=\(late)").status == .notFound)
            let mails = try await app.outboxTexts(to: "late@agence-dupont.example").count
            try await app.testing().test(.POST, "api/v1/organisation/members", headers: agency.admin, beforeRequest: { req in
                try req.content.encode(["email": "late@agence-dupont.example"])
            }, afterResponse: { res in #expect(res.status == .tooManyRequests) })
            #expect(try await app.outboxTexts(to: "late@agence-dupont.example").count == mails)
            try await app.testing().test(.GET, "api/v1/organisation/members", headers: agency.admin) { res in
                let pending = try res.content.decode(OrganisationsController.MembersBody.self).invitations
                #expect(pending.filter { $0.email == "late@agence-dupont.example" }.count == 1)
            }

            // Removing a member deletes their account: their sessions stop at once.
            try await app.testing().test(.DELETE, "api/v1/organisation/members/\(agency.memberID)", headers: agency.admin) { res in
                #expect(res.status == .noContent)
            }
            #expect(try await SharingTests.get(app, "api/v1/organisation/inbox", headers: agency.member).status == .unauthorized)
            #expect(try await Account.find(agency.memberID, on: app.db) == nil)
            // Not twice, not someone of no organisation, not the last administrator.
            try await app.testing().test(.DELETE, "api/v1/organisation/members/\(agency.memberID)", headers: agency.admin) { res in
                #expect(res.status == .notFound)
            }
            let bossID = try #require(members?.members.first { $0.admin }?.id)
            try await app.testing().test(.DELETE, "api/v1/organisation/members/\(bossID)", headers: agency.admin) { res in
                #expect(res.status == .conflict)
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func anInvitationExpiresAndAnotherAgencySeesNothing(database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            let agency = try await Self.agency(app)
            let other = try await Self.agency(app, name: "Autre Agence", email: "contact@autre.example",
                                              people: ("boss@autre.example", "mia@autre.example"))
            let tenant = try await SharingTests.tenant(app)
            let (shared, _, _) = try await SharingTests.share(app, tenant)
            let sharedID = try #require(shared?.id)
            #expect(try await Self.inbox(app, agency.member).map(\.id) == [sharedID])
            // The other agency: an empty inbox, and the link answers as a missing one.
            #expect(try await Self.inbox(app, other.member).isEmpty)
            let foreign = try await SharingTests.get(app, "api/v1/organisation/inbox/\(sharedID)", headers: other.member)
            let missing = try await SharingTests.get(app, "api/v1/organisation/inbox/\(UUID())", headers: other.member)
            #expect(foreign.status == .notFound)
            #expect(try JSONSerialization.jsonObject(with: foreign.body) as? NSDictionary == JSONSerialization.jsonObject(with: missing.body) as? NSDictionary)
            // Someone of the other agency cannot be removed by this one's administrator.
            try await app.testing().test(.DELETE, "api/v1/organisation/members/\(other.memberID)", headers: agency.admin) { res in
                #expect(res.status == .notFound)
            }
            // Two organisations cannot share one address.
            await #expect(throws: (any Error).self) {
                _ = try await Organisations.create(on: app, name: "Copy", kind: .agency, email: EmailAddress("CONTACT@agence-dupont.example"))
            }

            try await app.testing().test(.POST, "api/v1/organisation/members", headers: agency.admin, beforeRequest: { req in
                try req.content.encode(["email": "slow@agence-dupont.example"])
            }, afterResponse: { res in #expect(res.status == .created) })
            let token = try await Self.invitationToken(app, to: "slow@agence-dupont.example")
            clock.advance(by: OrganisationRules.invitationLifetime - 60)
            #expect(try await SharingTests.get(app, "organisation/join?token=\(token)").status == .ok)
            clock.advance(by: 60)
            #expect(try await SharingTests.get(app, "organisation/join?token=\(token)").status == .notFound)
            _ = try await Self.join(app, token: token, firstName: "S", lastName: "Low", status: .notFound)
            // The link itself expires on its day: it leaves the inbox.
            clock.advance(by: 31 * 86400)
            let member: HTTPHeaders = ["Authorization": "Bearer \(try await app.signIn(email: "mia@agence-dupont.example"))"]
            #expect(try await Self.inbox(app, member).isEmpty)
        }
    }

    @Test(arguments: TestDatabase.all)
    func anAddressReachesTheInboxOnlyOnceConfirmedFromItsMailbox(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let tenant = try await SharingTests.tenant(app)
            // A link made before the agency is registered, then the agency, its address not confirmed.
            let (early, _, _) = try await SharingTests.share(app, tenant)
            let id = try await Organisations.create(on: app, name: "Agence Dupont", kind: .agency,
                                                    email: EmailAddress("contact@agence-dupont.example"), language: .en)
            try await Organisations.invite(on: app, organisation: id, email: "boss@agence-dupont.example", admin: true, language: .en)
            _ = try await Self.join(app, token: try await Self.invitationToken(app, to: "boss@agence-dupont.example"), firstName: "Bea", lastName: "Boss")
            let admin: HTTPHeaders = ["Authorization": "Bearer \(try await app.signIn(email: "boss@agence-dupont.example"))"]
            #expect(try await Self.inbox(app, admin).isEmpty)
            let (pending, _, _) = try await SharingTests.share(app, tenant)
            #expect(pending?.organisation == nil)

            // Confirmed from the page the mailed link opens (a browser's form, CSRF and all).
            let text = try #require(try await app.outboxTexts(to: "contact@agence-dupont.example").last)
            let token = String(try #require(text.firstMatch(of: /organisation\/confirm\?token=([A-Za-z0-9_-]+)/)).1)
            let browser = WebTests.Browser()
            var csrf = ""
            try await app.testing().test(.GET, "organisation/confirm?token=\(token)&lang=en") { res in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("Agence Dupont"))
                browser.keep(res)
                csrf = try #require(browser.csrf(in: res.body.string))
            }
            var headers = browser.cookieHeader
            headers.contentType = .urlEncodedForm
            try await app.testing().test(.POST, "organisation/confirm?lang=en", headers: headers,
                                         body: .init(string: browser.form(["csrf": csrf, "token": token]))) { res in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("now reach the inbox"))
            }
            // Once only.
            try await app.testing().test(.POST, "organisation/confirm?lang=en", headers: headers,
                                         body: .init(string: browser.form(["csrf": csrf, "token": token]))) { res in
                #expect(res.status == .notFound)
            }
            // Links made since reach the inbox, their tenants told whose inbox it is; those made
            // before (the tenant was not told) do not, nor answer by id.
            #expect(try await Self.inbox(app, admin).isEmpty)
            let (later, _, _) = try await SharingTests.share(app, tenant)
            #expect(later?.organisation == "Agence Dupont")
            #expect(try await Self.inbox(app, admin).map(\.id) == [try #require(later?.id)])
            for earlier in [early?.id, pending?.id].compactMap({ $0 }) {
                #expect(try await SharingTests.get(app, "api/v1/organisation/inbox/\(earlier)", headers: admin).status == .notFound)
            }
            var organisation: OrganisationsController.OrganisationBody?
            try await app.testing().test(.GET, "api/v1/organisation", headers: admin) { res in
                organisation = try res.content.decode(OrganisationsController.OrganisationBody.self)
            }
            #expect(organisation?.addressConfirmed == true)

            // An invitation withdrawn stops working; a removed administrator's invitations go with them.
            for email in ["first@agence-dupont.example", "second@agence-dupont.example"] {
                try await app.testing().test(.POST, "api/v1/organisation/members", headers: admin, beforeRequest: { req in
                    try req.content.encode(["email": email, "admin": "true"] as [String: String])
                }, afterResponse: { res in #expect(res.status == .badRequest || res.status == .unprocessableEntity) })
                try await app.testing().test(.POST, "api/v1/organisation/members", headers: admin, beforeRequest: { req in
                    try req.content.encode(OrganisationsController.InviteBody(email: email, admin: true))
                }, afterResponse: { res in #expect(res.status == .created) })
            }
            var invitations: [OrganisationsController.InvitationBody] = []
            try await app.testing().test(.GET, "api/v1/organisation/members", headers: admin) { res in
                invitations = try res.content.decode(OrganisationsController.MembersBody.self).invitations
            }
            let first = try #require(invitations.first { $0.email.hasPrefix("first") })
            let firstToken = try await Self.invitationToken(app, to: "first@agence-dupont.example")
            try await app.testing().test(.DELETE, "api/v1/organisation/invitations/\(first.id)", headers: admin) { res in
                #expect(res.status == .noContent)
            }
            _ = try await Self.join(app, token: firstToken, firstName: "Fi", lastName: "Rst", status: .notFound)
            // Its message, not sent yet, went with it.
            #expect(try await app.outboxTexts(to: "first@agence-dupont.example").isEmpty)
            // The second joins as administrator, invites someone, and is removed: their invitation goes.
            _ = try await Self.join(app, token: try await Self.invitationToken(app, to: "second@agence-dupont.example"), firstName: "Se", lastName: "Cond")
            let second: HTTPHeaders = ["Authorization": "Bearer \(try await app.signIn(email: "second@agence-dupont.example"))"]
            try await app.testing().test(.POST, "api/v1/organisation/members", headers: second, beforeRequest: { req in
                try req.content.encode(["email": "friend@elsewhere.example"])
            }, afterResponse: { res in #expect(res.status == .created) })
            let secondID = try #require(try await Account.query(on: app.db).filter(\.$emailKey == "second@agence-dupont.example").first()?.id)
            try await app.testing().test(.DELETE, "api/v1/organisation/members/\(secondID)", headers: admin) { res in
                #expect(res.status == .noContent)
            }
            #expect(try await OrganisationInvitation.query(on: app.db).filter(\.$emailKey == "friend@elsewhere.example").count() == 0)
        }
    }
}
