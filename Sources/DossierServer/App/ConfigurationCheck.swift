import DossierCore
import Foundation
import Logging

/// `dossier config check`: every setting the server would run with, where it comes from, with
/// secrets masked, and every value it would refuse. It reads and writes nothing but the files
/// it names (the register, the key file), and opens no database.
public struct ConfigurationReport: Sendable {
    public struct Setting: Sendable, Equatable {
        /// The variable that sets it.
        public var name: String
        /// What the server would use, with passwords and keys masked.
        public var value: String
        /// `environment`, `flag` or `default`.
        public var origin: String
    }

    public var settings: [Setting] = []
    /// Values the server would refuse: each makes `dossier config check` exit 1.
    public var problems: [String] = []
    /// `development` or `production`, and why.
    public var instance = ""

    /// The report as printed: one setting a line, aligned, then the instance.
    public var text: String {
        let width = settings.map(\.name.count).max() ?? 0
        var lines = ["Effective configuration (secrets masked):"]
        for setting in settings {
            lines.append("  " + setting.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + setting.value + "  (" + setting.origin + ")")
        }
        lines.append("Instance: " + instance)
        return lines.joined(separator: "\n")
    }
}

public enum ConfigurationCheck {
    /// The mask shown in place of a secret.
    public static let mask = SecretURL.mask

    /// Values of the environment the server refuses before it looks at anything else.
    public static func environmentProblems(_ environment: [String: String]) -> [String] {
        var problems: [String] = []
        if let value = present("DOSSIER_ENV", environment), !["production", "development"].contains(value.lowercased()) {
            problems.append("DOSSIER_ENV must be \"production\" or \"development\" (or unset), not \"\(value)\"")
        }
        if let value = present("DOSSIER_ALLOW_KEY_IN_DATA_DIR", environment),
           !["1", "true", "yes", "0", "false", "no"].contains(value.lowercased()) {
            problems.append("DOSSIER_ALLOW_KEY_IN_DATA_DIR must be 1 or 0 (true/false, yes/no), not \"\(value)\"")
        }
        do { _ = try LogFormat.from(environment) } catch { problems.append("\(error)") }
        do { _ = try LogFormat.level(environment) } catch { problems.append("\(error)") }
        return problems
    }

