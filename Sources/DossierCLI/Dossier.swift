import ArgumentParser
import DossierCore
import DossierServer
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `dossier`: runs the server and the operator's commands.
public struct Dossier: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dossier",
        abstract: "Tenants' rental files with an executable privacy policy.",
        subcommands: [Serve.self, Migrate.self, RegisterCommand.self, UserCommand.self, OrganisationCommand.self, AuditCommand.self, VerifyCommand.self, KeysCommand.self, RetentionCommand.self, BenchCommand.self]
    )

    public init() {}
}

/// Options every command that opens the server's state shares.
struct ServerOptions: ParsableArguments {
    @Option(help: "The register file (default: $DOSSIER_REGISTER, else the shipped register).")
    var register: String?

    @Option(help: "The data directory (default: $DOSSIER_DATA_DIR, else ./data).")
    var dataDir: String?

    func configuration() -> DossierConfiguration {
        var configuration = DossierConfiguration.fromEnvironment()
        if let register { configuration.registerPath = register }
        if let dataDir { configuration.dataDirectory = URL(fileURLWithPath: dataDir, isDirectory: true).standardizedFileURL }
        return configuration
    }
}

/// Runs `body`, turning the errors an operator can fix into a clear message and exit status 1.
func reportingFailures(_ body: () async throws -> Void) async throws {
    bootstrapLogging()
    // Whatever this process creates (database, journals, keys, blobs, mail files) is its user's alone.
    umask(0o077)
    do {
        try await body()
    } catch let error as InvalidRegister {
        printError(error.description)
        throw ExitCode.failure
    } catch let error as ConfigurationError {
        printError("dossier: \(error.description)")
        throw ExitCode.failure
    } catch let error as any CommandFailure {
        printError("dossier: \(error.message)")
        throw ExitCode.failure
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Sends logs to standard error at `LOG_LEVEL` (default info), once per process.
func bootstrapLogging() {
    LoggingBootstrap.once
}

private enum LoggingBootstrap {
    /// A static `let` is initialised exactly once, thread-safely.
    static let once: Void = {
        let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = RedactingLogHandler(StreamLogHandler.standardError(label: label))
            handler.logLevel = level
            return handler
        }
    }()
}
