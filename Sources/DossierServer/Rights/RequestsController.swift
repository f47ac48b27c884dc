import DossierCore
import Fluent
import Vapor

/// Rights requests and post-mortem directives: the person's API and forms, and staff's queue
/// (API and pages), over `RequestService` and `DirectiveService`.
struct RequestsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let me = routes.grouped("api", "v1").grouped(BearerAuthMiddleware()).grouped("me")
        me.get("requests", use: Self.mine).access(.signedIn)
        me.post("requests", use: Self.file).access(.signedIn)
        me.get("directives", use: Self.directives).access(.signedIn)
        me.put("directives", use: Self.putDirectives).access(.signedIn)
        me.delete("directives", use: Self.withdrawDirectives).access(.signedIn)

        let staff = routes.grouped("api", "v1", "staff").grouped(BearerAuthMiddleware(), StaffOnlyMiddleware()).grouped("requests")
        staff.get(use: Self.queue).access(.staff)
        staff.post(use: Self.receive).access(.staff)
        staff.get(":request", use: Self.detail).access(.staff)
        staff.post(":request", "extension", use: Self.extend).access(.staff)
        staff.post(":request", "identity-request", use: Self.askIdentity).access(.staff)
        staff.on(.POST, ":request", "identity-proof", body: .collect(maxSize: ByteCount(value: RequestService.maximumProofBytes + 64 * 1024)),
                 use: Self.attachProof).access(.staff)
        staff.get(":request", "identity-proof", use: Self.proof).access(.staff)
        staff.post(":request", "identity", use: Self.checkIdentity).access(.staff)
        staff.post(":request", "answer", use: Self.answer).access(.staff)
        staff.post(":request", "refusal", use: Self.refuse).access(.staff)
        staff.get(":request", "export", use: Self.export).access(.staff)
        staff.get(":request", "directives", use: Self.requestDirectives).access(.staff)

        let web = routes.grouped(WebSessionMiddleware(), CSRFMiddleware())
        web.post("account", "requests", use: Self.webFile).access(.signedIn)
        web.post("account", "directives", use: Self.webDirectives).access(.signedIn)
        web.post("account", "directives", "withdraw", use: Self.webWithdrawDirectives).access(.signedIn)
        let pages = web.grouped("staff", "requests")
        pages.get(use: Self.queuePage).access(.staff)
        pages.post(use: Self.webReceive).access(.staff)
        pages.get(":request", use: Self.detailPage).access(.staff)
        for action in Action.allCases {
            pages.post(":request", PathComponent(stringLiteral: action.rawValue)) { req in try await Self.webAct(req: req, action: action) }.access(.staff)
        }
        pages.on(.POST, ":request", "identity-proof", body: .collect(maxSize: ByteCount(value: RequestService.maximumProofBytes + 64 * 1024)),
                 use: Self.webProof).access(.staff)
        pages.get(":request", "identity-proof", use: Self.proof).access(.staff)
        pages.get(":request", "export", use: Self.export).access(.staff)
    }

    // MARK: The person's

    struct FileBody: Content {
        var right: String
        var details: String?
    }

    static func mine(req: Request) async throws -> [RequestService.View] {
        let account = try req.requireAuthenticated().account
        return try await RequestService(req).mine(account, language: account.language)
    }

    static func file(req: Request) async throws -> Response {
        let account = try req.requireAuthenticated().account
        let body = try req.decodeBody(FileBody.self, language: account.language)
        let view = try await RequestService(req).file(account, right: body.right, details: body.details, language: account.language)
        return try await view.encodeResponse(status: .created, for: req)
    }

    static func directives(req: Request) async throws -> DirectiveService.Directives {
        let account = try req.requireAuthenticated().account
        guard let directives = try await DirectiveService(req).current(of: account) else {
            throw Abort(.notFound, reason: account.language == .fr ? "Vous n'avez pas enregistré de directives." : "You have recorded no directives.")
        }
        return directives
    }

    struct DirectivesBody: Content {
        var choice: String
        var instructions: String?
        var contact: DirectiveService.Contact?
    }

    /// 201 when recorded now, 200 when replacing earlier ones.
    static func putDirectives(req: Request) async throws -> Response {
        let account = try req.requireAuthenticated().account
        let body = try req.decodeBody(DirectivesBody.self, language: account.language)
        let (value, created) = try await DirectiveService(req).put(account, .init(choice: body.choice, instructions: body.instructions ?? "", contact: body.contact),
                                                                   language: account.language)
        return try await value.encodeResponse(status: created ? .created : .ok, for: req)
    }

    static func withdrawDirectives(req: Request) async throws -> HTTPStatus {
        let account = try req.requireAuthenticated().account
        try await DirectiveService(req).withdraw(account, language: account.language)
        return .noContent
    }

    struct RequestForm: Content {
        var right: String?
        var details: String?
    }

    static func webFile(req: Request) async throws -> Response {
        guard let account = req.authenticated?.account else { return req.redirect(to: "/signin") }
        let form = (try? req.content.decode(RequestForm.self)) ?? RequestForm()
        do {
            _ = try await RequestService(req).file(account, right: form.right ?? "", details: form.details, language: req.webLanguage)
        } catch let error as ValidationFailure {
            return try await RightsController.refusal(req, formProblems(error, naming: false))
        } catch let error as any AbortError where [.conflict, .forbidden].contains(error.status) {
            return try await RightsController.refusal(req, error)
        }
        return req.redirect(to: "/account#requests", redirectType: .normal)
    }

    struct DirectivesForm: Content {
        var choice: String?
        var instructions: String?
        var contactName: String?
        var contactEmail: String?
    }

    static func webDirectives(req: Request) async throws -> Response {
        guard let account = req.authenticated?.account else { return req.redirect(to: "/signin") }
        let form = (try? req.content.decode(DirectivesForm.self)) ?? DirectivesForm()
        let name = form.contactName?.trimmingCharacters(in: .whitespaces) ?? ""
        let email = form.contactEmail?.trimmingCharacters(in: .whitespaces) ?? ""
        let contact = name.isEmpty ? nil : DirectiveService.Contact(name: name, email: email.isEmpty ? nil : email)
        do {
            _ = try await DirectiveService(req).put(account, .init(choice: form.choice ?? "", instructions: form.instructions ?? "", contact: contact),
                                                    language: req.webLanguage)
        } catch let error as ValidationFailure {
            return try await RightsController.refusal(req, formProblems(error, naming: false))
        } catch let error as any AbortError where error.status == .conflict {
            return try await RightsController.refusal(req, error)
        }
        return req.redirect(to: "/account#directives", redirectType: .normal)
    }

    static func webWithdrawDirectives(req: Request) async throws -> Response {
        guard let account = req.authenticated?.account else { return req.redirect(to: "/signin") }
        do {
            try await DirectiveService(req).withdraw(account, language: req.webLanguage)
        } catch let error as any AbortError where error.status == .conflict {
            return try await RightsController.refusal(req, error)
        }
        return req.redirect(to: "/account#directives", redirectType: .normal)
    }

    // MARK: Staff's API

    static func queue(req: Request) async throws -> [RequestService.View] {
        let staff = try req.requireAuthenticated().account
        return try await RequestService(req).queue(status: try? req.query.get(String.self, at: "status"), by: staff, language: staff.language)
    }

    struct ReceiveBody: Content {
        var right: String
        var channel: String
        /// YYYY-MM-DD: the day the email or the letter arrived.
        var receivedAt: String
        var name: String
        var email: String?
        var concerning: String?
        var details: String?
        var language: String?
    }

    static func received(_ body: ReceiveBody, now: Date) throws -> RequestService.Received {
        guard let day = PublicationDate(body.receivedAt) else {
            throw ValidationFailure(problems: [FieldProblem(field: "receivedAt", message: "Expected the day it was received, YYYY-MM-DD.")])
        }
        // The day in Paris, where the deadline's days are counted: at its start, not after now.
        let calendar = RequestDeadline.calendar
        guard let start = calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day)), start <= now else {
            throw ValidationFailure(problems: [FieldProblem(field: "receivedAt", message: "Expected the day it was received, not in the future.")])
        }
        // Noon that day (the deadline counts days, not hours), or now if earlier.
        let received = min(start + 12 * 3600, now)
        var language = Language.fr
        if let given = body.language {
            guard let chosen = Language(rawValue: given) else {
                throw ValidationFailure(problems: [FieldProblem(field: "language", message: "Expected one of: \(Language.allCases.map(\.rawValue).joined(separator: ", ")).")])
            }
            language = chosen
        }
        return .init(right: body.right, channel: body.channel, receivedAt: received, name: body.name, email: body.email, concerning: body.concerning,
                     details: body.details, language: language)
    }

    static func receive(req: Request) async throws -> Response {
        let staff = try req.requireAuthenticated().account
        let body = try req.decodeBody(ReceiveBody.self, language: staff.language)
        let view = try await RequestService(req).receive(try received(body, now: req.dossier.clock.now), by: staff)
        return try await view.encodeResponse(status: .created, for: req)
    }

    static func detail(req: Request) async throws -> RequestService.View {
        let staff = try req.requireAuthenticated().account
        return try await RequestService(req).detail(try req.parameters.id("request"), by: staff, language: staff.language)
    }

    struct ExtensionBody: Content {
        var reason: String
    }

    static func extend(req: Request) async throws -> RequestService.View {
        let staff = try req.requireAuthenticated().account
        let body = try req.decodeBody(ExtensionBody.self, language: staff.language)
        return try await RequestService(req).extend(try req.parameters.id("request"), reason: body.reason, by: staff, language: staff.language)
    }

    static func askIdentity(req: Request) async throws -> RequestService.View {
        let staff = try req.requireAuthenticated().account
        return try await RequestService(req).askIdentity(try req.parameters.id("request"), by: staff, language: staff.language)
    }

    /// The proof arrives as the request body (any type), or as the `file` of a multipart form.
    static func proofBytes(_ req: Request) throws -> Data {
        if req.headers.contentType?.type == "multipart" {
            struct Form: Content { var file: File? }
            guard let file = (try? req.content.decode(Form.self))?.file, file.data.readableBytes > 0 else {
                throw ValidationFailure(problems: [FieldProblem(field: "file", message: "Attach the proof of identity as 'file'.")])
            }
            return Data(buffer: file.data)
        }
        guard let body = req.body.data, body.readableBytes > 0 else {
            throw ValidationFailure(problems: [FieldProblem(field: "file", message: "Send the proof of identity as the request body.")])
        }
        return Data(buffer: body)
    }

    static func attachProof(req: Request) async throws -> Response {
        let staff = try req.requireAuthenticated().account
        let id = try req.parameters.id("request")
        let view = try await RequestService(req).attachProof(id, data: try proofBytes(req), by: staff, language: staff.language)
        return try await view.encodeResponse(status: .created, for: req)
    }

    static func proof(req: Request) async throws -> Response {
        let staff = try requireStaff(req)
        let data = try await RequestService(req).proof(try req.parameters.id("request"), by: staff)
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "application/octet-stream")
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"identity-proof\"")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }

    struct IdentityBody: Content {
        var outcome: String
    }

    static func checkIdentity(req: Request) async throws -> RequestService.View {
        let staff = try req.requireAuthenticated().account
        let body = try req.decodeBody(IdentityBody.self, language: staff.language)
        return try await RequestService(req).checkIdentity(try req.parameters.id("request"), outcome: body.outcome, by: staff, language: staff.language)
    }

    struct AnswerBody: Content {
        var answer: String?
    }

    static func answer(req: Request) async throws -> RequestService.View {
        let staff = try req.requireAuthenticated().account
        let body = req.body.data == nil ? AnswerBody() : try req.decodeBody(AnswerBody.self, language: staff.language)
        return try await RequestService(req).answer(try req.parameters.id("request"), note: body.answer, by: staff, language: staff.language)
    }

    struct RefusalBody: Content {
        var reason: String
        var details: String?
    }

    static func refuse(req: Request) async throws -> RequestService.View {
        let staff = try req.requireAuthenticated().account
        let body = try req.decodeBody(RefusalBody.self, language: staff.language)
        return try await RequestService(req).refuse(try req.parameters.id("request"), reason: body.reason, details: body.details, by: staff,
                                                    language: staff.language)
    }

    /// Staff answering an access or portability request download the person's export (audited).
    static func export(req: Request) async throws -> Response {
        let staff = try requireStaff(req)
        let service = RequestService(req)
        let request = try await service.find(try req.parameters.id("request"))
        guard ["access", "portability"].contains(request.right), !request.statusValue.isClosed else {
            throw Abort(.conflict, reason: "Only an open access or portability request gives its person's export.")
        }
        guard RequestService.mayReachAccount(request) else {
            throw Abort(.conflict, reason: "Verify the requester's identity first: a request received by email or post proves nothing by its address alone.")
        }
        guard let subject = request.accountSubject, let uuid = UUID(uuidString: subject),
              let account = try await Account.query(on: req.db).filter(\.$subjectID == uuid).first() else {
            throw Abort(.notFound, reason: "This request names no account.")
        }
        try await req.dossier.audit.record(AuditEvent(action: "request.export", subject: account.subject, purpose: RightsRequest.purpose,
                                                      details: ["request": request.reference]), by: staff.subject, on: req.db)
        return try await RightsController.exportResponse(req, account: account, language: Language(rawValue: request.language) ?? account.language)
    }

    static func requestDirectives(req: Request) async throws -> DirectiveService.Directives {
        let staff = try req.requireAuthenticated().account
        return try await DirectiveService(req).forRequest(try req.parameters.id("request"), by: staff)
    }

    // MARK: Staff's pages

    /// A request with its words for the page.
    struct Row: Encodable {
        var request: RequestService.View
        var id: String
        var status: String
        var channel: String
        var received: String
        var email: String
        var extensionReason: String
    }

    static func row(_ view: RequestService.View, _ labels: [String: String]) -> Row {
        Row(request: view, id: view.id.uuidString.lowercased(), status: labels["status-\(view.status)"] ?? view.status,
            channel: labels["channel-\(view.channel)"] ?? view.channel, received: parisDay(view.receivedAt),
            email: view.requesterEmail ?? "—", extensionReason: view.extensionReason ?? "")
    }

    struct QueuePage: Encodable {
        var rows: [Row]
        var rights: [Option]
        var channels: [Option]
        var today: String
    }

    struct Option: Encodable {
        var id: String
        var name: String
    }

    static func options(_ req: Request) -> (rights: [Option], refusals: [Option]) {
        let language = req.webLanguage
        return (RequestRules.types(in: req.register).map { Option(id: $0.id, name: $0.name[language]) },
                RequestRules.Refusal.allCases.map { Option(id: $0.rawValue, name: $0.text(language)) })
    }

    static func queuePage(req: Request) async throws -> Response {
        guard let staff = FileWebController.staffOnly(req) else { return try await notStaff(req) }
        let labels = WebWording.labels(req.webLanguage)
        let rows = try await RequestService(req).queue(status: nil, by: staff, language: req.webLanguage).map { row($0, labels) }
        let rights = options(req).rights
        let response = try await req.page("staff-requests", titleKey: "requests",
                                          body: QueuePage(rows: rows, rights: rights,
                                                          channels: [RequestRules.Channel.email, .post].map { Option(id: $0.rawValue, name: labels["channel-\($0.rawValue)"] ?? $0.rawValue) },
                                                          today: Self.parisDay(req.dossier.clock.now)))
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    /// A day as the deadline counts it: in Paris.
    static func parisDay(_ date: Date) -> String {
        let day = RequestDeadline.calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", day.year ?? 0, day.month ?? 0, day.day ?? 0)
    }

    struct ReceiveForm: Content {
        var right: String?
        var channel: String?
        var receivedAt: String?
        var name: String?
        var email: String?
        var concerning: String?
        var details: String?
        var language: String?
    }

    static func webReceive(req: Request) async throws -> Response {
        guard let staff = FileWebController.staffOnly(req) else { return try await notStaff(req) }
        let form = (try? req.content.decode(ReceiveForm.self)) ?? ReceiveForm()
        do {
            // A form's empty field is an absent one.
            func given(_ text: String?) -> String? { text?.trimmingCharacters(in: .whitespaces).isEmpty == false ? text : nil }
            let body = ReceiveBody(right: form.right ?? "", channel: form.channel ?? "", receivedAt: form.receivedAt ?? "", name: form.name ?? "",
                                   email: given(form.email), concerning: given(form.concerning), details: form.details, language: form.language)
            let view = try await RequestService(req).receive(try received(body, now: req.dossier.clock.now), by: staff)
            return req.redirect(to: "/staff/requests/\(view.id.uuidString.lowercased())", redirectType: .normal)
        } catch let error as ValidationFailure {
            return try await staffRefusal(req, formProblems(error, naming: true),
                                          back: "/staff/requests")
        }
    }

    /// Someone not signed in signs in; anyone else signed in is not staff: 403.
    static func notStaff(_ req: Request) async throws -> Response {
        req.authenticated == nil ? req.redirect(to: "/signin")
            : try await req.page("message", titleKey: "requests", body: MessageBody(text: "Staff only."), status: .forbidden)
    }

    /// The staff member a download shared by the API and the pages serves (the API's middleware
    /// has already turned others away; the pages' group has not).
    static func requireStaff(_ req: Request) throws -> Account {
        guard let account = req.authenticated?.account else { throw Abort(.unauthorized, reason: "Sign in first.") }
        guard account.role.isStaff else { throw Abort(.forbidden, reason: "Staff only.") }
        return account
    }

    /// A form's invalid fields, for its refusal page: their messages, with the fields' names
    /// where the form has several.
    static func formProblems(_ failure: ValidationFailure, naming: Bool) -> Abort {
        Abort(.unprocessableEntity, reason: failure.problems.map { naming ? "\($0.field): \($0.message)" : $0.message }.joined(separator: " "))
    }

    static func staffRefusal(_ req: Request, _ error: any AbortError, back: String) async throws -> Response {
        try await req.page("message", titleKey: "requests", body: MessageBody(text: error.reason, link: back), status: error.status)
    }

    struct DetailPage: Encodable {
        var request: Row
        var refusals: [Option]
        var directives: DirectivesView?
        var exportable: Bool
        var canExtend: Bool
    }

    struct DirectivesView: Encodable {
        var choice: String
        var instructions: String
        var contact: String
    }

    static func detailPage(req: Request) async throws -> Response {
        guard let staff = FileWebController.staffOnly(req) else { return try await notStaff(req) }
        let id = try req.parameters.id("request")
        let service = RequestService(req)
        let view = try await service.detail(id, by: staff, language: req.webLanguage)
        let closed = RequestRules.Status(rawValue: view.status)?.isClosed ?? true
        let reachable = RequestService.mayReachAccount(try await service.find(id)) && view.account == true
        var directives: DirectivesView?
        if view.right == "post-mortem", reachable, view.channel != RequestRules.Channel.account.rawValue,
           let found = try? await DirectiveService(req).forRequest(id, by: staff) {
            let labels = WebWording.labels(req.webLanguage)
            directives = DirectivesView(choice: labels["choice-\(found.choice)"] ?? found.choice, instructions: found.instructions,
                                        contact: found.contact.map { [$0.name, $0.email].compactMap { $0 }.joined(separator: ", ") } ?? "")
        }
        let page = DetailPage(request: row(view, WebWording.labels(req.webLanguage)), refusals: options(req).refusals, directives: directives,
                              exportable: ["access", "portability"].contains(view.right) && reachable,
                              canExtend: !closed && !view.extended && req.dossier.clock.now < view.dueAt)
        let response = try await req.page("staff-request", titleKey: "requests", body: page)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    struct ActionForm: Content {
        var reason: String?
        var outcome: String?
        var answer: String?
        var details: String?
    }

    /// The detail page's forms.
    enum Action: String, CaseIterable, Sendable {
        case extend = "extension", identityRequest = "identity-request", identity, answer, refusal
    }

    static func webAct(req: Request, action: Action) async throws -> Response {
        guard let staff = FileWebController.staffOnly(req) else { return try await notStaff(req) }
        let id = try req.parameters.id("request")
        let form = (try? req.content.decode(ActionForm.self)) ?? ActionForm()
        let service = RequestService(req)
        let language = req.webLanguage
        let back = "/staff/requests/\(id.uuidString.lowercased())"
        do {
            switch action {
            case .extend: _ = try await service.extend(id, reason: form.reason, by: staff, language: language)
            case .identityRequest: _ = try await service.askIdentity(id, by: staff, language: language)
            case .identity: _ = try await service.checkIdentity(id, outcome: form.outcome ?? "", by: staff, language: language)
            case .answer: _ = try await service.answer(id, note: form.answer, by: staff, language: language)
            case .refusal: _ = try await service.refuse(id, reason: form.reason ?? "", details: form.details, by: staff, language: language)
            }
        } catch let error as ValidationFailure {
            return try await staffRefusal(req, formProblems(error, naming: true), back: back)
        } catch let error as any AbortError where error.status == .conflict {
            return try await staffRefusal(req, error, back: back)
        }
        return req.redirect(to: back, redirectType: .normal)
    }

    static func webProof(req: Request) async throws -> Response {
        guard let staff = FileWebController.staffOnly(req) else { return try await notStaff(req) }
        let id = try req.parameters.id("request")
        let back = "/staff/requests/\(id.uuidString.lowercased())"
        do {
            _ = try await RequestService(req).attachProof(id, data: try proofBytes(req), by: staff, language: req.webLanguage)
        } catch let error as ValidationFailure {
            return try await staffRefusal(req, formProblems(error, naming: false), back: back)
        } catch let error as any AbortError where error.status == .conflict {
            return try await staffRefusal(req, error, back: back)
        }
        return req.redirect(to: back, redirectType: .normal)
    }
}

extension RequestsController.FileBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([.required("right", Schema.choice(RequestRules.types(in: context.register).map(\.id)).described("A right of the register with a deadline")),
                 .optional("details", Schema.nullable(.typed(maxLength: RequestService.maximumDetails, multiline: true, required: false)).described("What the person asks"))])
    }
}