    /// Checks `configuration` (read from `environment`, then overridden by the `flags` named) as
    /// `dossier serve` would use it on `hostname`.
    /// `capabilities` are this build's (`BuildCapabilities.ofThisBuild()`): a register promising
    /// a measure the build lacks is refused, as `serve` refuses it.
    public static func run(_ configuration: DossierConfiguration, environment: [String: String], capabilities: Set<Capability>,
                           flags: Set<String> = [], servesOnLoopback: Bool = true) -> ConfigurationReport {
        var report = ConfigurationReport()
        report.problems = environmentProblems(environment)
        func add(_ name: String, _ value: String) {
            let origin = flags.contains(name) ? "flag" : present(name, environment) != nil ? "environment" : "default"
            report.settings.append(.init(name: name, value: value, origin: origin))
        }
        func attempt(_ body: () throws -> Void) {
            do { try body() } catch let error as InvalidRegister {
                report.problems += error.problems.map(\.description)
            } catch {
                report.problems.append("\(error)")
            }
        }

        // Where the data lives.
        add("DOSSIER_DATA_DIR", configuration.dataDirectory.path + existence(of: configuration.dataDirectory))
        attempt { try requireUsableDirectory(configuration.dataDirectory, variable: "DOSSIER_DATA_DIR", what: "the data directory") }
        if let url = configuration.databaseURL {
            add("DATABASE_URL", masked(url: url, showsUser: true))
            attempt { _ = try DatabaseSetup.postgresConfiguration(url, variable: "DATABASE_URL") }
        } else {
            add("DATABASE_URL", "unset: SQLite at \(configuration.sqlitePath)")
        }
        switch KeyStore.location(configuration) {
        case let .postgres(url, _):
            add("DOSSIER_KEYS_URL", masked(url: url, showsUser: true))
            attempt { _ = try DatabaseSetup.postgresConfiguration(url, variable: "DOSSIER_KEYS_URL") }
            if let problem = KeyStore.sameDatabaseProblem(configuration) { report.problems.append(problem) }
        case let .sqliteFile(path):
            add("DOSSIER_KEYS_URL", "SQLite at \(path)")
            // The default's folder is the data directory, made on first start if need be.
            if configuration.keysURL != nil || FileManager.default.fileExists(atPath: configuration.dataDirectory.path),
               let problem = KeyStore.sqliteProblem(path) {
                report.problems.append(problem)
            }
        case let .unusable(problem):
            add("DOSSIER_KEYS_URL", configuration.keysURL.map { masked(url: $0) } ?? "")
            report.problems.append(problem)
        case .sqliteMemory:
            add("DOSSIER_KEYS_URL", "SQLite in memory")
        }
        if let problem = configuration.blobStoreProblem {
            add("DOSSIER_BLOBS_URL", configuration.blobsURL.map { $0.contains("://") ? masked(url: $0) : $0 } ?? "")
            report.problems.append(problem)
        } else if let store = try? configuration.objectStore() {
            // Reached when the server starts (a development server makes the bucket if the store has none).
            add("DOSSIER_BLOBS_URL", "s3://\(store.location.bucket)/\(store.location.prefix) at \(store.location.endpoint.absoluteString) (\(store.location.region))")
        } else {
            add("DOSSIER_BLOBS_URL", configuration.blobDirectory.path + existence(of: configuration.blobDirectory))
            attempt {
                try requireUsableDirectory(configuration.blobDirectory, variable: configuration.blobsURL == nil ? "the blob directory" : "DOSSIER_BLOBS_URL",
                                           what: "the blob directory")
            }
        }
        if configuration.usesObjectStore {
            // What the server uses: AWS_ENDPOINT_URL_S3 before AWS_ENDPOINT_URL, AWS_DEFAULT_REGION after AWS_REGION.
            let store = try? configuration.objectStore()
            if let value = present("AWS_ENDPOINT_URL_S3", environment) {
                add("AWS_ENDPOINT_URL_S3", masked(url: value))
                if present("AWS_ENDPOINT_URL", environment) != nil { add("AWS_ENDPOINT_URL", "ignored: AWS_ENDPOINT_URL_S3 is set") }
            } else if let value = present("AWS_ENDPOINT_URL", environment) {
                add("AWS_ENDPOINT_URL", masked(url: value))
            }
            if present("AWS_ENDPOINT_URL_S3", environment) == nil, present("AWS_ENDPOINT_URL", environment) == nil {
                add("AWS_ENDPOINT_URL", "unset: " + (store?.location.endpoint.absoluteString ?? "AWS"))
            }
            let region = store?.location.region ?? configuration.awsRegion ?? S3Location.defaultRegion
            add("AWS_REGION", present("AWS_REGION", environment) != nil || configuration.awsRegion != nil ? region
                : present("AWS_DEFAULT_REGION", environment) != nil ? "unset: \(region) (AWS_DEFAULT_REGION)" : "unset: \(region)")
            add("AWS_ACCESS_KEY_ID", present("AWS_ACCESS_KEY_ID", environment) == nil ? "unset" : mask)
            add("AWS_SECRET_ACCESS_KEY", present("AWS_SECRET_ACCESS_KEY", environment) == nil ? "unset" : mask)
            if present("AWS_SESSION_TOKEN", environment) != nil { add("AWS_SESSION_TOKEN", mask) }
        }

        // The register.
        var register: LoadedRegister?
        attempt {
            let loaded = try RegisterLoader.load(from: configuration.registerPath.map { URL(fileURLWithPath: $0) })
            try DossierApp.requireStoredCategories(in: loaded)
            let unkept = RegisterValidator.capabilityProblems(in: loaded.register, provided: capabilities)
            if !unkept.isEmpty {
                throw InvalidRegister(problems: unkept.map { RegisterProblem(file: configuration.registerPath ?? "register", path: $0.path, message: $0.message) })
            }
            register = loaded
        }
        let described = configuration.registerPath.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? "the shipped register"
        add("DOSSIER_REGISTER", described + (register.map { ", version \($0.register.version)" } ?? ": invalid"))

        // Keys.
        if let key = configuration.masterKey {
            add("DOSSIER_MASTER_KEY", mask)
            attempt {
                do { _ = try Vault.masterKey(base64: key) } catch { throw ConfigurationError("DOSSIER_MASTER_KEY: \(error)") }
            }
        } else {
            let file = configuration.masterKeyFileURL
            if FileManager.default.fileExists(atPath: file.path) {
                add("DOSSIER_MASTER_KEY_FILE", file.path)
                attempt { _ = try KeyVault.readKeyFile(file, what: "the master key file") }
            } else {
                add("DOSSIER_MASTER_KEY_FILE", file.path + " (not there yet: made with a new database)")
            }
        }
        add("DOSSIER_ALLOW_KEY_IN_DATA_DIR", configuration.allowsKeyInDataDirectory ? "1: the key file is accepted in the data directory on a public address" : "unset")
        add("DOSSIER_AUDIT_ANCHOR", configuration.auditAnchorURL.path)

        // Mail and links.
        add("DOSSIER_BASE_URL", configuration.baseURL.contains("@") ? masked(url: configuration.baseURL) : configuration.baseURL)
        if let problem = configuration.baseURLProblem { report.problems.append(problem) }
        if let url = configuration.smtpURL {
            // Its user too: some relays take an API token as the user name.
            add("SMTP_URL", masked(url: url))
            attempt { _ = try MailSettings.smtp(from: url) }
        } else {
            add("SMTP_URL", "unset: messages written to \(configuration.outboxDirectory.path)")
        }
        add("SMTP_CA_FILE", configuration.smtpCAFile ?? "unset: the system's certificate authorities")
        if let problem = configuration.smtpCAFileProblem { report.problems.append(problem) }
        add("DOSSIER_MAIL_FROM", configuration.resolvedMailSender)

        // The server's behaviour.
        add("DOSSIER_TRUSTED_PROXIES", configuration.trustedProxies.isEmpty ? "none: the client is the peer" : configuration.trustedProxies.joined(separator: ", "))
        attempt { _ = try ClientAddressResolver(trustedProxies: configuration.trustedProxies) }
        do {
            let every = try configuration.retentionSchedule()
            add("DOSSIER_RETENTION_INTERVAL", every.map { "every \(describe($0))" } ?? "off: run `dossier retention run` yourself")
        } catch {
            add("DOSSIER_RETENTION_INTERVAL", configuration.retentionInterval ?? "")
            report.problems.append("\(error)")
        }
        for (name, locate) in [("DOSSIER_INSPECTOR", { try InspectionSandbox.locate(environment: environment) }),
                               ("DOSSIER_RENDERER", { try RenditionSandbox.locate(environment: environment) })] as [(String, () throws -> URL)] {
            do {
                add(name, try locate().path)
            } catch {
                add(name, present(name, environment) ?? "not found")
                report.problems.append("\(error)")
            }
        }
        add("DOSSIER_METRICS_TOKEN", configuration.metricsToken == nil ? "unset: GET /metrics answers anyone, without the database's gauges" : mask)
        if let problem = configuration.metricsTokenProblem { report.problems.append(problem) }
        // A value refused is shown as it is (the problem says why).
        add("DOSSIER_LOG_FORMAT", (try? LogFormat.from(environment).rawValue) ?? present("DOSSIER_LOG_FORMAT", environment) ?? "")
        add("LOG_LEVEL", (try? LogFormat.level(environment).rawValue) ?? present("LOG_LEVEL", environment) ?? "")

        // Development or production, as `serve` would decide.
        let development = configuration.isDevelopmentInstance && servesOnLoopback
        add("DOSSIER_ENV", present("DOSSIER_ENV", environment) ?? "unset")
        if development {
            report.instance = "development (loopback, and no DOSSIER_ENV=production, https base URL or trusted proxy): "
                + "the key file may stay in the data directory and mail may be written as files. Never put real data here."
        } else {
            report.instance = "production (" + (servesOnLoopback ? "DOSSIER_ENV=production, an https base URL or trusted proxies" : "a public address") + ")"
            var configuration = configuration
            configuration.isDevelopmentInstance = false
            report.problems += configuration.productionProblems
            if let register {
                report.problems += DossierApp.productionRegisterProblems(register.register, configuration).map { "the register: " + $0 }
            }
        }
        return report
    }

