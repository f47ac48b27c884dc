import DossierCore
import Fluent
import Vapor

/// The tenant's own file through the API: catalogue, profile, guarantors, documents,
/// completeness and applications.
struct RentalFileController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let api = routes.grouped("api", "v1")
        api.get("catalogue", "documents", use: Self.catalogue).access(.anyone)
        let me = api.grouped(BearerAuthMiddleware()).grouped("me")
        me.get("profile", use: Self.profile).access(.signedIn)
        me.patch("profile", use: Self.updateProfile).access(.signedIn)
        me.get("guarantors", use: Self.guarantors).access(.signedIn)
        me.post("guarantors", use: Self.addGuarantor).access(.signedIn)
        me.delete("guarantors", ":guarantor", use: Self.removeGuarantor).access(.owner)
        // Streamed: the caller is known and admitted before a byte of the body is read.
        me.on(.POST, "documents", body: .stream, use: Self.upload).access(.signedIn)
        me.get("documents", use: Self.documents).access(.signedIn)
        me.get("documents", ":document", "content", use: Self.content).access(.owner)
        me.delete("documents", ":document", use: Self.delete).access(.owner)
        me.get("completeness", use: Self.completeness).access(.signedIn)
        me.get("application", use: Self.application).access(.signedIn)
        me.post("application", use: Self.createApplication).access(.signedIn)
        me.post("application", "join", use: Self.join).access(.signedIn)
        me.delete("application", use: Self.leave).access(.signedIn)
        me.post("application", "members", ":member", "approve", use: Self.approve).access(.owner)
        me.delete("application", "members", ":member", use: Self.decline).access(.owner)
        me.get("application", "members", ":partner", "documents", ":document", "content", use: Self.partnerContent).access(.partner)
    }

    // MARK: Catalogue

    struct CatalogueEntry: Content {
        var id: String
        var category: String?
        var categoryName: LocalizedText?
        var name: LocalizedText
        var `for`: [PersonKind]
        var minimumFiles: Int
        var forbidden: Bool
        var why: LocalizedText?
    }

    /// Every document type, and the forbidden ones with why.
    static func catalogue(req: Request) async throws -> [CatalogueEntry] {
        let catalogue = req.dossier.catalogue
        return catalogue.categories.flatMap { category in
            category.types.map {
                CatalogueEntry(id: $0.id, category: category.id, categoryName: category.name, name: $0.name, for: $0.for,
                               minimumFiles: $0.requiredFiles, forbidden: false, why: nil)
            }
        } + catalogue.forbidden.map {
            CatalogueEntry(id: $0.id, category: nil, categoryName: nil, name: $0.name, for: [], minimumFiles: 0, forbidden: true,
                           why: catalogue.forbiddenReason)
        }
    }

    // MARK: Profile

    struct ProfileBody: Content {
        var firstName: String
        var lastName: String
        var email: String
        var profile: RentalProfile
        /// Fields the register marks mandatory.
        var mandatory: [String]
    }

    static func profileBody(_ account: Account, _ profile: RentalProfile, register: Register) -> ProfileBody {
        let mandatory = register.categories.flatMap { $0.mandatoryFields.map(\.id) }
        return ProfileBody(firstName: account.firstName, lastName: account.lastName, email: account.email, profile: profile, mandatory: mandatory)
    }

    static func profile(req: Request) async throws -> ProfileBody {
        let account = try req.requireAuthenticated().account
        return profileBody(account, try await RentalFileService(req).profile(of: account), register: req.register)
    }

    static func updateProfile(req: Request) async throws -> ProfileBody {
        let account = try req.requireAuthenticated().account
        guard case let .object(patch) = try req.content.decode(JSONValue.self) else {
            throw Abort(.badRequest, reason: "Send a JSON object of the fields to change.")
        }
        let updated = try await RentalFileService(req).updateProfile(of: account, patch: patch, language: account.language)
        return profileBody(account, updated, register: req.register)
    }

    // MARK: Guarantors

    struct GuarantorBody: Content {
        var id: UUID
        var kind: PersonKind
        var name: String
        var email: String?
        var phone: String?
    }

    struct NewGuarantor: Content {
        var kind: PersonKind
        var name: String
        var email: String?
        var phone: String?
    }

    static func guarantorBody(_ guarantor: Guarantor, _ service: RentalFileService) async throws -> GuarantorBody {
        let details = try await service.details(of: guarantor)
        return GuarantorBody(id: try guarantor.requireID(), kind: guarantor.kind, name: details.name, email: details.email, phone: details.phone)
    }

    static func guarantors(req: Request) async throws -> [GuarantorBody] {
        let service = RentalFileService(req)
        var result: [GuarantorBody] = []
        for guarantor in try await service.guarantors(of: req.requireAuthenticated().account) {
            result.append(try await guarantorBody(guarantor, service))
        }
        return result
    }

    static func addGuarantor(req: Request) async throws -> Response {
        let account = try req.requireAuthenticated().account
        let body = try req.decodeBody(NewGuarantor.self, language: account.language)
        let service = RentalFileService(req)
        let guarantor = try await service.addGuarantor(to: account, kind: body.kind,
                                                       details: .init(name: body.name, email: body.email, phone: body.phone),
                                                       language: account.language)
        return try await guarantorBody(guarantor, service).encodeResponse(status: .created, for: req)
    }

    static func removeGuarantor(req: Request) async throws -> HTTPStatus {
        let account = try req.requireAuthenticated().account
        let id = try req.parameters.id("guarantor")
        guard let guarantor = try await RentalFileService(req).guarantor(id, of: account) else {
            throw Abort(.notFound, reason: "No such guarantor.")
        }
        try await RentalFileService(req).removeGuarantor(guarantor, by: account)
        return .noContent
    }

    // MARK: Documents

    struct DocumentBody: Content {
        struct File: Content {
            var position: Int
            var kind: String
            var size: Int
            var name: String
        }

        struct Review: Content {
            var decision: String
            var reasons: [DocumentCatalogue.DeclineReason]
            var comment: String?
            var at: Date
        }

        var id: UUID
        var type: String
        var category: String
        var guarantor: UUID?
        var status: String
        var source: String
        var receivedAt: Date?
        var createdAt: Date
        var files: [File]
        var reviews: [Review]
    }

    static func documentBody(_ document: Document, service: RentalFileService) async throws -> DocumentBody {
        try await documentBody(DocumentListing(document), service: service)
    }

    static func documentBody(_ document: DocumentListing, service: RentalFileService) async throws -> DocumentBody {
        let files = try await service.namedFiles(of: document).map {
            DocumentBody.File(position: $0.file.position, kind: $0.file.kind, size: $0.file.size, name: $0.name)
        }
        let reviews = document.reviews.sorted { $0.createdAt < $1.createdAt }.map { review in
            DocumentBody.Review(decision: review.decision.rawValue,
                                reasons: review.reasonIDs.compactMap { service.catalogue.declineReason($0) },
                                comment: review.comment, at: review.createdAt)
        }
        return DocumentBody(id: document.id, type: document.type, category: document.category, guarantor: document.guarantorID,
                            status: document.status.rawValue, source: document.source.rawValue, receivedAt: document.receivedAt,
                            createdAt: document.createdAt, files: files, reviews: reviews)
    }

    /// `POST /api/v1/me/documents`: multipart with `type`, one or more `file`, and `guarantor` (id) for a guarantor's document.
    static func upload(req: Request) async throws -> Response {
        let account = try req.requireAuthenticated().account
        let service = RentalFileService(req)
        try service.requireVerified(account, language: account.language)
        return try await req.dossier.uploads.admit(try account.requireID(), language: account.language) {
            try await receiveUpload(req: req, account: account)
        }
    }

    private static func receiveUpload(req: Request, account: Account) async throws -> Response {
        try await MultipartUpload.receive(req, maximumBytes: RentalFileService.maximumBody, maximumFiles: RentalFileService.maximumFiles, language: account.language) { form in
            try await store(form, req: req, account: account)
        }
    }

    private static func store(_ form: MultipartUpload, req: Request, account: Account) async throws -> Response {
        try form.requireKnownFields(["type", "guarantor"], language: account.language)
        guard let type = form.fields["type"], !type.isEmpty else {
            throw ValidationFailure(problems: [FieldProblem(field: "type", message: AccountWording(account.language).required)])
        }
        let guarantorID = try form.guarantorID()
        let service = RentalFileService(req)
        let document = try await service.upload(for: account, guarantorID: guarantorID, type: type, files: form.files, source: .upload,
                                                receivedAt: nil, filedBy: account.subject, language: account.language)
        guard let stored = try await Document.query(on: req.db).filter(\.$id == document.requireID()).with(\.$files).with(\.$reviews).first() else {
            throw Abort(.notFound, reason: "No such document.")
        }
        return try await documentBody(stored, service: service).encodeResponse(status: .created, for: req)
    }

    static func documents(req: Request) async throws -> [DocumentBody] {
        let service = RentalFileService(req)
        var result: [DocumentBody] = []
        for document in try await service.documents(of: req.requireAuthenticated().account) {
            result.append(try await documentBody(document, service: service))
        }
        return result
    }

    /// The owner's document, or 404 (the same for a document that exists but is someone else's).
    static func ownDocument(_ req: Request) async throws -> Document {
        let account = try req.requireAuthenticated().account
        let id = try req.parameters.id("document")
        guard let document = try await RentalFileService(req).document(id, of: account) else {
            throw Abort(.notFound, reason: "No such document.")
        }
        return document
    }

    /// `GET …/{id}/content?file=N`: the document's file N (default 1), as stored.
    static func content(req: Request) async throws -> Response {
        try await fileResponse(try await ownDocument(req), req: req)
    }

    static func fileResponse(_ document: Document, req: Request) async throws -> Response {
        let raw = req.query[String.self, at: "file"]
        guard let position = raw.map({ Int($0) }) ?? 1, (1...RentalFileService.maximumFiles).contains(position) else {
            throw Abort(.notFound, reason: "No such file in this document (file=1 to \(RentalFileService.maximumFiles)).")
        }
        let (content, kind, name) = try await RentalFileService(req).content(of: document, position: position)
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: kind.mediaType)
        let safe = String(name.unicodeScalars.filter { $0.isASCII && $0 != "\"" && $0 != "\\" && !CharacterSet.controlCharacters.contains($0) })
        headers.replaceOrAdd(name: .contentDisposition, value: "inline; filename=\"\(safe.isEmpty ? "document.\(kind.fileExtension)" : safe)\"")
        headers.replaceOrAdd(name: .cacheControl, value: "private, no-store")
        // Whatever the file holds, it runs nothing in the browser: a sandbox without scripts,
        // plugins, forms or same-origin access.
        headers.replaceOrAdd(name: "Content-Security-Policy", value: DocumentSecurity.contentPolicy)
        // Sent a chunk at a time as it is opened: the length is known, so a stream cut by a
        // damaged chunk is seen as cut by the client.
        let logger = req.logger
        return Response(status: .ok, headers: headers, body: .init(asyncStream: { writer in
            do {
                while let piece = try content.next() {
                    try await writer.write(.buffer(ByteBuffer(data: piece)))
                }
                try await writer.write(.end)
            } catch {
                content.close()
                if error is SealedStream.Failure {
                    logger.error("a stored file stopped opening while it was sent (a damaged blob: run dossier verify)")
                } else {
                    // The client went away, most often.
                    logger.debug("a file's sending stopped: \(String(describing: type(of: error)))")
                }
                try? await writer.write(.error(error))
            }
        }, count: content.size))
    }

    static func delete(req: Request) async throws -> HTTPStatus {
        let account = try req.requireAuthenticated().account
        try await RentalFileService(req).delete(try await ownDocument(req), by: account.subject)
        return .noContent
    }

    static func completeness(req: Request) async throws -> [RentalFileService.PersonCompleteness] {
        try await RentalFileService(req).completeness(of: req.requireAuthenticated().account)
    }

    // MARK: Applications

    struct ApplicationBody: Content {
        struct Member: Content {
            var account: UUID
            var firstName: String
            var lastName: String
            var isMe: Bool
            /// False while the member waits for another member's approval.
            var approved: Bool
            /// A waiting member's confirmed address, so that those who decide know who asks.
            var email: String? = nil
            /// Only for a couple's partner: their file's completeness and documents.
            var completeness: [RentalFileService.PersonCompleteness]?
            var documents: [DocumentBody]?
        }
        enum Status: String, Content { case member, pending }
        var id: UUID
        var kind: ApplicationKind
        /// `pending` while the viewer waits to be let in: then nothing else is shown.
        var status: Status
        var members: [Member]
        /// Shown once, to the creator: what the others type to join.
        var joinCode: String?
    }

    static func applicationBody(_ application: RentalApplication, viewer: Account, code: String?, req: Request) async throws -> ApplicationBody {
        let service = RentalFileService(req)
        let members = try await ApplicationMember.query(on: req.db).filter(\.$application.$id == application.requireID()).with(\.$account).all()
        var result: [ApplicationBody.Member] = []
        for member in members {
            let isMe = member.account.id == viewer.id
            var entry = ApplicationBody.Member(account: try member.account.requireID(), firstName: member.account.firstName,
                                               lastName: member.account.lastName, isMe: isMe, approved: member.isApproved,
                                               email: member.isApproved || isMe ? nil : member.account.email)
            // A partner who restricted processing (Art. 18) is listed, their file not shown (the
            // audit trail would refuse the read, and the page with it).
            if !isMe, member.isApproved, try await service.may(viewer, see: member.account.requireID()),
               try await RestrictionService.restricted(among: [member.account.subject, viewer.subject], on: req.db).isEmpty {
                entry.completeness = try await service.completeness(of: member.account)
                var documents: [DocumentBody] = []
                for document in try await service.documents(of: member.account) {
                    documents.append(try await documentBody(document, service: service))
                }
                entry.documents = documents
                try await req.dossier.audit.record(
                    AuditEvent(action: "file.read", subject: member.account.subject, purpose: "services", reason: "couple partner"),
                    by: viewer.subject, on: req.db
                )
            }
            result.append(entry)
        }
        return ApplicationBody(id: try application.requireID(), kind: application.kind, status: .member, members: result, joinCode: code)
    }

    static func application(req: Request) async throws -> ApplicationBody {
        let account = try req.requireAuthenticated().account
        guard let membership = try await RentalFileService(req).membership(of: account) else {
            throw Abort(.notFound, reason: "You are not part of an application yet: POST /api/v1/me/application.")
        }
        guard membership.isApproved else { return try pendingBody(membership, viewer: account) }
        return try await applicationBody(membership.application, viewer: account, code: nil, req: req)
    }

    /// A newcomer waiting for approval sees only that they wait.
    static func pendingBody(_ membership: ApplicationMember, viewer: Account) throws -> ApplicationBody {
        ApplicationBody(id: try membership.application.requireID(), kind: membership.application.kind, status: .pending,
                        members: [.init(account: try viewer.requireID(), firstName: viewer.firstName, lastName: viewer.lastName, isMe: true,
                                        approved: false)],
                        joinCode: nil)
    }

    /// `DELETE /api/v1/me/application`: leave the application (or withdraw a request to join).
    static func leave(req: Request) async throws -> HTTPStatus {
        let account = try req.requireAuthenticated().account
        try await RentalFileService(req).leave(account, language: account.language)
        return .noContent
    }

    /// `POST /api/v1/me/application/members/{account}/approve`: let a waiting tenant in.
    static func approve(req: Request) async throws -> ApplicationBody {
        let account = try req.requireAuthenticated().account
        let candidate = try req.parameters.id("member")
        let service = RentalFileService(req)
        try await service.decide(on: candidate, approve: true, by: account, language: account.language)
        guard let application = try await service.application(of: account) else { throw Abort(.notFound) }
        return try await applicationBody(application, viewer: account, code: nil, req: req)
    }

    /// `DELETE /api/v1/me/application/members/{account}`: turn a waiting tenant away.
    static func decline(req: Request) async throws -> HTTPStatus {
        let account = try req.requireAuthenticated().account
        let candidate = try req.parameters.id("member")
        try await RentalFileService(req).decide(on: candidate, approve: false, by: account, language: account.language)
        return .noContent
    }

    struct NewApplication: Content {
        var kind: ApplicationKind
    }

    static func createApplication(req: Request) async throws -> Response {
        let account = try req.requireAuthenticated().account
        let body = try req.decodeBody(NewApplication.self, language: account.language)
        let (application, code) = try await RentalFileService(req).createApplication(for: account, kind: body.kind, language: account.language)
        return try await applicationBody(application, viewer: account, code: code, req: req).encodeResponse(status: .created, for: req)
    }

    struct JoinBody: Content {
        var code: String
    }

    static func join(req: Request) async throws -> ApplicationBody {
        let account = try req.requireAuthenticated().account
        let body = try req.decodeBody(JoinBody.self, language: account.language)
        let service = RentalFileService(req)
        _ = try await service.join(account, code: body.code, client: ClientInfo(req), language: account.language)
        guard let membership = try await service.membership(of: account) else { throw Abort(.notFound) }
        return try pendingBody(membership, viewer: account)
    }

    /// A couple partner's document file; 404 for anyone else. Audited: it is a read of another person's data.
    static func partnerContent(req: Request) async throws -> Response {
        let viewer = try req.requireAuthenticated().account
        let ownerID = try req.parameters.id("partner")
        let documentID = try req.parameters.id("document")
        guard try viewer.requireID() != ownerID, try await RentalFileService(req).may(viewer, see: ownerID),
              let document = try await Document.query(on: req.db).filter(\.$id == documentID).filter(\.$account.$id == ownerID).first()
        else {
            throw Abort(.notFound, reason: "No such document.")
        }
        try await req.dossier.audit.record(
            AuditEvent(action: "document.read", subject: document.subject, purpose: "services", reason: "couple partner",
                       details: ["document": documentID.uuidString.lowercased()]),
            by: viewer.subject, on: req.db
        )
        return try await fileResponse(document, req: req)
    }
}

extension RentalFileController.NewGuarantor: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([
            .required("kind", .choice(GuarantorRules.kinds.map(\.rawValue))),
            .required("name", .typed(maxLength: GuarantorRules.maximumNameLength, required: true)),
            .optional("email", .nullable(.string(maxLength: EmailAddress.maximumLength, pattern: "^$|" + EmailAddress.pattern))
                .described("Optional (empty for none); from a confirmed account, the guarantor is told by email (GDPR Art. 14)")),
            .optional("phone", .nullable(ProfileSchemas.phone)),
        ])
    }
}

extension RentalFileController.NewApplication: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([.required("kind", .choice(ApplicationKind.allCases.map(\.rawValue)))])
    }
}

extension RentalFileController.JoinBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([.required("code", .text.described("The code the application's creator was given"))])
    }
}
