import DossierCore
import Fluent
import Vapor

/// The tenant's file in the browser (profile, guarantors, documents with upload progress,
/// completeness) and the staff review queue.
struct FileWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let web = routes.grouped(WebSessionMiddleware(), CSRFMiddleware())
        web.get("file", use: Self.page).access(.signedIn)
        web.post("file", "profile", use: Self.saveProfile).access(.signedIn)
        web.post("file", "guarantors", use: Self.addGuarantor).access(.signedIn)
        web.post("file", "guarantors", ":guarantor", "delete", use: Self.removeGuarantor).access(.owner)
        // Streamed: the session, the CSRF token (header or query) and the admission are checked
        // before a byte of the body is read.
        web.on(.POST, "file", "documents", body: .stream, use: Self.upload).access(.signedIn)
        web.post("file", "household", ":member", "approve", use: Self.approveMember).access(.owner)
        web.post("file", "household", ":member", "decline", use: Self.declineMember).access(.owner)
        web.post("file", "household", "leave", use: Self.leaveHousehold).access(.signedIn)
        web.post("file", "documents", ":document", "delete", use: Self.deleteDocument).access(.owner)
        web.get("file", "documents", ":document", "content", use: Self.content).access(.owner)
        web.get("staff", "reviews", use: Self.reviews).access(.staff)
        web.get("staff", "documents", ":document", "content", use: Self.staffContent).access(.staff)
        web.post("staff", "documents", ":document", "review", use: Self.review).access(.staff)
        routes.get("assets", "upload.js", use: Self.script).access(.anyone)
    }

    // MARK: The file page

    struct Option: Encodable {
        var value: String
        var label: String
        var selected = false
    }

    struct OptionGroup: Encodable {
        var label: String
        var options: [Option]
    }

    struct DocumentRow: Encodable {
        var id: String
        var type: String
        var status: String
        var statusLabel: String
        var declined: Bool
        var files: [Option]
        var reasons: String?
        var comment: String?
    }

    struct PersonSection: Encodable {
        var id: String
        var kindLabel: String
        var name: String
        var isGuarantor: Bool
        var complete: Bool
        var categories: [Option]
        var documents: [DocumentRow]
    }

    struct FilePage: Encodable {
        var profile: [String: String]
        var errors: [String: String]
        var hasErrors: Bool
        var saved: Bool
        var familyOptions: [Option]
        var statusOptions: [Option]
        var people: [PersonSection]
        var typeGroups: [OptionGroup]
        var forbidden: [Option]
        var forbiddenReason: String
        var canAddGuarantor: Bool
        var uploadError: String?
        var verified: Bool
        /// The application's members, the waiting ones included.
        var household: [HouseholdMember]
        /// The viewer waits to be let in.
        var waiting: Bool
        /// The viewer may let others in.
        var canDecide: Bool
    }

    struct HouseholdMember: Encodable {
        var id: String
        var name: String
        var approved: Bool
        var isMe: Bool
    }

    static func page(req: Request) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        return try await render(req, account: current.account)
    }

    static func render(_ req: Request, account: Account, problems: [FieldProblem] = [], submitted: [String: String]? = nil,
                       uploadError: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let language = req.webLanguage
        let labels = WebWording.labels(language)
        let service = RentalFileService(req)
        let catalogue = service.catalogue
        let profile = try await service.profile(of: account)
        var values = profileValues(profile)
        if let submitted { values.merge(submitted) { $1 } }
        let documents = try await service.documents(of: account)
        let completeness = try await service.completeness(of: account)
        let guarantors = try await service.guarantors(of: account)
        let typeNames = Dictionary(uniqueKeysWithValues: catalogue.categories.flatMap(\.types).map { ($0.id, $0.name[language]) })

        var people: [PersonSection] = []
        for entry in completeness {
            let guarantorID = guarantors.first { $0.id?.uuidString.lowercased() == entry.person }?.id
            var rows: [DocumentRow] = []
            for document in documents where document.guarantorID == guarantorID {
                let review = document.reviews.sorted { $0.createdAt < $1.createdAt }.last
                let documentID = document.id
                let files = try await service.namedFiles(of: document).map {
                    Option(value: "/file/documents/\(documentID)/content?file=\($0.file.position)", label: $0.name)
                }
                rows.append(DocumentRow(
                    id: document.id.uuidString, type: typeNames[document.type] ?? document.type, status: document.status.rawValue,
                    statusLabel: labels["status-\(document.status.rawValue)"] ?? document.status.rawValue, declined: document.status == .declined,
                    files: files,
                    reasons: review.flatMap { $0.reasonIDs.isEmpty ? nil : $0.reasonIDs.compactMap { catalogue.declineReason($0)?.name[language] }.joined(separator: ", ") },
                    comment: review?.comment
                ))
            }
            people.append(PersonSection(
                id: guarantorID?.uuidString ?? "", kindLabel: labels["kind-\(entry.kind.rawValue)"] ?? entry.kind.rawValue, name: entry.name,
                isGuarantor: guarantorID != nil, complete: entry.complete,
                categories: entry.categories.map { Option(value: $0.complete ? "complete" : "missing", label: $0.name[language], selected: $0.complete) },
                documents: rows
            ))
        }
        let typeGroups = catalogue.categories.map { category in
            OptionGroup(label: category.name[language], options: category.types.map {
                Option(value: $0.id, label: $0.name[language] + ($0.requiredFiles > 1 ? " (\($0.requiredFiles))" : ""))
            })
        }
        var household: [HouseholdMember] = []
        let membership = try await service.membership(of: account)
        if let membership {
            let members = membership.isApproved ? membership.application.members : [membership]
            for member in members.sorted(by: { $0.joinedAt < $1.joinedAt }) {
                let isMe = member.account.id == account.id
                // Those who decide see who asks: the name they chose, and the address they confirmed.
                let name = "\(member.account.firstName) \(member.account.lastName)" + (member.isApproved || isMe ? "" : " <\(member.account.email)>")
                household.append(HouseholdMember(id: try member.account.requireID().uuidString, name: name,
                                                 approved: member.isApproved, isMe: isMe))
            }
        }
        let page = FilePage(
            profile: values,
            errors: Dictionary(problems.map { ($0.field, $0.message) }, uniquingKeysWith: { first, _ in first }),
            hasErrors: !problems.isEmpty,
            saved: req.query[String.self, at: "saved"] != nil,
            familyOptions: RentalProfile.FamilySituation.allCases.map { Option(value: $0.rawValue, label: $0.rawValue, selected: values["familySituation"] == $0.rawValue) },
            statusOptions: RentalProfile.ProfessionalStatus.allCases.map { Option(value: $0.rawValue, label: $0.rawValue, selected: values["professionalStatus"] == $0.rawValue) },
            people: people, typeGroups: typeGroups,
            forbidden: catalogue.forbidden.map { Option(value: $0.id, label: $0.name[language]) },
            forbiddenReason: catalogue.forbiddenReason[language],
            canAddGuarantor: guarantors.count < GuarantorRules.maximumPerTenant,
            uploadError: uploadError,
            verified: account.emailVerifiedAt != nil,
            household: household,
            waiting: membership.map { !$0.isApproved } ?? false,
            canDecide: membership?.isApproved ?? false
        )
        return try await req.page("file", titleKey: "myFile", body: page, status: status)
    }

    static let textFields = ["pseudonym", "postalAddress", "phone", "birthDate", "city", "desiredDate"]
    static let numberFields = ["surface", "rent", "monthlyIncome", "savings", "maxBudget"]

    static func profileValues(_ profile: RentalProfile) -> [String: String] {
        var values: [String: String] = [:]
        let texts: [String: String?] = ["pseudonym": profile.pseudonym, "postalAddress": profile.postalAddress, "phone": profile.phone,
                                        "birthDate": profile.birthDate, "city": profile.city,
                                        "desiredDate": profile.desiredDate, "familySituation": profile.familySituation?.rawValue,
                                        "professionalStatus": profile.professionalStatus?.rawValue]
        for (key, value) in texts { if let value { values[key] = value } }
        let numbers: [String: Int?] = ["surface": profile.surface, "rent": profile.rent, "monthlyIncome": profile.monthlyIncome,
                                       "savings": profile.savings, "maxBudget": profile.maxBudget]
        for (key, value) in numbers { if let value { values[key] = String(value) } }
        return values
    }

    // MARK: Profile and guarantors

    static func saveProfile(req: Request) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        let form = try req.content.decode([String: String].self)
        var patch: [String: JSONValue] = [:]
        var submitted: [String: String] = [:]
        for field in textFields + ["familySituation", "professionalStatus"] {
            let value = form[field]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            submitted[field] = value
            patch[field] = value.isEmpty ? .null : .string(value)
        }
        var problems: [FieldProblem] = []
        for field in numberFields {
            let value = form[field]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            submitted[field] = value
            if value.isEmpty { patch[field] = .null } else if let number = Int(value) { patch[field] = .number(Double(number)) } else {
                problems.append(FieldProblem(field: field, message: req.webLanguage == .fr ? "Nombre entier attendu." : "Whole number expected."))
            }
        }
        do {
            guard problems.isEmpty else { throw ValidationFailure(problems: problems) }
            _ = try await RentalFileService(req).updateProfile(of: current.account, patch: patch, language: req.webLanguage)
            return req.redirect(to: "/file?saved=1#profile", redirectType: .normal)
        } catch let failure as ValidationFailure {
            return try await render(req, account: current.account, problems: failure.problems, submitted: submitted, status: .unprocessableEntity)
        }
    }

    struct GuarantorForm: Content {
        var kind: PersonKind?
        var name: String?
        var email: String?
    }

    static func addGuarantor(req: Request) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        let form = try req.content.decode(GuarantorForm.self)
        do {
            _ = try await RentalFileService(req).addGuarantor(
                to: current.account, kind: form.kind ?? .guarantor,
                details: .init(name: form.name ?? "", email: form.email?.isEmpty == true ? nil : form.email, phone: nil), language: req.webLanguage
            )
            return req.redirect(to: "/file#guarantors", redirectType: .normal)
        } catch let failure as ValidationFailure {
            return try await render(req, account: current.account, uploadError: failure.problems.map(\.message).joined(separator: " "), status: .unprocessableEntity)
        } catch let abort as Abort where abort.status == .conflict {
            return try await render(req, account: current.account, uploadError: abort.reason, status: .conflict)
        }
    }

    static func removeGuarantor(req: Request) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        let id = try req.parameters.id("guarantor")
        // Someone else's guarantor and a missing one get the same 404.
        guard let guarantor = try await RentalFileService(req).guarantor(id, of: current.account) else {
            return try await render(req, account: current.account, uploadError: req.webLanguage == .fr ? "Garant introuvable." : "No such guarantor.",
                                    status: .notFound)
        }
        try await RentalFileService(req).removeGuarantor(guarantor, by: current.account)
        return req.redirect(to: "/file#guarantors", redirectType: .normal)
    }

    // MARK: Documents

    /// Scripts (asking for JSON) get JSON back, with the progress shown by `/assets/upload.js`;
    /// a plain form gets the page again.
    static func upload(req: Request) async throws -> Response {
        guard let current = req.authenticated else { throw Abort(.unauthorized, reason: "Sign in first.") }
        let wantsJSON = req.prefersJSON
        let account = current.account
        let language = req.webLanguage
        do {
            try RentalFileService(req).requireVerified(account, language: language)
            // Reading, inspecting and storing all happen inside the gate: one upload at a time per
            // account (so its quota cannot be overrun by parallel uploads), a few in all.
            let document = try await req.dossier.uploads.admit(try account.requireID(), language: language) {
                try await MultipartUpload.receive(req, maximumBytes: RentalFileService.maximumBody, maximumFiles: RentalFileService.maximumFiles, language: language) { form in
                    try form.requireKnownFields(["type", "guarantor", "csrf"], language: language)
                    return try await RentalFileService(req).upload(
                        for: account, guarantorID: try form.guarantorID(), type: form.fields["type"] ?? "", files: form.files,
                        source: .upload, receivedAt: nil, filedBy: account.subject, language: language
                    )
                }
            }
            if wantsJSON {
                return try await ["id": try document.requireID().uuidString].encodeResponse(status: .created, for: req)
            }
            return req.redirect(to: "/file#documents", redirectType: .normal)
        } catch let error as any AbortError where (error.status.code < 500 || error is any ExplainedFailure) && !wantsJSON {
            let page = try await render(req, account: account, uploadError: error.reason, status: error.status)
            page.adoptHeaders(of: error.headers)
            return page
        }
    }

    static func approveMember(req: Request) async throws -> Response {
        try await decideMember(req: req, approve: true)
    }

    static func declineMember(req: Request) async throws -> Response {
        try await decideMember(req: req, approve: false)
    }

    static func leaveHousehold(req: Request) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        do {
            try await RentalFileService(req).leave(current.account, language: req.webLanguage)
        } catch let error as any AbortError where error.status == .notFound {
            return try await render(req, account: current.account, uploadError: error.reason, status: .notFound)
        }
        return req.redirect(to: "/file#household", redirectType: .normal)
    }

    static func decideMember(req: Request, approve: Bool) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        let candidate = try req.parameters.id("member")
        do {
            try await RentalFileService(req).decide(on: candidate, approve: approve, by: current.account, language: req.webLanguage)
        } catch let error as any AbortError where error.status == .notFound {
            return try await render(req, account: current.account, uploadError: error.reason, status: .notFound)
        }
        return req.redirect(to: "/file#household", redirectType: .normal)
    }

    static func ownDocument(_ req: Request) async throws -> Document? {
        guard let current = req.authenticated else { return nil }
        let id = try req.parameters.id("document")
        return try await RentalFileService(req).document(id, of: current.account)
    }

    static func deleteDocument(req: Request) async throws -> Response {
        guard let current = req.authenticated else { return req.redirect(to: "/signin") }
        // Someone else's document and a missing one get the same 404.
        guard let document = try await ownDocument(req) else {
            return try await render(req, account: current.account, uploadError: req.webLanguage == .fr ? "Pièce introuvable." : "No such document.",
                                    status: .notFound)
        }
        try await RentalFileService(req).delete(document, by: current.account.subject)
        return req.redirect(to: "/file#documents", redirectType: .normal)
    }

    static func content(req: Request) async throws -> Response {
        guard req.authenticated != nil else { return req.redirect(to: "/signin") }
        guard let document = try await ownDocument(req) else { throw Abort(.notFound, reason: "No such document.") }
        return try await RentalFileController.fileResponse(document, req: req)
    }

    /// Read once, on first use: the bundle's file does not change while the server runs, and a
    /// read on each request blocked an event loop.
    private static let uploadScript = Result<Data, any Error> {
        try Data(contentsOf: Bundle.module.url(forResource: "Views", withExtension: nil)!.appendingPathComponent("upload.js"))
    }

    static func script(req: Request) async throws -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "text/javascript; charset=utf-8")
        headers.replaceOrAdd(name: .cacheControl, value: "public, max-age=300")
        return Response(status: .ok, headers: headers, body: .init(data: try uploadScript.get()))
    }

    // MARK: Staff review

    struct ReviewRow: Encodable {
        var id: String
        var type: String
        var tenant: String
        var person: String
        var received: String
        var files: [Option]
    }

    struct ReviewsPage: Encodable {
        var rows: [ReviewRow]
        var reasons: [Option]
    }

    static func staffOnly(_ req: Request) -> Account? {
        guard let account = req.authenticated?.account, account.role.isStaff else { return nil }
        return account
    }

    static func reviews(req: Request) async throws -> Response {
        guard let reviewer = staffOnly(req) else {
            return req.authenticated == nil ? req.redirect(to: "/signin") : try await req.page("message", titleKey: "reviews", body: MessageBody(text: "Staff only."), status: .forbidden)
        }
        let language = req.webLanguage
        let catalogue = req.dossier.catalogue
        let typeNames = Dictionary(uniqueKeysWithValues: catalogue.categories.flatMap(\.types).map { ($0.id, $0.name[language]) })
        let pending = try await StaffController.reviewable(Document.query(on: req.db).filter(\.$status == .pending), on: req.db)
            .with(\.$account).with(\.$files).with(\.$guarantor).sort(\.$createdAt).limit(200).all()
        try await StaffController.auditQueueRead(pending, by: reviewer, req: req)
        let service = RentalFileService(req)
        var rows: [ReviewRow] = []
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        formatter.timeZone = TimeZone(identifier: "UTC")
        for document in pending {
            var person = "\(document.account.firstName) \(document.account.lastName)"
            if let guarantor = document.guarantor { person = try await service.details(of: guarantor).name }
            rows.append(ReviewRow(
                id: try document.requireID().uuidString, type: typeNames[document.type] ?? document.type,
                tenant: "\(document.account.firstName) \(document.account.lastName)", person: person,
                received: formatter.string(from: document.receivedAt ?? document.createdAt),
                files: document.files.sorted { $0.position < $1.position }.map {
                    Option(value: "/staff/documents/\(document.id!.uuidString)/content?file=\($0.position)", label: "\($0.position)")
                }
            ))
        }
        let reasons = catalogue.declineReasons.map { Option(value: $0.id, label: $0.name[language]) }
        return try await req.page("reviews", titleKey: "reviews", body: ReviewsPage(rows: rows, reasons: reasons))
    }

    static func staffContent(req: Request) async throws -> Response {
        guard let reviewer = staffOnly(req) else { throw Abort(.forbidden, reason: "Staff only.") }
        return try await StaffController.reviewRead(try await StaffController.document(req), by: reviewer, req: req)
    }

    static func review(req: Request) async throws -> Response {
        guard let reviewer = staffOnly(req) else { throw Abort(.forbidden, reason: "Staff only.") }
        let document = try await StaffController.document(req)
        let decision = (try? req.content.get(String.self, at: "decision")) ?? ""
        let reasons = (try? req.content.get([String].self, at: "reasons")) ?? (try? req.content.get(String.self, at: "reasons")).map { [$0] } ?? []
        let comment = try? req.content.get(String.self, at: "comment")
        do {
            try await RentalFileService(req).review(document, validated: decision == "validated", reasons: decision == "validated" ? [] : reasons,
                                                    comment: comment, by: reviewer, language: req.webLanguage)
        } catch let failure as ValidationFailure {
            return try await req.page("message", titleKey: "reviews", body: MessageBody(text: failure.problems.map(\.message).joined(separator: " "),
                                                                                        link: "/staff/reviews", linkText: WebWording.labels(req.webLanguage)["reviews"]),
                                      status: .unprocessableEntity)
        }
        return req.redirect(to: "/staff/reviews", redirectType: .normal)
    }
}
