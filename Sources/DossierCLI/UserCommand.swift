import ArgumentParser
import DossierCore
import DossierServer
import Foundation

/// `dossier user create`: staff accounts, made by whoever runs the server.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage staff accounts.",
        subcommands: [Create.self]
    )

    enum StaffRole: String, ExpressibleByArgument, CaseIterable {
        case admin, dpo, `operator`

        var role: Role {
            switch self {
            case .admin: .admin
            case .dpo: .dpo
            case .operator: .operator_
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a staff account; the password is read from standard input."
        )

        @Option(help: "The account's email address.")
        var email: String

        @Flag(help: "Read the password from standard input (one line).")
        var passwordStdin = false

        @Option(help: "admin, dpo or operator.")
        var role: StaffRole

        @Option(help: "First name (default: the address's local part).")
        var firstName: String?

        @Option(help: "Last name.")
        var lastName = ""

        @Option(help: "fr or en: the language of messages to this account.")
        var language: Language = .fr

        @OptionGroup var options: ServerOptions

        func validate() throws {
            guard passwordStdin else {
                throw ValidationError("give the password on standard input with --password-stdin (never as an argument)")
            }
            guard EmailAddress(email) != nil else { throw ValidationError("'\(email)' is not a valid email address") }
        }

        func run() async throws {
            guard let password = readLine(strippingNewline: true), !password.isEmpty else {
                printError("dossier: no password on standard input")
                throw ExitCode.failure
            }
            let email = EmailAddress(self.email)!
            try await reportingFailures {
                try await withDossierApp(options.configuration()) { app in
                    try await DossierApp.migrate(app)
                    let account = try await StaffAccounts.create(
                        on: app, email: email, password: password,
                        firstName: firstName ?? String(email.value.split(separator: "@")[0]),
                        lastName: lastName, role: role.role, language: language
                    )
                    print("Created \(role.rawValue) account \(account.email) (\(account.id)).")
                }
            }
        }
    }
}

/// `dossier audit verify`: walks the audit chain.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the audit trail.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the hash chain; exit 1 at the first broken link."
        )

        @OptionGroup var options: ServerOptions

        func run() async throws {
            try await reportingFailures {
                try await withDossierApp(options.configuration()) { app in
                    try await DossierApp.migrate(app)
                    switch try await AuditVerification.run(on: app) {
                    case let .intact(entries, head):
                        print("Audit trail intact: \(entries) entries, head \(head).")
                    case let .broken(sequence, reason):
                        printError("Audit trail broken at entry \(sequence): \(reason).")
                        throw ExitCode.failure
                    }
                }
            }
        }
    }
}
