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
    /// The key store (`DOSSIER_KEYS_URL`): a SQLite file path or `postgres://…`; nil for
    /// `keys.sqlite` in the data directory. Never the data database itself.
    public var keysURL: String?
    /// A PostgreSQL schema for the key store (tests give each run its own).
    public var keysSchema: String?
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
    /// Base64 256-bit master key (`DOSSIER_MASTER_KEY`); nil for the key file.
    public var masterKey: String?
    /// The master key file (`DOSSIER_MASTER_KEY_FILE`); nil for `master.key` in the data directory,
    /// which only a development instance accepts (a backup of the data directory would carry the
    /// key with the data it protects).
    public var masterKeyFile: String?
    /// `DOSSIER_ALLOW_KEY_IN_DATA_DIR=1`: accept the key file inside the data directory on a
    /// public address too (for a test machine; never for real data).
    public var allowsKeyInDataDirectory = false
    /// A development instance may keep its key in the data directory and write mail as files.
    /// It is one only while nothing says otherwise: `DOSSIER_ENV=production`, an https base URL
    /// or trusted proxies (a deployment behind a reverse proxy) make it production, and so does
    /// `serve` on any address but loopback.
    public var isDevelopmentInstance = true
    /// `AWS_REGION`: where the object store keeps documents when `DOSSIER_BLOBS_URL` is
    /// `s3://…`, checked against the register's hosting country in production.
    public var awsRegion: String?
    /// `DOSSIER_BLOBS_URL`, as given.
    public var blobsURL: String?
    /// The `AWS_*` variables (endpoint, region, credentials), read when `DOSSIER_BLOBS_URL` is
    /// `s3://…`.
    public var awsEnvironment: [String: String] = [:]
    /// Reverse proxies whose `X-Forwarded-For` is believed (`DOSSIER_TRUSTED_PROXIES`: addresses
    /// or CIDR ranges, comma-separated). Empty: the client is the peer address.
    public var trustedProxies: [String] = []
    /// The signed head of the audit chain, kept outside the database (`DOSSIER_AUDIT_ANCHOR`).
    public var auditAnchorPath: String?
    /// `DOSSIER_METRICS_TOKEN`: when set, `GET /metrics` answers only a bearer of it.
    public var metricsToken: String?
    /// bcrypt cost; lower only in tests.
    public var passwordCost = 12
    /// Sign-up and reset requests answer no sooner than this, whether or not the address has an
    /// account, so that the time taken tells nothing; zero only in tests.
    public var uniformAnswerTime: Duration = .milliseconds(500)
    /// Whether `serve` runs background jobs (outbox delivery).
    public var runsBackgroundJobs = false
    /// How often the server runs the retention sweep (`DOSSIER_RETENTION_INTERVAL`: "N minutes",
    /// "N hours" or "N days", or "off"); nil for the default, once a day.
    public var retentionInterval: String?

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
    /// Where documents' sealed bytes are kept: `DOSSIER_BLOBS_URL` when it names a directory
    /// (a path, or `file://` and an absolute path), else `blobs` in the data directory.
    public var blobDirectory: URL {
        if case let .success(directory) = Self.blobDirectory(from: blobsURL) { return directory }
        return dataDirectory.appendingPathComponent("blobs", isDirectory: true)
    }

    /// Whether `DOSSIER_BLOBS_URL` names an object store (`s3://…`) rather than a directory.
    public var usesObjectStore: Bool { blobsURL.map(Self.namesObjectStore) ?? false }

    static func namesObjectStore(_ text: String) -> Bool { text.lowercased().hasPrefix("s3://") }

    /// The object store `DOSSIER_BLOBS_URL=s3://…` names with the `AWS_*` variables, and its
    /// credentials; nil when the blobs are in a directory.
    func objectStore() throws -> (location: S3Location, credentials: S3Signature.Credentials)? {
        guard let blobsURL, Self.namesObjectStore(blobsURL) else { return nil }
        return (try S3Location.parse(blobsURL, environment: objectStoreEnvironment).get(), try S3Location.credentials(from: awsEnvironment).get())
    }

    /// The `AWS_*` variables, with `AWS_REGION` as the configuration has it.
    private var objectStoreEnvironment: [String: String] {
        var environment = awsEnvironment
        if let awsRegion { environment["AWS_REGION"] = awsRegion }
        return environment
    }

    /// The AWS region that keeps the documents: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else
    /// AWS's default; nil when they are in a directory, or in a store of another provider
    /// (`AWS_ENDPOINT_URL`: its region is a signing parameter, and says nothing of a country).
    public var objectStoreRegion: String? {
        let environment = objectStoreEnvironment
        guard usesObjectStore else { return nil }
        // An endpoint of AWS itself (regional, dual-stack, FIPS) is AWS's region all the same.
        if let endpoint = Self.variable("AWS_ENDPOINT_URL_S3", in: environment) ?? Self.variable("AWS_ENDPOINT_URL", in: environment) {
            guard let host = URLComponents(string: endpoint)?.host?.lowercased(),
                  host.hasSuffix(".amazonaws.com") || host.hasSuffix(".amazonaws.com.cn") else { return nil }
        }
        return Self.variable("AWS_REGION", in: environment) ?? Self.variable("AWS_DEFAULT_REGION", in: environment) ?? S3Location.defaultRegion
    }

    /// The directory `DOSSIER_BLOBS_URL` names, or why it names none.
    static func blobDirectory(from text: String?) -> Result<URL, ConfigurationError> {
        guard let text else { return .failure(ConfigurationError("unset")) }
        let lower = text.lowercased()
        if namesObjectStore(text) { return .failure(ConfigurationError("an object store, not a directory")) }
        let refused = ConfigurationError("DOSSIER_BLOBS_URL must be a directory (a path, or file:///ABSOLUTE/PATH) or s3://BUCKET/PREFIX")
        if lower.hasPrefix("file:") {
            guard let url = URLComponents(string: text), url.scheme?.lowercased() == "file", url.user == nil, url.password == nil,
                  url.query == nil, url.fragment == nil, ["", "localhost"].contains(url.host ?? ""), url.path.hasPrefix("/") else {
                return .failure(refused)
            }
            return .success(URL(fileURLWithPath: url.path, isDirectory: true).standardizedFileURL)
        }
        // A scheme of any other kind (or a typo of one: `s3:bucket`) is no directory.
        if SecretURL.scheme(of: text) != nil { return .failure(refused) }
        return .success(URL(fileURLWithPath: text, isDirectory: true).standardizedFileURL)
    }

    /// Why `DOSSIER_BLOBS_URL` cannot be used; nil when it can. The directory must be the
    /// blobs' alone: `dossier verify --remove-orphans` deletes what in it is no blob, and the
    /// server empties its scratch directory at each start.
    public var blobStoreProblem: String? {
        guard blobsURL != nil else { return nil }
        if usesObjectStore {
            do { _ = try objectStore() } catch { return "\(error)" }
            return nil
        }
        let directory: URL
        switch Self.blobDirectory(from: blobsURL) {
        case let .failure(error): return error.description
        case let .success(found): directory = found
        }
        func real(_ url: URL) -> String {
            let path = url.standardizedFileURL.resolvingSymlinksInPath().path
            return path.hasSuffix("/") ? String(path.dropLast()) : path
        }
        func within(_ path: String, _ folder: String) -> Bool { path == folder || path.hasPrefix(folder == "/" ? "/" : folder + "/") }
        let blobs = real(directory), data = real(dataDirectory)
        if blobs == real(dataDirectory.appendingPathComponent("blobs")) { return nil }
        var kept = [("the data directory", dataDirectory), ("the master key file", masterKeyFileURL), ("the audit anchor", auditAnchorURL)]
        if case let .sqliteFile(path) = KeyStore.location(self) { kept.append(("the key store", URL(fileURLWithPath: path))) }
        for (name, url) in kept where within(real(url), blobs) {
            return "DOSSIER_BLOBS_URL \(directory.path) holds \(name) (\(url.path)): give the documents a directory of their own"
        }
        if within(blobs, data) {
            return "DOSSIER_BLOBS_URL \(directory.path) is inside the data directory: use \(dataDirectory.appendingPathComponent("blobs").path) (the default) or a directory outside it"
        }
        return nil
    }

    /// Why `SMTP_CA_FILE` cannot be used; nil when it can (or is unset).
    public var smtpCAFileProblem: String? {
        guard let smtpCAFile, !FileManager.default.isReadableFile(atPath: smtpCAFile) else { return nil }
        return "SMTP_CA_FILE \(smtpCAFile) is not a readable file"
    }

    /// Why `DOSSIER_METRICS_TOKEN` cannot be used; nil when it can (or is unset).
    public var metricsTokenProblem: String? {
        guard let metricsToken else { return nil }
        if metricsToken.count < 16 || metricsToken.contains(where: { $0.isWhitespace }) || !metricsToken.allSatisfy({ $0.isASCII }) {
            return "DOSSIER_METRICS_TOKEN must be at least 16 ASCII characters without spaces (e.g. `openssl rand -hex 32`)"
        }
        return nil
    }

    /// Why `DOSSIER_BASE_URL` cannot serve as the address in emails and links; nil when it can.
    public var baseURLProblem: String? {
        guard let url = URLComponents(string: baseURL), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil, url.user == nil, url.password == nil else {
            // Quoted only when it carries no credentials.
            let quoted = baseURL.contains("@") ? "" : ", not \"\(baseURL)\""
            return "DOSSIER_BASE_URL must be an http:// or https:// address with a host, no credentials and no query, e.g. https://dossier.example.org" + quoted
        }
        return nil
    }
    /// Where an uploaded file waits while `dossier-inspect` looks at it (one file per inspection
    /// under way, removed after it); emptied when the server starts.
    public var scratchDirectory: URL { dataDirectory.appendingPathComponent("scratch", isDirectory: true) }

    public static let defaultBaseURL = "http://127.0.0.1:8080"

    /// Reads `DOSSIER_DATA_DIR`, `DATABASE_URL`, `DOSSIER_REGISTER`, `DOSSIER_BASE_URL`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Self {
        func value(_ name: String) -> String? { variable(name, in: environment) }
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
        .with {
            $0.masterKeyFile = value("DOSSIER_MASTER_KEY_FILE")
            $0.allowsKeyInDataDirectory = ["1", "true", "yes"].contains(value("DOSSIER_ALLOW_KEY_IN_DATA_DIR")?.lowercased() ?? "")
            $0.trustedProxies = (value("DOSSIER_TRUSTED_PROXIES") ?? "").split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            $0.auditAnchorPath = value("DOSSIER_AUDIT_ANCHOR")
            $0.keysURL = value("DOSSIER_KEYS_URL")
            $0.awsRegion = value("AWS_REGION")
            $0.awsEnvironment = environment.filter { $0.key.hasPrefix("AWS_") }
            $0.blobsURL = value("DOSSIER_BLOBS_URL")
            $0.retentionInterval = value("DOSSIER_RETENTION_INTERVAL")
            $0.metricsToken = value("DOSSIER_METRICS_TOKEN")?.trimmingCharacters(in: .whitespacesAndNewlines)
            $0.isDevelopmentInstance = value("DOSSIER_ENV")?.lowercased() != "production" && !$0.usesHTTPS && $0.trustedProxies.isEmpty
        }
    }

    /// A variable's value; nil when unset or blank.
    static func variable(_ name: String, in environment: [String: String]) -> String? {
        environment[name].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
    }

    func with(_ change: (inout Self) -> Void) -> Self {
        var copy = self
        change(&copy)
        return copy
    }

    public var masterKeyFileURL: URL {
        masterKeyFile.map { URL(fileURLWithPath: $0).standardizedFileURL } ?? dataDirectory.appendingPathComponent("master.key")
    }

    public var auditAnchorURL: URL {
        auditAnchorPath.map { URL(fileURLWithPath: $0).standardizedFileURL } ?? dataDirectory.appendingPathComponent("audit.anchor")
    }

    /// Whether the key file lies inside the data directory (and so in its backups).
    public var keyFileIsInDataDirectory: Bool {
        let directory = dataDirectory.standardizedFileURL.resolvingSymlinksInPath().path
        let key = masterKeyFileURL.deletingLastPathComponent().resolvingSymlinksInPath().path + "/"
        return key.hasPrefix(directory.hasSuffix("/") ? directory : directory + "/")
    }

    /// What a production instance must not run with; empty when it may start.
    public var productionProblems: [String] {
        guard !isDevelopmentInstance else { return [] }
        var problems: [String] = []
        if masterKey == nil, keyFileIsInDataDirectory, !allowsKeyInDataDirectory {
            problems.append("the master key file \(masterKeyFileURL.path) is inside the data directory, so every backup of it carries the key "
                + "with the data the key protects: set DOSSIER_MASTER_KEY, or DOSSIER_MASTER_KEY_FILE to a path outside "
                + "\(dataDirectory.path) (DOSSIER_ALLOW_KEY_IN_DATA_DIR=1 accepts it, for a test machine only)")
        }
        if smtpURL == nil {
            problems.append("no SMTP_URL: mail would be written as files in \(outboxDirectory.path), links and tokens included; set SMTP_URL")
        }
        if let store = try? objectStore(), store.location.isPlainTextOverNetwork {
            problems.append("AWS_ENDPOINT_URL is http:// to another machine: a production instance reaches its object store over https only")
        }
        return problems
    }

    /// The retention sweep's interval; nil when it is off. Throws on a value it cannot read.
    public func retentionSchedule() throws -> Duration? {
        guard let text = retentionInterval?.trimmingCharacters(in: .whitespaces).lowercased() else { return .seconds(86_400) }
        if text == "off" { return nil }
        let words = text.split(separator: " ")
        let units: [String: Int64] = ["minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86_400, "days": 86_400]
        guard words.count == 2, let count = Int64(words[0]), count > 0, count <= 366 * 24 * 60, let unit = units[String(words[1])] else {
            throw ConfigurationError("DOSSIER_RETENTION_INTERVAL must be \"N minutes\", \"N hours\", \"N days\" or \"off\" "
                + "(e.g. \"1 day\"), not \"\(retentionInterval ?? "")\"")
        }
        return .seconds(count * unit)
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
