import ArgumentParser
import DossierServer
import Foundation

/// `dossier config check`: the effective configuration, secrets masked; exit 1 on a bad value.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Inspect the configuration.",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the effective configuration, secrets masked; exit 1 on a value the server would refuse.",
            discussion: """
                Reads the environment and the flags as `dossier serve` does, checks every value (URLs, \
                the register, the master key, directories, intervals, proxies) and, with --hostname, \
                the rules of a production instance on that address. Opens no database, changes nothing.
                """
        )

        @Option(help: "Check as `dossier serve --hostname H` would run: any address but loopback is held to production's rules.")
        var hostname = "127.0.0.1"

        @OptionGroup var options: ServerOptions

        func run() async throws {
            let report = ConfigurationCheck.run(options.effectiveConfiguration(), environment: ProcessInfo.processInfo.environment,
                                                capabilities: try await BuildCapabilities.ofThisBuild(),
                                                flags: options.flags, servesOnLoopback: Serve.isLoopback(hostname))
            print(report.text)
            for problem in report.problems {
                printError("dossier: config: \(problem)")
            }
            guard report.problems.isEmpty else {
                print("\(report.problems.count) problem\(report.problems.count == 1 ? "" : "s") (on standard error): the server would refuse to start")
                throw ExitCode.failure
            }
            print("Configuration OK.")
        }
    }
}
