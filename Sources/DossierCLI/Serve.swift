import ArgumentParser
import DossierServer
import Vapor
import DossierCore
import NIOCore
import NIOPosix

/// `dossier serve`: migrate, then serve until interrupted.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply migrations, then serve HTTP.")

    @ArgumentParser.Option(help: "Address to listen on.")
    var hostname = "127.0.0.1"

    @ArgumentParser.Option(help: "Port to listen on.")
    var port = 8080

    @OptionGroup var options: ServerOptions

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
    }

    /// `localhost`, 127.0.0.0/8 or ::1.
    static func isLoopback(_ host: String) -> Bool {
        let host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    func run() async throws {
        // Swift concurrency's jobs run on NIO's event loops rather than on a pool of their own:
        // a request's handler no longer hops between two sets of threads at every await
        // (profiled: context switches were the largest single cost of an authenticated read).
        // Nothing in the server blocks a thread on a future (`wait()`), which this forbids.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        // No core dump: the process holds unwrapped keys (the key cache), which a dump would
        // carry outside every rule of the register.
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(UInt32(RLIMIT_CORE.rawValue)), &noCore)
        try await reportingFailures {
            let environment = Environment(name: "production", arguments: ["dossier", "serve", "--hostname", hostname, "--port", "\(port)"])
            let app = try await Application.make(environment)
            do {
                var configuration = try options.configuration()
                configuration.runsBackgroundJobs = true
                // On loopback only, a development instance; on any other address, production's rules.
                configuration.isDevelopmentInstance = configuration.isDevelopmentInstance && Self.isLoopback(hostname)
                try await DossierApp.configure(app, configuration)
                app.logger.info("Database: \(configuration.databaseDescription)")
                try await DossierApp.migrate(app)
                try await app.execute()
                // Stopped (SIGTERM, SIGINT): no new request, the ones under way answered, before
                // anything closes. Vapor would stop the HTTP server last, after the databases,
                // and a request arriving in between stopped the process with a trap.
                await app.server.shutdown()
            } catch {
                try? await app.asyncShutdown()
                throw error
            }
            try await app.asyncShutdown()
        }
    }
}

/// `dossier migrate`: apply pending migrations and exit.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply database migrations.")

    @OptionGroup var options: ServerOptions

    func run() async throws {
        try await reportingFailures {
            try await withDossierApp(options.configuration()) { app in
                try await DossierApp.migrate(app)
                print("Migrations applied to \(app.dossier.configuration.databaseDescription).")
            }
        }
    }
}

/// Runs `body` with a configured application that does not serve, and shuts it down after.
func withDossierApp(_ configuration: DossierConfiguration, clock: any WallClock = SystemClock(),
                    _ body: (Application) async throws -> Void) async throws {
    let app = try await Application.make(Environment(name: "production", arguments: ["dossier"]))
    if ProcessInfo.processInfo.environment["LOG_LEVEL"] == nil {
        app.logger.logLevel = .warning
    }
    do {
        try await DossierApp.configure(app, configuration, clock: clock)
        try await body(app)
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
    try await app.asyncShutdown()
}
