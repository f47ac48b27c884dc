import DossierCore
import Fluent
import Vapor

/// Recipient organisations' pages: the inbox and each file in it (the recipient's page of a
/// link, with every document watermarked), the members page of its administrators, and the page
/// where an invitee joins. Translates to `OrganisationService`, as the API does.
struct OrganisationWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let web = routes.grouped(WebSessionMiddleware(), CSRFMiddleware())
        web.get("organisation", use: Self.inbox).access(.organisationMember)
        web.get("organisation", "inbox", ":received", use: Self.received).access(.organisationMember)
        web.get("organisation", "inbox", ":received", "documents", ":document", use: Self.document).access(.organisationMember)
        web.get("organisation", "inbox", ":received", "file.pdf", use: Self.filePDF).access(.organisationMember)
        web.get("organisation", "inbox", ":received", "file.zip", use: Self.fileZIP).access(.organisationMember)
        web.post("organisation", "inbox", ":received", "code", use: Self.enterCode).access(.organisationMember)
        web.get("organisation", "members", use: Self.members).access(.organisationAdmin)
        web.post("organisation", "members", use: Self.invite).access(.organisationAdmin)
        web.post("organisation", "members", ":colleague", "remove", use: Self.remove).access(.organisationAdmin)
        web.post("organisation", "invitations", ":invitation", "cancel", use: Self.cancel).access(.organisationAdmin)
        // The invitation's token is the credential.
        web.get("organisation", "join", use: Self.joinPage).access(.anyone)
        web.post("organisation", "join", use: Self.join).access(.anyone)
        // The token mailed to the organisation's address is the credential.
        web.get("organisation", "confirm", use: Self.confirmPage).access(.anyone)
        web.post("organisation", "confirm", use: Self.confirm).access(.anyone)
    }

    /// The signed-in member and their organisation; else the answer instead (sign in, or 403).
    static func member(_ req: Request, admin: Bool = false) async throws -> Result<(Account, Organisation), SharesController.Answered> {
        guard req.authenticated != nil else { return .failure(.init(response: req.redirect(to: "/signin"))) }
        do {
            return .success(try await OrganisationsController.member(req, admin: admin))
        } catch let error as any AbortError {
            return .failure(.init(response: try await req.page("message", titleKey: "organisationInbox", body: MessageBody(text: error.reason),
                                                               status: error.status)))
        }
    }

    struct InboxPage: Encodable {
        struct Row: Encodable {
            var id: String
            var tenant: String
            var purpose: String
            var kind: String
            var received: String
            var expires: String
        }

        var organisation: String
        var email: String?
        var admin: Bool
        var files: [Row]
    }

    static func inbox(req: Request) async throws -> Response {
        let (account, organisation): (Account, Organisation)
        switch try await member(req) {
        case let .success(found): (account, organisation) = found
        case let .failure(answered): return answered.response
        }
        let labels = WebWording.labels(req.webLanguage)
        let service = OrganisationService(req)
        var rows: [InboxPage.Row] = []
        for share in try await service.inbox(of: organisation) {
            guard let details = try? await service.shares.details(of: share) else { continue }
            rows.append(.init(id: try share.requireID().uuidString.lowercased(), tenant: "\(share.account.firstName) \(share.account.lastName)",
                              purpose: details.purpose, kind: labels["recipient-\(share.recipientKind.rawValue)"] ?? share.recipientKind.rawValue,
                              received: ShareWatermark.day(of: share.createdAt), expires: ShareWatermark.day(of: share.expiresAt)))
        }
        let page = InboxPage(organisation: organisation.name, email: organisation.email, admin: account.organisationAdmin, files: rows)
        return SharesController.private_(try await req.page("organisation", titleKey: "organisationInbox", body: page))
    }

    /// A file of the inbox that serves now; else the page that says why.
    static func opened(_ req: Request, askingCode: Bool = true) async throws -> Result<OrganisationsController.Opened, SharesController.Answered> {
        guard req.authenticated != nil else { return .failure(.init(response: req.redirect(to: "/signin"))) }
        do {
            return .success(try await OrganisationsController.opened(req, askingCode: askingCode))
        } catch let refusal as ShareService.Refusal {
            return .failure(.init(response: try await SharesController.refusalPage(req, refusal)))
        } catch let asked as OrganisationsController.CodeAsked {
            return .failure(.init(response: try await SharesController.codePage(req, wrong: asked.wrong, left: asked.triesLeft,
                                                                                action: "/organisation/inbox/\(req.parameters.get("received") ?? "")/code")))
        } catch let error as any AbortError where error.status == .forbidden {
            // Not a member (or no longer): the page that says so, as `member` answers.
            return .failure(.init(response: try await req.page("message", titleKey: "organisationInbox", body: MessageBody(text: error.reason),
                                                               status: error.status)))
        }
    }

    static func received(req: Request) async throws -> Response {
        let (share, service, viewer): (Share, OrganisationService, (account: Account, seen: ShareViewer))
        switch try await opened(req) {
        case let .success(found): (share, service, viewer) = found
        case let .failure(answered): return answered.response
        }
        return try await SharesController.page(req, share: share, service: service.shares,
                                               base: "/organisation/inbox/\(try share.requireID().uuidString.lowercased())",
                                               language: req.webLanguage, viewer: viewer)
    }

    static func document(req: Request) async throws -> Response { try await deliver(.document, req) }
    static func filePDF(req: Request) async throws -> Response { try await deliver(.filePDF, req) }
    static func fileZIP(req: Request) async throws -> Response { try await deliver(.fileZIP, req) }

    /// What the API delivers (`OrganisationsController.deliver`), or the page that says why not.
    static func deliver(_ what: OrganisationsController.Delivery, _ req: Request) async throws -> Response {
        switch try await opened(req) {
        case let .success(found):
            do {
                return try await OrganisationsController.deliver(what, found, req: req)
            } catch let error as any AbortError where error.status == .notFound {
                return try await SharesController.refusalPage(req, .init(status: .notFound, reason: error.reason, state: nil))
            }
        case let .failure(answered): return answered.response
        }
    }

    struct CodeForm: Content {
        var code: String?
    }

    /// A protected link's access code typed by a member: right, a cookie proves it for the
    /// link's life (on this file's pages only); wrong, it counts towards locking the link.
    static func enterCode(req: Request) async throws -> Response {
        let (share, service): (Share, OrganisationService)
        switch try await opened(req, askingCode: false) {
        case let .success(found): (share, service) = (found.share, found.service)
        case let .failure(answered): return answered.response
        }
        let path = "/organisation/inbox/\(try share.requireID().uuidString.lowercased())"
        let typed = (try? req.content.decode(CodeForm.self))?.code?.trimmingCharacters(in: .whitespaces) ?? ""
        do {
            switch try await service.shares.checkCode(share, code: typed, proof: nil, language: req.webLanguage) {
            case .admitted:
                let response = req.redirect(to: path, redirectType: .normal)
                response.cookies[OrganisationsController.codeCookie(share)] = HTTPCookies.Value(
                    string: try service.shares.codeProof(for: share), maxAge: Int(max(60, share.expiresAt.timeIntervalSince(service.clock.now))),
                    path: path, isSecure: req.dossier.configuration.usesHTTPS, isHTTPOnly: true, sameSite: .strict)
                return SharesController.private_(response)
            case let .asked(wrong, left):
                return try await SharesController.codePage(req, wrong: wrong, left: left, action: path + "/code")
            }
        } catch let refusal as ShareService.Refusal {
            return try await SharesController.refusalPage(req, refusal)
        }
    }

    // MARK: Members

    struct MembersPage: Encodable {
        struct Row: Encodable {
            var id: String
            var name: String
            var email: String
            var admin: Bool
            var me: Bool
        }

        struct Pending: Encodable {
            var id: String
            var email: String
            var admin: Bool
            var expires: String
        }

        var organisation: String
        var members: [Row]
        var invitations: [Pending]
        var invited: String?
        var error: String?
        var submitted: String
    }

    static func renderMembers(_ req: Request, account: Account, organisation: Organisation, invited: String? = nil, error: String? = nil,
                              submitted: String = "", status: HTTPResponseStatus = .ok) async throws -> Response {
        let found = try await OrganisationService(req).members(of: organisation)
        let page = MembersPage(organisation: organisation.name, members: try found.accounts.map {
            MembersPage.Row(id: try $0.requireID().uuidString.lowercased(), name: "\($0.firstName) \($0.lastName)", email: $0.email,
                            admin: $0.organisationAdmin, me: $0.id == account.id)
        }, invitations: try found.invitations.map {
            .init(id: try $0.requireID().uuidString.lowercased(), email: $0.email, admin: $0.admin, expires: ShareWatermark.day(of: $0.expiresAt))
        },
        invited: invited, error: error, submitted: submitted)
        let response = try await req.page("organisation-members", titleKey: "organisationMembers", body: page, status: status)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    static func members(req: Request) async throws -> Response {
        switch try await member(req, admin: true) {
        case let .success((account, organisation)): return try await renderMembers(req, account: account, organisation: organisation)
        case let .failure(answered): return answered.response
        }
    }

    struct InviteForm: Content {
        var email: String?
        var admin: String?
    }

    static func invite(req: Request) async throws -> Response {
        let (account, organisation): (Account, Organisation)
        switch try await member(req, admin: true) {
        case let .success(found): (account, organisation) = found
        case let .failure(answered): return answered.response
        }
        let form = (try? req.content.decode(InviteForm.self)) ?? InviteForm()
        do {
            let invitation = try await OrganisationService(req).invite(form.email ?? "", admin: form.admin == "on" || form.admin == "true",
                                                                       to: organisation, by: account, language: req.webLanguage)
            return try await renderMembers(req, account: account, organisation: organisation, invited: invitation.email)
        } catch let failure as ValidationFailure {
            return try await renderMembers(req, account: account, organisation: organisation, error: failure.problems.first?.message ?? failure.reason,
                                           submitted: form.email ?? "", status: .unprocessableEntity)
        } catch let error as any AbortError where error.status == .conflict {
            return try await renderMembers(req, account: account, organisation: organisation, error: error.reason, submitted: form.email ?? "",
                                           status: .conflict)
        }
    }

    static func remove(req: Request) async throws -> Response {
        let (account, organisation): (Account, Organisation)
        switch try await member(req, admin: true) {
        case let .success(found): (account, organisation) = found
        case let .failure(answered): return answered.response
        }
        do {
            try await OrganisationService(req).remove(try req.parameters.id("colleague"), from: organisation, by: account, language: req.webLanguage)
        } catch let error as any AbortError where error.status == .conflict {
            return try await renderMembers(req, account: account, organisation: organisation, error: error.reason, status: .conflict)
        } catch let error as any AbortError where error.status == .notFound {
            return try await req.page("message", titleKey: "organisationMembers", body: MessageBody(text: error.reason), status: .notFound)
        }
        // Removing oneself signs oneself out: the account is gone.
        return req.redirect(to: account.organisationAdmin && (try? req.parameters.id("colleague")) == account.id ? "/" : "/organisation/members",
                            redirectType: .normal)
    }

    static func cancel(req: Request) async throws -> Response {
        let (account, organisation): (Account, Organisation)
        switch try await member(req, admin: true) {
        case let .success(found): (account, organisation) = found
        case let .failure(answered): return answered.response
        }
        do {
            try await OrganisationService(req).cancel(try req.parameters.id("invitation"), of: organisation, by: account, language: req.webLanguage)
        } catch let error as any AbortError where error.status == .notFound {
            return try await req.page("message", titleKey: "organisationMembers", body: MessageBody(text: error.reason), status: .notFound)
        }
        return req.redirect(to: "/organisation/members", redirectType: .normal)
    }

    // MARK: The organisation's address

    struct ConfirmPage: Encodable {
        var token: String
        var organisation: String
        var email: String
    }

    static func confirmPage(req: Request) async throws -> Response {
        let token = (try? req.query.get(String.self, at: "token")) ?? ""
        do {
            let organisation = try await OrganisationService(req).addressToConfirm(token: token, language: req.webLanguage)
            let response = try await req.page("organisation-confirm", titleKey: "organisationConfirm",
                                              body: ConfirmPage(token: token, organisation: organisation.name, email: organisation.email ?? ""))
            response.headers.replaceOrAdd(name: "Referrer-Policy", value: "no-referrer")
            response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
            return response
        } catch let error as any AbortError {
            return try await req.page("message", titleKey: "organisationConfirm", body: MessageBody(text: error.reason), status: error.status)
        }
    }

    struct ConfirmForm: Content {
        var token: String?
    }

    static func confirm(req: Request) async throws -> Response {
        let form = (try? req.content.decode(ConfirmForm.self)) ?? ConfirmForm()
        let language = req.webLanguage
        do {
            let organisation = try await OrganisationService(req).confirmAddress(token: form.token ?? "", language: language)
            return try await req.page("message", titleKey: "organisationConfirm",
                                      body: MessageBody(text: OrganisationWording(language).addressConfirmed(organisation.name)))
        } catch let error as any AbortError {
            return try await req.page("message", titleKey: "organisationConfirm", body: MessageBody(text: error.reason), status: error.status)
        }
    }

    // MARK: Joining

    struct JoinPage: Encodable {
        var token: String
        var organisation: String
        var email: String
        var error: String?
        var errors: [String: String]
        var firstName: String
        var lastName: String
    }

    static func joinPage(req: Request) async throws -> Response {
        let token = (try? req.query.get(String.self, at: "token")) ?? ""
        do {
            let invitation = try await OrganisationService(req).invitation(token: token, language: req.webLanguage)
            let page = JoinPage(token: token, organisation: invitation.organisation.name, email: invitation.email, error: nil, errors: [:],
                                firstName: "", lastName: "")
            let response = try await req.page("organisation-join", titleKey: "organisationJoin", body: page)
            response.headers.replaceOrAdd(name: "Referrer-Policy", value: "no-referrer")
            response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
            return response
        } catch let error as any AbortError {
            return try await req.page("message", titleKey: "organisationJoin", body: MessageBody(text: error.reason), status: error.status)
        }
    }

    struct JoinForm: Content {
        var token: String?
        var firstName: String?
        var lastName: String?
        var password: String?
    }

    static func join(req: Request) async throws -> Response {
        let form = (try? req.content.decode(JoinForm.self)) ?? JoinForm()
        let language = req.webLanguage
        let service = OrganisationService(req)
        do {
            _ = try await service.accept(token: form.token ?? "", firstName: form.firstName ?? "", lastName: form.lastName ?? "",
                                         password: form.password ?? "", language: language, passwords: req.password.async)
            return req.redirect(to: "/signin?lang=\(language.rawValue)", redirectType: .normal)
        } catch let failure as ValidationFailure {
            let invitation = try? await service.invitation(token: form.token ?? "", language: language)
            let page = JoinPage(token: form.token ?? "", organisation: invitation?.organisation.name ?? "", email: invitation?.email ?? "", error: nil,
                                errors: Dictionary(failure.problems.map { ($0.field, $0.message) }) { first, _ in first },
                                firstName: form.firstName ?? "", lastName: form.lastName ?? "")
            return try await req.page("organisation-join", titleKey: "organisationJoin", body: page, status: .unprocessableEntity)
        } catch let error as any AbortError {
            return try await req.page("message", titleKey: "organisationJoin", body: MessageBody(text: error.reason), status: error.status)
        }
    }
}
