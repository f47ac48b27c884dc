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
        subcommands: [Serve.self, Migrate.self, RegisterCommand.self, UserCommand.self, OrganisationCommand.self, AuditCommand.self, VerifyCommand.self, KeysCommand.self, RetentionCommand.self, ConfigCommand.self, BenchCommand.self]
    )

    public init() {}
}

/// Options every command that opens the server's state shares.
struct ServerOptions: ParsableArguments {
    @Option(help: "The register file (default: $DOSSIER_REGISTER, else the shipped register).")
    var register: String?

    @Option(help: "The data directory (default: $DOSSIER_DATA_DIR, else ./data).")
    var dataDir: String?

    /// The configuration, refusing a value of the environment the server cannot read.
    func configuration() throws -> DossierConfiguration {
        let problems = ConfigurationCheck.environmentProblems(ProcessInfo.processInfo.environment)
        if !problems.isEmpty { throw ConfigurationError(problems.joined(separator: "; ")) }
        let configuration = effectiveConfiguration()
        _ = try configuration.retentionSchedule()
        return configuration
    }

    /// The environment's configuration with the flags applied, as it is.
    func effectiveConfiguration() -> DossierConfiguration {
        var configuration = DossierConfiguration.fromEnvironment()
        if let register { configuration.registerPath = register }
        if let dataDir { configuration.dataDirectory = URL(fileURLWithPath: dataDir, isDirectory: true).standardizedFileURL }
        return configuration
    }

    /// The variables a flag overrides.
    var flags: Set<String> {
        Set([register.map { _ in "DOSSIER_REGISTER" }, dataDir.map { _ in "DOSSIER_DATA_DIR" }].compactMap { $0 })
    }
}

/// Runs `body`, turning the errors an operator can fix into a clear message and exit status 1.
func reportingFailures(_ body: () async throws -> Void) async throws {
    // Whatever this process creates (database, journals, keys, blobs, mail files) is its user's alone.
    umask(0o077)
    do {
        try bootstrapLogging()
        try await body()
    } catch let error as InvalidRegister {
        printFailure(error.description)
        throw ExitCode.failure
    } catch let error as ConfigurationError {
        printFailure("dossier: \(error.description)")
        throw ExitCode.failure
    } catch let error as any CommandFailure {
        printFailure("dossier: \(error.message)")
        throw ExitCode.failure
    }
}

/// Why a command stopped, on standard error: as a JSON log line when the logs are JSON (a log
/// collector reads the line that says why the server would not start), else as text.
func printFailure(_ text: String) {
    if (try? LogFormat.from(ProcessInfo.processInfo.environment)) == .json {
        JSONLogHandler(label: "dossier", metadataProvider: nil).log(event: LogEvent(
            level: .critical, message: "\(text)", metadata: nil, source: "dossier", file: #fileID, function: #function, line: #line))
    } else {
        printError(text)
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Sends logs to standard error at `LOG_LEVEL` (default info) in `DOSSIER_LOG_FORMAT` (default
/// text), once per process. Throws on a value of either it cannot read.
func bootstrapLogging() throws {
    try LoggingBootstrap.once.get()
}

private enum LoggingBootstrap {
    /// A static `let` is initialised exactly once, thread-safely.
    static let once: Result<Void, ConfigurationError> = {
        let environment = ProcessInfo.processInfo.environment
        do {
            let format = try LogFormat.from(environment)
            let level = try LogFormat.level(environment)
            LoggingSystem.bootstrap { label in format.handler(label: label, level: level) }
            return .success(())
        } catch let error as ConfigurationError {
            return .failure(error)
        } catch {
            return .failure(ConfigurationError("\(error)"))
        }
    }()
}
