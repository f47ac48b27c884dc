import DossierCore
import Foundation
import Vapor

/// The server's retention schedule (`DOSSIER_RETENTION_INTERVAL`, once a day by default): a
/// sweep a minute after the start (a server restarted every day still sweeps), then one every
/// interval. Another instance's sweep, under way, is left to finish (the lock).
final class RetentionScheduler: LifecycleHandler, @unchecked Sendable {
    let every: Duration
    private var task: Task<Void, Never>?

    init(every: Duration) {
        self.every = every
    }

    func didBootAsync(_ application: Application) async throws {
        let service = RetentionService(database: application.db, services: application.dossier, logger: application.logger)
        let clock = application.dossier.clock
        let logger = application.logger
        let every = every
        logger.info("retention: sweeping every \(every)")
        task = Task {
            try? await Task.sleep(for: min(.seconds(60), every))
            while !Task.isCancelled {
                do {
                    let report = try await service.run(at: clock.now)
                    let done = report.lines.reduce(0) { $0 + $1.done }
                    logger.info("retention: swept in \(String(format: "%.3f", report.seconds)) s, \(done) acted on")
                    for problem in report.problems { logger.error("retention: \(problem.task): \(problem.message)") }
                } catch is RetentionService.Busy {
                    logger.info("retention: another instance is sweeping")
                } catch {
                    logger.error("retention: \(String(describing: error))")
                }
                try? await Task.sleep(for: every)
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        task?.cancel()
        await task?.value
    }
}

/// The retention engine for the command line (`dossier retention plan|run`).
public enum RetentionOperations {
    /// What a sweep at `instant` would do, as text (or JSON).
    public static func plan(on app: Application, at instant: Date, json: Bool) async throws -> String {
        let report = try await RetentionService(database: app.db, services: app.dossier, logger: app.logger).plan(at: instant)
        return try render(report, json: json)
    }

    /// The sweep at `instant`; its receipt is in the audit trail. Fails when another sweep runs.
    public static func run(on app: Application, at instant: Date, json: Bool) async throws -> (text: String, problems: Int) {
        let report = try await RetentionService(database: app.db, services: app.dossier, logger: app.logger).run(at: instant)
        return (try render(report, json: json), report.problems.count)
    }

    private static func render(_ report: RetentionReport, json: Bool) throws -> String {
        guard json else { return report.text }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }
}
