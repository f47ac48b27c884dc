import DossierCore
import Fluent
import Vapor

/// Recipient organisations' API: the inbox of files shared with the organisation (members),
/// its members and invitations (its administrators), and accepting an invitation. Translates to
/// `OrganisationService`, as the pages do (`OrganisationWebController`).
struct OrganisationsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let api = routes.grouped("api", "v1")
        // The invitation's token is the credential.
        api.post("organisation", "join", use: Self.join).access(.anyone)
        let organisation = api.grouped(BearerAuthMiddleware()).grouped("organisation")
        organisation.get(use: Self.show).access(.organisationMember)
        organisation.get("inbox", use: Self.inbox).access(.organisationMember)
        organisation.get("inbox", ":received", use: Self.received).access(.organisationMember)
        organisation.get("inbox", ":received", "documents", ":document", use: Self.document).access(.organisationMember)
        organisation.get("inbox", ":received", "file.pdf", use: Self.filePDF).access(.organisationMember)
        organisation.get("inbox", ":received", "file.zip", use: Self.fileZIP).access(.organisationMember)
        organisation.get("members", use: Self.members).access(.organisationAdmin)
        organisation.post("members", use: Self.invite).access(.organisationAdmin)
        organisation.delete("members", ":colleague", use: Self.remove).access(.organisationAdmin)
        organisation.delete("invitations", ":invitation", use: Self.cancel).access(.organisationAdmin)
    }

    // MARK: Who may

    /// The signed-in member and their organisation; 403 for anyone else.
    static func member(_ req: Request, admin: Bool = false) async throws -> (Account, Organisation) {
        let account = try req.requireAuthenticated().account
        let words = OrganisationWording(account.language)
        guard let organisation = try await OrganisationService(req).organisation(of: account) else {
            throw Abort(.forbidden, reason: words.membersOnly)
        }
        guard !admin || account.organisationAdmin else { throw Abort(.forbidden, reason: words.adminsOnly) }
        return (account, organisation)
    }

    // MARK: Bodies

    struct OrganisationBody: Content {
        var id: UUID
        var name: String
        var kind: OrganisationKind
        /// The address tenants share with: what they share with it lands in the inbox.
        var email: String?
        /// Whether the address was confirmed from its mailbox (until then, nothing reaches the inbox).
        var addressConfirmed: Bool
        /// Whether the signed-in member administers it.
        var admin: Bool
    }

    struct ReceivedBody: Content {
        struct Item: Content {
            var id: UUID
            var type: String
            var name: String
            var guarantor: Bool
            var validated: Bool
        }

        var id: UUID
        var reference: String
        var tenant: String
        var kind: RecipientKind
        var purpose: String
        var wholeFile: Bool
        var createdAt: Date
        var expiresAt: Date
        /// In the answer for one file only (reading it is logged as a view).
        var documents: [Item]?
    }

    struct MemberBody: Content {
        var id: UUID
        var email: String
        var firstName: String
        var lastName: String
        var admin: Bool
        var joinedAt: Date
    }

    struct InvitationBody: Content {
        var id: UUID
        var email: String
        var admin: Bool
        var sentAt: Date
        var expiresAt: Date
    }

    struct MembersBody: Content {
        var members: [MemberBody]
        var invitations: [InvitationBody]
    }

    struct InviteBody: Content {
        var email: String
        var admin: Bool?
    }

    struct JoinBody: Content {
        var token: String
        var firstName: String
        var lastName: String
        var password: String
    }

    static func received(_ share: Share, tenant: Account?, purpose: String, documents: [DocumentListing]?, language: Language,
                         catalogue: DocumentCatalogue) throws -> ReceivedBody {
        ReceivedBody(id: try share.requireID(), reference: share.reference, tenant: tenant.map { "\($0.firstName) \($0.lastName)" } ?? "",
                     kind: share.recipientKind, purpose: purpose, wholeFile: share.wholeFile, createdAt: share.createdAt, expiresAt: share.expiresAt,
                     documents: documents?.map { document in
                         .init(id: document.id, type: document.type, name: catalogue.name(of: document.type, in: language),
                               guarantor: document.guarantorID != nil, validated: document.status == .validated)
                     })
    }

    static func members(_ found: OrganisationService.Members) throws -> MembersBody {
        MembersBody(members: try found.accounts.map {
            MemberBody(id: try $0.requireID(), email: $0.email, firstName: $0.firstName, lastName: $0.lastName, admin: $0.organisationAdmin,
                       joinedAt: $0.createdAt)
        }, invitations: try found.invitations.map {
            InvitationBody(id: try $0.requireID(), email: $0.email, admin: $0.admin, sentAt: $0.createdAt, expiresAt: $0.expiresAt)
        })
    }

    // MARK: Members' routes

    static func show(req: Request) async throws -> OrganisationBody {
        let (account, organisation) = try await member(req)
        return OrganisationBody(id: try organisation.requireID(), name: organisation.name, kind: organisation.kind, email: organisation.email,
                                addressConfirmed: organisation.addressConfirmedAt != nil, admin: account.organisationAdmin)
    }

    static func inbox(req: Request) async throws -> [ReceivedBody] {
        let (account, organisation) = try await member(req)
        let service = OrganisationService(req)
        var result: [ReceivedBody] = []
        for share in try await service.inbox(of: organisation) {
            // A link whose tenant's key is gone (erased) is not listed.
            guard let details = try? await service.shares.details(of: share) else { continue }
            result.append(try received(share, tenant: share.account, purpose: details.purpose, documents: nil, language: account.language,
                                       catalogue: req.dossier.catalogue))
        }
        return result
    }

    /// A link protected by an access code asks it of members too (the tenant chose it): in
    /// `X-Access-Code`, or a cookie a page's form set (401 until then).
    struct CodeAsked: AbortError {
        var wrong: Bool
        var triesLeft: Int
        var language: Language
        var status: HTTPResponseStatus { .unauthorized }
        var reason: String { SharingWording(language).codeAsked(wrong: wrong, triesLeft: triesLeft) }
    }

    /// The cookie that proves a member's browser typed a protected link's code, per link.
    static func codeCookie(_ share: Share) -> String { "dossier_inbox_\(share.reference)" }

    /// A file of the inbox that serves now, with the services that deliver it; else its refusal
    /// (or, for a protected link, the code asked: `askingCode` false skips that, for the form
    /// that takes the code).
    typealias Opened = (share: Share, service: OrganisationService, viewer: (account: Account, seen: ShareViewer))

    static func opened(_ req: Request, askingCode: Bool = true) async throws -> Opened {
        let (account, organisation) = try await member(req)
        let language = req.webLanguage
        let service = OrganisationService(req)
        let share = try await service.open(try req.parameters.id("received"), by: organisation, language: language)
        let sent = req.headers.first(name: "X-Access-Code")
        // A code that cannot be one is refused as such, whether the link asks for one or not.
        if let sent, !ShareRules.isAccessCode(sent) { throw Abort(.badRequest, reason: SharingWording(language).codeFormat) }
        if askingCode, share.codeHash != nil {
            let check = try await service.shares.checkCode(share, code: sent, proof: req.cookies[codeCookie(share)]?.string, language: language)
            if case let .asked(wrong, left) = check { throw CodeAsked(wrong: wrong, triesLeft: left, language: language) }
        }
        return (share, service, service.viewer(account, of: organisation))
    }

    static func received(req: Request) async throws -> Response {
        let (share, service, viewer) = try await opened(req)
        let owner = try await Account.find(share.$account.id, on: req.db)
        let documents = try await service.shares.documents(for: share, owner: owner)
        let details = try await service.shares.details(of: share)
        try await service.shares.record(.view, through: share, viewer: viewer)
        let body = try received(share, tenant: owner, purpose: details.purpose, documents: documents, language: viewer.account.language,
                                catalogue: req.dossier.catalogue)
        return SharesController.private_(try await body.encodeResponse(for: req))
    }

    static func document(req: Request) async throws -> Response { try await deliver(.document, try await opened(req), req: req) }
    static func filePDF(req: Request) async throws -> Response { try await deliver(.filePDF, try await opened(req), req: req) }
    static func fileZIP(req: Request) async throws -> Response { try await deliver(.fileZIP, try await opened(req), req: req) }

    /// A file of the inbox, opened (`opened`), delivered watermarked, the access logged: one
    /// document (the path's, 404 for one the link does not carry), or the whole file as a PDF
    /// or a ZIP. The API and the pages deliver alike.
    enum Delivery { case document, filePDF, fileZIP }

    static func deliver(_ what: Delivery, _ opened: Opened, req: Request) async throws -> Response {
        let (share, service, viewer) = opened
        let shares = service.shares
        switch what {
        case .document:
            guard let id = UUID(uuidString: req.parameters.get("document") ?? ""),
                  let document = try await shares.documents(for: share).first(where: { $0.id == id }) else {
                throw Abort(.notFound, reason: SharingWording(viewer.account.language).noSuchDocument)
            }
            let pdf = try await shares.rendition(of: document, through: share)
            try await shares.record(.document, through: share, document: document, viewer: viewer)
            return SharesController.pdfResponse(pdf, name: "\(document.type)-\(share.reference).pdf")
        case .filePDF:
            let pdf = try await shares.wholeFile(try await shares.documents(for: share), through: share)
            try await shares.record(.filePDF, through: share, viewer: viewer)
            return SharesController.pdfResponse(pdf, name: "dossier-\(share.reference).pdf")
        case .fileZIP:
            let zip = try await shares.archive(try await shares.documents(for: share), through: share)
            try await shares.record(.fileZIP, through: share, viewer: viewer)
            return SharesController.pdfResponse(zip, name: "dossier-\(share.reference).zip", type: "application/zip")
        }
    }

    // MARK: Administrators' routes

    static func members(req: Request) async throws -> MembersBody {
        let (_, organisation) = try await member(req, admin: true)
        return try members(try await OrganisationService(req).members(of: organisation))
    }

    static func invite(req: Request) async throws -> Response {
        let (account, organisation) = try await member(req, admin: true)
        let body = try req.decodeBody(InviteBody.self, language: account.language)
        let invitation = try await OrganisationService(req).invite(body.email, admin: body.admin ?? false, to: organisation, by: account,
                                                                   language: account.language)
        return try await InvitationBody(id: try invitation.requireID(), email: invitation.email, admin: invitation.admin, sentAt: invitation.createdAt, expiresAt: invitation.expiresAt)
            .encodeResponse(status: .created, for: req)
    }

    static func remove(req: Request) async throws -> HTTPStatus {
        let (account, organisation) = try await member(req, admin: true)
        try await OrganisationService(req).remove(try req.parameters.id("colleague"), from: organisation, by: account, language: account.language)
        return .noContent
    }

    static func cancel(req: Request) async throws -> HTTPStatus {
        let (account, organisation) = try await member(req, admin: true)
        try await OrganisationService(req).cancel(try req.parameters.id("invitation"), of: organisation, by: account, language: account.language)
        return .noContent
    }

    // MARK: Joining

    static func join(req: Request) async throws -> Response {
        let language = try req.policyLanguage()
        let body = try req.decodeBody(JoinBody.self, language: language)
        let account = try await OrganisationService(req).accept(token: body.token, firstName: body.firstName, lastName: body.lastName,
                                                                password: body.password, language: language, passwords: req.password.async)
        return try await MemberBody(id: try account.requireID(), email: account.email, firstName: account.firstName, lastName: account.lastName,
                                    admin: account.organisationAdmin, joinedAt: account.createdAt).encodeResponse(status: .created, for: req)
    }
}

extension OrganisationsController.InviteBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([
            .required("email", .email),
            .optional("admin", .nullable(.boolean).described("Joins as an administrator of the organisation (default: no)")),
        ])
    }
}

extension OrganisationsController.JoinBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        let policy = PasswordPolicy()
        return .object([
            .required("token", .text.described("The token from the emailed invitation")),
            .required("firstName", .typed(maxLength: SignUpRules.maximumNameLength, required: true)),
            .required("lastName", .typed(maxLength: SignUpRules.maximumNameLength, required: true)),
            .required("password", .string(minLength: policy.minimumLength, maxLength: policy.maximumLength)
                .described("\(policy.minimumLength) to \(policy.maximumLength) characters; not a common password, not one's own name or address")),
        ])
    }
}