    /// A URL with its password (and user, for anything but a database) replaced by the mask.
    public static func masked(url text: String, showsUser: Bool = false) -> String {
        SecretURL.masked(text, showsUser: showsUser)
    }

    static func present(_ name: String, _ environment: [String: String]) -> String? {
        DossierConfiguration.variable(name, in: environment)
    }

    static func existence(of url: URL) -> String {
        FileManager.default.fileExists(atPath: url.path) ? "" : " (not there yet: made on first start)"
    }

    /// What ``DataDirectory/prepare(_:variable:what:)`` would refuse, without creating anything.
    static func requireUsableDirectory(_ directory: URL, variable: String, what: String) throws {
        if try DataDirectory.requireExisting(directory, variable: variable, what: what) {
            guard FileManager.default.isWritableFile(atPath: directory.path) else {
                throw ConfigurationError("\(what) \(directory.path) is not writable by this user")
            }
            return
        }
        // Made on first start: its nearest existing parent must let us.
        var parent = directory.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: parent.path), parent.path != "/" { parent = parent.deletingLastPathComponent() }
        guard FileManager.default.isWritableFile(atPath: parent.path) else {
            throw ConfigurationError("cannot create \(what) \(directory.path): \(parent.path) is not writable by this user")
        }
    }

    static func describe(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        for (unit, size) in [("day", Int64(86_400)), ("hour", 3600), ("minute", 60)] where seconds % size == 0 {
            let count = seconds / size
            return "\(count) \(unit)\(count == 1 ? "" : "s")"
        }
        return "\(seconds) seconds"
    }
}
