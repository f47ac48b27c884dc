import ArgumentParser
import DossierServer
import Foundation

/// `dossier keys rotate`: every subject key re-wrapped under a new master key (resumable).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the master key.",
        subcommands: [Rotate.self]
    )

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract: "Re-wrap every key of the key store under a new master key; run it again to finish one that was interrupted.",
            discussion: """
            With a key file, the new key replaces it when every key is re-wrapped (it waits in FILE.next meanwhile). \
            With DOSSIER_MASTER_KEY, give --new-key-file: the new key is written there, and DOSSIER_MASTER_KEY must be \
            set to it before the next start. The server refuses to start while a rotation is under way.
            """
        )

        @Option(help: "Where to write the new key (required when the key comes from DOSSIER_MASTER_KEY).")
        var newKeyFile: String?

        @OptionGroup var options: ServerOptions

        func run() async throws {
            try await reportingFailures {
                try await withDossierApp(options.configuration()) { app in
                    try await DossierApp.migrateStorage(app)
                    let report = try await KeyRotation.rotate(app, newKeyFile: newKeyFile.map { URL(fileURLWithPath: $0) })
                    print("Re-wrapped \(report.rewrapped) keys (\(report.alreadyRewrapped) already were).")
                    if let file = report.replacedKeyFile {
                        print("The new master key is in \(file.path); the old one no longer opens the key store.")
                    }
                    if let file = report.newKeyFile {
                        print("The new master key is in \(file.path): set DOSSIER_MASTER_KEY to its content before the next start.")
                    }
                }
            }
        }
    }
}
