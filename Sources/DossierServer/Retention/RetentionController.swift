import DossierCore
import Fluent
import Vapor

/// Staff's side of retention: what is due and what past sweeps did (`GET /api/v1/staff/retention`),
/// and legal holds on a person's data (`/api/v1/staff/accounts/{account}/hold`). Over
/// `RetentionService` and `HoldService`.
struct RetentionController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let staff = routes.grouped("api", "v1", "staff").grouped(BearerAuthMiddleware(), StaffOnlyMiddleware())
        staff.get("retention", use: Self.overview).access(.staff)
        staff.get("holds", use: Self.holds).access(.staff)
        staff.post("accounts", ":account", "hold", use: Self.place).access(.staff)
        staff.delete("accounts", ":account", "hold", use: Self.lift).access(.staff)
        routes.grouped(WebSessionMiddleware(), CSRFMiddleware()).get("staff", "retention", use: Self.page).access(.staff)
    }

    struct HoldBody: Content {
        var reason: String
    }

    struct Overview: Content {
        /// What a sweep now would do.
        var next: RetentionReport
        /// The receipts of the latest sweeps, newest first.
        var history: [Receipt]
        var holds: [HoldService.View]
    }

    struct Receipt: Content {
        var sequence: Int64
        var at: Date
        var details: [String: String]
    }

    static func overview(req: Request) async throws -> Overview {
        let service = RetentionService(database: req.db, services: req.dossier, logger: req.logger)
        let next = try await service.plan(at: req.dossier.clock.now)
        let history = try await service.history().map { record in
            Receipt(sequence: record.sequence, at: Date(timeIntervalSince1970: Double(record.occurredAt) / 1000),
                    details: (try? JSONDecoder().decode([String: String].self, from: Data(record.details.utf8))) ?? [:])
        }
        return Overview(next: next, history: history, holds: try await HoldService(database: req.db, services: req.dossier).standing())
    }

    struct Page: Encodable {
        struct Receipt: Encodable {
            var at: String
            var summary: String
        }

        struct Hold: Encodable {
            var account: String
            var reason: String
            var placed: String
        }

        var next: [RetentionReport.Line]
        var problems: [RetentionReport.Problem]
        var history: [Receipt]
        var holds: [Hold]
    }

    /// The page: what is due now, the latest sweeps' receipts, the holds that stand.
    static func page(req: Request) async throws -> Response {
        guard FileWebController.staffOnly(req) != nil else { return try await RequestsController.notStaff(req) }
        let overview = try await overview(req: req)
        let body = Page(next: overview.next.lines, problems: overview.next.problems,
                        history: overview.history.map { receipt in
                            Page.Receipt(at: ISO8601DateFormatter().string(from: receipt.at),
                                         summary: receipt.details.filter { $0.key.contains(".") && !$0.key.hasPrefix("problem.") }
                                            .sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: " · "))
                        },
                        holds: overview.holds.map { hold in
                            Page.Hold(account: hold.account.uuidString.lowercased(), reason: hold.reason, placed: ShareWatermark.day(of: hold.placedAt))
                        })
        let response = try await req.page("staff-retention", titleKey: "retention", body: body)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    static func holds(req: Request) async throws -> [HoldService.View] {
        try await HoldService(database: req.db, services: req.dossier).standing()
    }

    static func place(req: Request) async throws -> Response {
        let staff = try req.requireAuthenticated().account
        let account = try req.parameters.id("account")
        let body = try req.decodeBody(HoldBody.self)
        let hold = try await HoldService(database: req.db, services: req.dossier).place(on: account, reason: body.reason, by: staff)
        return try await hold.encodeResponse(status: .created, for: req)
    }

    static func lift(req: Request) async throws -> HTTPStatus {
        let staff = try req.requireAuthenticated().account
        try await HoldService(database: req.db, services: req.dossier).lift(on: try req.parameters.id("account"), by: staff)
        return .noContent
    }
}

extension RetentionController.HoldBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([.required("reason", Schema.typed(maxLength: LegalHold.maximumReason, multiline: true, required: true)
                .described("Why the person's data must be kept (a dispute, a legal claim)"))])
    }
}
