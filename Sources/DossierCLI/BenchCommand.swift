import ArgumentParser
import DossierServer
import Foundation
import class Vapor.Application

/// `dossier bench rights|retention`: the rights and retention benchmarks (`scripts/bench`), each
/// on a new, empty database it fills; prints JSON. Not for a database with real data: they refuse
/// one that was ever set up.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks run by scripts/bench on a database of their own.",
        shouldDisplay: false,
        subcommands: [Rights.self, Retention.self]
    )

    /// Sets up the new, empty database a benchmark fills (refusing one that was ever set up),
    /// runs it, and prints its result as JSON.
    static func onNewDatabase<Result: Encodable & Sendable>(_ options: ServerOptions,
                                                           _ bench: (Application) async throws -> Result) async throws {
        try await reportingFailures {
            try await withDossierApp(options.configuration()) { app in
                try await RightsBench.requireNewDatabase(app)
                try await DossierApp.migrate(app)
                let result = try await bench(app)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            }
        }
    }

    struct Rights: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seed tenants, then time the access view, erasure and export in-process; prints JSON."
        )

        @Option(help: "Tenants to seed (each: a profile, 5 documents, 20 connection-log entries, 2 share links, 2 consents).")
        var tenants = 10_000

        @Option(help: "People timed for the access view, and as many for erasure.")
        var samples = 200

        @OptionGroup var options: ServerOptions

        func validate() throws {
            guard (10...1_000_000).contains(tenants) else { throw ValidationError("--tenants: between 10 and 1,000,000") }
            guard (1...10_000).contains(samples) else { throw ValidationError("--samples: between 1 and 10,000") }
        }

        func run() async throws {
            try await BenchCommand.onNewDatabase(options) { app in
                try await RightsBench.run(app, tenants: tenants, samples: samples) { printError("bench: \($0)") }
            }
        }
    }

    struct Retention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seed tenants on PostgreSQL, 1 % of them due, then time sweeps with nothing and with 1 % due; prints JSON."
        )

        @Option(help: "Tenants to seed, a multiple of 10,000 (each: a profile, 2 documents, 4 connection-log entries, a share link, a consent).")
        var subjects = 100_000

        @Flag(help: "Time the sweep with nothing due only (the 1 % sweep takes minutes at a million subjects).")
        var nothingDueOnly = false

        @OptionGroup var options: ServerOptions

        func validate() throws {
            guard (10_000...10_000_000).contains(subjects), subjects % 10_000 == 0 else {
                throw ValidationError("--subjects: a multiple of 10,000, from 10,000 to 10,000,000")
            }
        }

        func run() async throws {
            try await BenchCommand.onNewDatabase(options) { app in
                try await RetentionBench.run(app, subjects: subjects, nothingDueOnly: nothingDueOnly) { printError("bench: \($0)") }
            }
        }
    }
}
