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

    enum AccountRole: String, ExpressibleByArgument, CaseIterable {
        case admin, dpo, `operator`, member

        var role: Role {
            switch self {
            case .admin: .admin
            case .dpo: .dpo
            case .operator: .operator_
            case .member: .member
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a staff account, or a member of a recipient organisation; the password is read from standard input."
        )

        @Option(help: "The account's email address.")
        var email: String

        @Flag(help: "Read the password from standard input (one line).")
        var passwordStdin = false

        @Option(help: "admin, dpo or operator; member with --organisation.")
        var role: AccountRole

        @Option(help: "For --role member: the organisation's id (see `dossier organisation create`).")
        var organisation: UUID?

        @Flag(help: "For --role member: an administrator of the organisation (invites and removes members).")
        var organisationAdmin = false

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
            guard (role == .member) == (organisation != nil) else {
                throw ValidationError("--organisation goes with --role member, and only with it")
            }
            guard !organisationAdmin || role == .member else { throw ValidationError("--organisation-admin goes with --role member") }
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
                        lastName: lastName, role: role.role, organisationID: organisation, organisationAdmin: organisationAdmin,
                        language: language
                    )
                    print("Created \(role.rawValue) account \(account.email) (\(account.id.uuidString.lowercased())).")
                }
            }
        }
    }
}

/// `dossier organisation create`: agencies, landlords and insurers whose members receive files.
struct OrganisationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "organisation",
        abstract: "Manage recipient organisations.",
        subcommands: [Create.self, SetEmail.self, Invite.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an organisation; prints its id.")

        @Option(help: "Its name, as recipients and tenants will see it.")
        var name: String

        @Option(help: "agency, landlord or insurer.")
        var kind: OrganisationKind

        @Option(help: "The address tenants share with (e.g. contact@agency.example): their links to it appear in the members' inbox once a link mailed to it is followed.")
        var email: String?

        @Option(help: "fr or en: the language of the confirmation message.")
        var language: Language = .fr

        @OptionGroup var options: ServerOptions

        func validate() throws {
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= 200 else { throw ValidationError("--name must have 1 to 200 characters") }
            if let email, EmailAddress(email) == nil { throw ValidationError("'\(email)' is not a valid email address") }
        }

        func run() async throws {
            try await reportingFailures {
                try await withDossierApp(options.configuration()) { app in
                    try await DossierApp.migrate(app)
                    let id = try await Organisations.create(on: app, name: name.trimmingCharacters(in: .whitespacesAndNewlines), kind: kind,
                                                            email: email.flatMap(EmailAddress.init), language: language)
                    print("Created \(kind.rawValue) \(name): \(id.uuidString.lowercased())")
                }
            }
        }
    }

    struct SetEmail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-email",
            abstract: "Set or change the address tenants share with; a confirmation link is mailed to it."
        )

        @Argument(help: "The organisation's id.")
        var organisation: UUID

        @Option(help: "The address (e.g. contact@agency.example).")
        var email: String

        @Option(help: "fr or en: the language of the confirmation message.")
        var language: Language = .fr

        @OptionGroup var options: ServerOptions

        func validate() throws {
            guard EmailAddress(email) != nil else { throw ValidationError("'\(email)' is not a valid email address") }
        }

        func run() async throws {
            try await reportingFailures {
                try await withDossierApp(options.configuration()) { app in
                    try await DossierApp.migrate(app)
                    try await Organisations.setAddress(on: app, organisation: organisation, email: EmailAddress(email)!, language: language)
                    print("Confirmation link sent to \(email): links made to it reach the inbox once it is followed.")
                }
            }
        }
    }

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Invite someone by email to join an organisation (its first administrator, with --admin)."
        )

        @Argument(help: "The organisation's id (see `dossier organisation create`).")
        var organisation: UUID

        @Option(help: "The invitee's email address.")
        var email: String

        @Flag(help: "Joins as an administrator: may invite and remove members.")
        var admin = false

        @Option(help: "fr or en: the language of the invitation.")
        var language: Language = .fr

        @OptionGroup var options: ServerOptions

        func validate() throws {
            guard EmailAddress(email) != nil else { throw ValidationError("'\(email)' is not a valid email address") }
        }

        func run() async throws {
            try await reportingFailures {
                try await withDossierApp(options.configuration()) { app in
                    try await DossierApp.migrate(app)
                    try await Organisations.invite(on: app, organisation: organisation, email: email, admin: admin, language: language)
                    print("Invitation sent to \(email) (valid 7 days).")
                }
            }
        }
    }
}

extension OrganisationKind: ExpressibleByArgument {}

/// `dossier audit verify`: walks the audit chain.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the audit trail.",
        subcommands: [Verify.self, Upgrade.self]
    )

    struct Upgrade: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal an audit chain written before chains were keyed (once, after upgrading; refused afterwards)."
        )

        @OptionGroup var options: ServerOptions

        func run() async throws {
            try await reportingFailures {
                try await withDossierApp(options.configuration()) { app in
                    try await DossierApp.migrate(app)
                    let count = try await AuditVerification.upgrade(on: app)
                    print(count == 0 ? "Nothing to upgrade: every entry is keyed." : "Audit trail: \(count) entries sealed under the chain key.")
                }
            }
        }
    }

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

extension UUID: @retroactive ExpressibleByArgument {
    public init?(argument: String) {
        self.init(uuidString: argument)
    }
}