extension RequestsController.DirectivesBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        let instructions = Schema.Property.optional("instructions", .nullable(.typed(maxLength: DirectiveService.maximumInstructions, multiline: true, required: false)))
        // (A field the contact does not name is ignored: the object is open.)
        let contact = Schema.object([.required("name", Schema.typed(maxLength: 200, required: true)),
                                     .optional("email", .nullable(Schema.email))], closed: false)
        return Schema.oneOf([
            .object([.required("choice", .choice([DirectiveService.Choice.erase.rawValue, DirectiveService.Choice.keep.rawValue])), instructions,
                     .optional("contact", .nullable(contact))]),
            .object([.required("choice", .constant(DirectiveService.Choice.communicate.rawValue)), instructions, .required("contact", contact)]),
        ]).described("erase: delete the data; keep: as the policy says; communicate: give it to the contact (who is then required)")
    }
}

extension RequestsController.ReceiveBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([.required("right", Schema.choice(RequestRules.types(in: context.register).map(\.id))),
                 .required("channel", Schema.choice([RequestRules.Channel.email.rawValue, RequestRules.Channel.post.rawValue])),
                 .required("receivedAt", Schema.string(format: "date").described("The day it was received, not in the future")),
                 .required("name", Schema.typed(maxLength: 200, required: true)),
                 .optional("email", Schema.nullable(Schema.email).described("Required for a request received by email: the answers go there")),
                 .optional("concerning", Schema.nullable(Schema.email)
                    .described("A post-mortem request only, where it is required: the address of the deceased's account (not the requester's)")),
                 .optional("details", .nullable(Schema.typed(maxLength: RequestService.maximumDetails, multiline: true, required: false))),
                 .optional("language", Schema.nullable(.choice(Language.allCases.map(\.rawValue))).described("Of the answers (default fr)"))])
    }
}

extension RequestsController.ExtensionBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([.required("reason", Schema.typed(maxLength: 1000, multiline: true, required: true).described("Why, sent to the requester"))])
    }
}

extension RequestsController.IdentityBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([.required("outcome", Schema.choice(RequestRules.IdentityCheck.allCases.map(\.rawValue)))])
    }
}

extension RequestsController.AnswerBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([.optional("answer", Schema.nullable(.typed(maxLength: RequestService.maximumDetails, multiline: true, required: false)).described("Mailed to the requester"))])
    }
}

extension RequestsController.RefusalBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([.required("reason", Schema.choice(RequestRules.Refusal.allCases.map(\.rawValue))),
                 .optional("details", Schema.nullable(.typed(maxLength: RequestService.maximumDetails, multiline: true, required: false)).described("Mailed to the requester with the reason"))])
    }
}
