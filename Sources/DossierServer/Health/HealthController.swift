import Fluent
import SQLKit
import Vapor

/// `GET /health`: 200 when the database answers, 503 otherwise.
struct HealthController: RouteCollection {
    struct Status: Content {
        var status: String
        var database: String
        var registerVersion: String
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get("health", use: Self.health).access(.anyone)
    }

    static func health(req: Request) async throws -> Response {
        guard let sql = req.db as? any SQLDatabase else {
            throw Abort(.serviceUnavailable, reason: "The database does not speak SQL.")
        }
        do {
            try await sql.raw("SELECT 1").run()
        } catch {
            req.logger.warning("health check: database unreachable")
            throw Abort(.serviceUnavailable, reason: "The database is unreachable.")
        }
        let status = Status(status: "ok", database: sql.dialect.name, registerVersion: req.register.version)
        return try await status.encodeResponse(for: req)
    }
}
