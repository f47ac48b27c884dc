import DossierCore
import Fluent
import Vapor

/// Staff only (operator, DPO, admin): the review queue, reading a file under review (audited),
/// deciding, and filing a document a tenant sent by email or post.
struct StaffController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let staff = routes.grouped("api", "v1", "staff").grouped(BearerAuthMiddleware(), StaffOnlyMiddleware())
        staff.get("reviews", use: Self.queue).access(.staff)
        staff.get("documents", ":document", "content", use: Self.content).access(.staff)
        staff.post("documents", ":document", "review", use: Self.review).access(.staff)
        staff.on(.POST, "tenants", ":account", "documents", body: .stream, use: Self.file).access(.staff)
    }

    struct QueueEntry: Content {
        var document: UUID
        var type: String
        var category: String
        var tenant: UUID
        var tenantName: String
        var guarantor: UUID?
        var files: Int
        var source: String
        var createdAt: Date
    }

    /// Documents awaiting review, oldest first.
    static func queue(req: Request) async throws -> [QueueEntry] {
        let pending = try await reviewable(Document.query(on: req.db).filter(\.$status == .pending), on: req.db).with(\.$account).with(\.$files)
            .sort(\.$createdAt).limit(500).all()
        try await auditQueueRead(pending, by: try req.requireAuthenticated().account, req: req)
        return try pending.map {
            QueueEntry(document: try $0.requireID(), type: $0.type, category: $0.category, tenant: try $0.account.requireID(),
                       tenantName: "\($0.account.firstName) \($0.account.lastName)", guarantor: $0.$guarantor.id,
                       files: $0.files.count, source: $0.source.rawValue, createdAt: $0.createdAt)
        }
    }

    static func document(_ req: Request) async throws -> Document {
        let id = try req.parameters.id("document")
        guard let document = try await Document.find(id, on: req.db) else { throw Abort(.notFound, reason: "No such document.") }
        return document
    }

    static func content(req: Request) async throws -> Response {
        try await reviewRead(try await document(req), by: try req.requireAuthenticated().account, req: req)
    }

    /// `query` narrowed to documents that may be reviewed: not those of someone who restricted
    /// processing (the audit trail would refuse reading them, `RestrictionGuard`); before the
    /// queue's limit, so that restricted files cannot crowd the others out.
    static func reviewable(_ query: QueryBuilder<Document>, on database: any Database) async throws -> QueryBuilder<Document> {
        let restricted = try await RestrictionService.allRestricted(on: database)
        return restricted.isEmpty ? query : query.filter(\.$subject !~ restricted)
    }

    /// The queue shows names and document types: one audit entry per person shown.
    static func auditQueueRead(_ documents: [Document], by reviewer: Account, req: Request) async throws {
        var seen = Set<String>()
        for document in documents where seen.insert(document.subject).inserted {
            try await req.dossier.audit.record(
                AuditEvent(action: "review-queue.read", subject: document.subject, purpose: "services", reason: "review"),
                by: reviewer.subject, on: req.db
            )
        }
    }

    /// A staff member opens a file under review: the reading is audited before the bytes go out.
    static func reviewRead(_ document: Document, by reviewer: Account, req: Request) async throws -> Response {
        try await req.dossier.audit.record(
            AuditEvent(action: "document.read", subject: document.subject, purpose: "services", reason: "review",
                       details: ["document": try document.requireID().uuidString.lowercased()]),
            by: reviewer.subject, on: req.db
        )
        return try await RentalFileController.fileResponse(document, req: req)
    }

    struct ReviewBody: Content {
        var decision: String
        var reasons: [String]?
        var comment: String?
    }

    static func review(req: Request) async throws -> HTTPStatus {
        let reviewer = try req.requireAuthenticated().account
        let body = try req.decodeBody(ReviewBody.self, language: reviewer.language)
        guard body.decision == "validated" || body.decision == "declined" else {
            throw ValidationFailure(problems: [FieldProblem(field: "decision", message: "Expected validated or declined.")])
        }
        try await RentalFileService(req).review(try await document(req), validated: body.decision == "validated",
                                                reasons: body.reasons ?? [], comment: body.comment, by: reviewer, language: reviewer.language)
        return .noContent
    }

    /// Files a document received by email or post on a tenant's behalf, with its source and date.
    static func file(req: Request) async throws -> Response {
        let staff = try req.requireAuthenticated().account
        let accountID = try req.parameters.id("account")
        guard let tenant = try await Account.find(accountID, on: req.db), tenant.role == .tenant else {
            throw Abort(.notFound, reason: "No such tenant.")
        }
        // An account whose address was never confirmed may be someone else's pre-registration.
        guard tenant.emailVerifiedAt != nil else {
            throw Abort(.conflict, reason: "This tenant has not confirmed their email address yet: nothing can be filed for them.")
        }
        // Reading, inspecting and storing all happen inside the gate, in the tenant's slot: a
        // filing and the tenant's own upload (or two filings) never run at once, so the quota
        // holds.
        let document = try await req.dossier.uploads.admit(try tenant.requireID(), language: staff.language) {
            try await MultipartUpload.receive(req, maximumBytes: RentalFileService.maximumBody, maximumFiles: RentalFileService.maximumFiles, language: staff.language) { form in
                try form.requireKnownFields(["type", "guarantor", "source", "receivedAt"], language: staff.language)
                guard let source = form.fields["source"].flatMap(Document.Source.init(rawValue:)), source != .upload else {
                    throw ValidationFailure(problems: [FieldProblem(field: "source", message: "Expected email or post.")])
                }
                guard let received = form.fields["receivedAt"].flatMap(PublicationDate.init), received.start <= req.dossier.clock.now else {
                    throw ValidationFailure(problems: [FieldProblem(field: "receivedAt", message: "Expected the date it was received, YYYY-MM-DD, not in the future.")])
                }
                return try await RentalFileService(req).upload(for: tenant, guarantorID: try form.guarantorID(), type: form.fields["type"] ?? "", files: form.files,
                                                               source: source, receivedAt: received.start, filedBy: staff.subject, language: staff.language)
            }
        }
        let service = RentalFileService(req)
        guard let stored = try await Document.query(on: req.db).filter(\.$id == document.requireID()).with(\.$files).with(\.$reviews).first() else {
            throw Abort(.notFound, reason: "No such document.")
        }
        return try await RentalFileController.documentBody(stored, service: service).encodeResponse(status: .created, for: req)
    }
}

/// Lets only staff roles through.
struct StaffOnlyMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard try request.requireAuthenticated().account.role.isStaff else {
            throw Abort(.forbidden, reason: "Staff only.")
        }
        return try await next.respond(to: request)
    }
}

extension StaffController.ReviewBody: APIRequestBody {
    /// Validated, or declined with at least one of the catalogue's reasons.
    static func schema(_ context: APIContext) -> Schema {
        let reasons = context.catalogue.declineReasons.map(\.id)
        let comment = Schema.Property.optional("comment", .nullable(.typed(maxLength: DocumentReview.maximumComment, multiline: true, required: false)))
        return .oneOf([
            .object([.required("decision", .constant("validated")), .optional("reasons", .nullable(.array(.choice(reasons)))), comment]),
            .object([.required("decision", .constant("declined")), .required("reasons", .array(.choice(reasons), minItems: 1)), comment]),
        ])
    }
}
