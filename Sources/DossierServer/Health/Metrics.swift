import CoreMetrics
import DossierCore
import Fluent
import Foundation
import Prometheus
import Vapor

/// `GET /metrics`: the server's metrics in Prometheus' text format. Vapor counts and times every
/// request by route pattern (`/s/:token`, never a token or an id) and status, through
/// swift-metrics into one registry of the process. No metric carries personal data.
///
/// With `DOSSIER_METRICS_TOKEN` set, only a scraper that sends it as a bearer token is answered,
/// and only then are the gauges read from the database added (mail waiting or failed,
/// data-subject requests open and past their legal due date): public, the count of mail waiting
/// would tell whether a password reset went to an account. Without it, a development instance
/// answers anyone (as `/health`), a production one only clients on loopback (a scraper on the
/// host, or through a trusted proxy's own address): request counts by route and status are
/// still something to keep from the public.
enum DossierMetrics {
    /// The process's registry: Vapor's request metrics and Dossier's gauges.
    static let registry = PrometheusCollectorRegistry()

    /// Installs the registry as swift-metrics' backend, once per process (the tests configure
    /// many applications in one).
    static func bootstrap() {
        _ = once
    }

    private static let once: Void = {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }()

    /// Everything in the text format; with `gauges`, the database's read first. A database that
    /// does not answer makes the gauges NaN (and is logged), never last scrape's numbers, and
    /// leaves the request metrics as they are.
    static func exposition(on database: any Database, register version: String, now: Date, gauges: Bool, logger: Logger) async -> String {
        registry.makeGauge(name: "dossier_register_info", labels: [("version", version)],
                           help: "The register in force (its version as a label)").set(to: 1)
        guard gauges else { return registry.emitToString() }
        let mail = "Messages waiting to be sent, or failed for good"
        let rights = "Data-subject requests not yet answered, and those past their legal due date"
        let series = [
            registry.makeGauge(name: "dossier_outbox_messages", labels: [("state", "queued")], help: mail),
            registry.makeGauge(name: "dossier_outbox_messages", labels: [("state", "failed")], help: mail),
            registry.makeGauge(name: "dossier_rights_requests", labels: [("state", "open")], help: rights),
            registry.makeGauge(name: "dossier_rights_requests", labels: [("state", "overdue")], help: rights),
        ]
        do {
            let open = [RequestRules.Status.open.rawValue, RequestRules.Status.awaitingIdentity.rawValue]
            // By the (status, due_at) index; mail is deleted within days of being sent.
            let requests = try await RightsRequest.query(on: database).filter(\.$status ~~ open).count()
            let overdue = try await RightsRequest.query(on: database).filter(\.$status ~~ open).filter(\.$dueAt < now).count()
            let queued = try await OutboxMessage.query(on: database).filter(\.$sentAt == nil).filter(\.$failedAt == nil).count()
            let failed = try await OutboxMessage.query(on: database).filter(\.$failedAt != nil).count()
            for (gauge, value) in zip(series, [queued, failed, requests, overdue]) { gauge.set(to: Double(value)) }
        } catch {
            for gauge in series { gauge.set(to: .nan) }
            logger.warning("metrics: the database's gauges could not be read (\(String(describing: type(of: error))))")
        }
        return registry.emitToString()
    }
}

struct MetricsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("metrics", use: Self.metrics).access(.anyone)
    }

    static func metrics(req: Request) async throws -> Response {
        let token = req.dossier.configuration.metricsToken
        if token == nil, !req.dossier.configuration.isDevelopmentInstance, !ClientAddressResolver.isLoopback(req.clientAddress) {
            throw Abort(.forbidden, reason: "Metrics answer clients on this host only: set DOSSIER_METRICS_TOKEN to scrape from elsewhere.")
        }
        if let token {
            guard let sent = req.headers.bearerAuthorization?.token,
                  Data(SHA256.hash(data: Data(sent.utf8))) == Data(SHA256.hash(data: Data(token.utf8))) else {
                throw Abort(.unauthorized, headers: ["WWW-Authenticate": "Bearer"], reason: "The metrics need the bearer token set in DOSSIER_METRICS_TOKEN.")
            }
        }
        let text = await DossierMetrics.exposition(on: req.db, register: req.register.version, now: req.dossier.clock.now,
                                                   gauges: token != nil, logger: req.logger)
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "plain", parameters: ["version": "0.0.4", "charset": "utf-8"])
        headers.cacheControl = .init(noStore: true)
        return Response(status: .ok, headers: headers, body: .init(string: text))
    }
}
