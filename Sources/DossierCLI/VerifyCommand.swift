import ArgumentParser
import DossierServer
import Foundation

/// `dossier verify`: the database, blobs and keys agree; exit 1 on any inconsistency.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that the database, the blobs and the keys agree; exit 1 on any inconsistency."
    )

    @Flag(help: "Delete blobs that no document refers to (left by an interrupted upload).")
    var removeOrphans = false

    @OptionGroup var options: ServerOptions

    func run() async throws {
        try await reportingFailures {
            try await withDossierApp(options.configuration()) { app in
                try await DossierApp.migrate(app)
                let report = try await ConsistencyCheck.run(on: app, removeOrphans: removeOrphans)
                for fact in report.facts { print(fact) }
                guard report.problems.isEmpty else {
                    for problem in report.problems { printError("inconsistent: \(problem)") }
                    throw ExitCode.failure
                }
                print("Database, blobs and keys agree.")
            }
        }
    }
}
