import Foundation

/// Everything an operator sets: where data lives, which database and register to use.
/// Read from the environment (see the README), then overridden by command-line flags.
public struct DossierConfiguration: Sendable {
    /// The SQLite database, documents, key file and outbox live here.
    public var dataDirectory: URL
    /// `postgres://…` to use PostgreSQL instead of the embedded SQLite.
    public var databaseURL: String?
    /// A PostgreSQL schema to work in (tests give each run its own); nil for the default.
    public var databaseSchema: String?
    /// SQLite in memory instead of a file: for tests only, gone with the process.
    public var inMemoryDatabase = false
    /// The register file; nil for the shipped default.
    public var registerPath: String?
    /// Public address used in emails and links.
    public var baseURL: String
    /// `smtp://user:pass@host:port`; nil writes messages as `.eml` files in the data directory.
    public var smtpURL: String?
    /// `From:` of every message.
    public var mailSender: String?
    /// A PEM file of extra certificate authorities to trust for STARTTLS.
    public var smtpCAFile: String?
    /// Base64 256-bit master key (`DOSSIER_MASTER_KEY`); nil for the key file in the data directory.
    public var masterKey: String?
    /// bcrypt cost; lower only in tests.
    public var passwordCost = 12
    /// Whether `serve` runs background jobs (outbox delivery).
    public var runsBackgroundJobs = false

    public init(
        dataDirectory: URL,
        databaseURL: String? = nil,
        registerPath: String? = nil,
        baseURL: String = DossierConfiguration.defaultBaseURL,
        smtpURL: String? = nil,
        mailSender: String? = nil,
        smtpCAFile: String? = nil,
        masterKey: String? = nil
    ) {
        self.dataDirectory = dataDirectory
        self.databaseURL = databaseURL
        self.registerPath = registerPath
        self.baseURL = baseURL
        self.smtpURL = smtpURL
        self.mailSender = mailSender
        self.smtpCAFile = smtpCAFile
        self.masterKey = masterKey
    }

    /// Whether cookies must carry `Secure`: when the public address is https.
    public var usesHTTPS: Bool { baseURL.lowercased().hasPrefix("https://") }

    /// `From:` of every message: `DOSSIER_MAIL_FROM`, else no-reply at the base URL's host.
    public var resolvedMailSender: String {
        if let mailSender { return mailSender }
        let host = URLComponents(string: baseURL)?.host ?? "localhost"
        let domain = host.contains(".") && Double(host.replacingOccurrences(of: ".", with: "")) == nil ? host : "dossier.localhost"
        return "Dossier <no-reply@\(domain)>"
    }

    public var outboxDirectory: URL { dataDirectory.appendingPathComponent("outbox", isDirectory: true) }
    public var blobDirectory: URL { dataDirectory.appendingPathComponent("blobs", isDirectory: true) }

    public static let defaultBaseURL = "http://127.0.0.1:8080"

    /// Reads `DOSSIER_DATA_DIR`, `DATABASE_URL`, `DOSSIER_REGISTER`, `DOSSIER_BASE_URL`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Self {
        func value(_ name: String) -> String? {
            environment[name].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        }
        let directory = value("DOSSIER_DATA_DIR") ?? "./data"
        return DossierConfiguration(
            dataDirectory: URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL,
            databaseURL: value("DATABASE_URL"),
            registerPath: value("DOSSIER_REGISTER"),
            baseURL: value("DOSSIER_BASE_URL") ?? defaultBaseURL,
            smtpURL: value("SMTP_URL"),
            mailSender: value("DOSSIER_MAIL_FROM"),
            smtpCAFile: value("SMTP_CA_FILE"),
            masterKey: value("DOSSIER_MASTER_KEY")
        )
    }

    public var sqlitePath: String {
        dataDirectory.appendingPathComponent("dossier.sqlite").path
    }

    /// The database in words, without credentials, for logs and messages.
    public var databaseDescription: String {
        if let databaseURL, let url = URLComponents(string: databaseURL) {
            return "PostgreSQL at \(url.host ?? "?"):\(url.port ?? 5432)\(url.path)"
        }
        return inMemoryDatabase ? "SQLite in memory" : "SQLite at \(sqlitePath)"
    }
}
