import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import SQLKit
import Vapor

extension DatabaseID {
    /// The key store: subject keys (wrapped) and the master key's check, apart from the data.
    static let keys = DatabaseID(string: "keys")
}

/// Subject keys live in a database of their own (`DOSSIER_KEYS_URL`: a SQLite file, by default
/// `keys.sqlite` in the data directory, or a PostgreSQL database), so that a backup of the data
/// database holds ciphertext and no key: once a subject's key is destroyed here, and the key
/// store's own backups older than that are gone, no data backup can be decrypted for them.
enum KeyStore {
    enum Location: Equatable, CustomStringConvertible {
        case sqliteFile(String)
        case sqliteMemory
        case postgres(url: String, schema: String?)
        /// A URL of a kind the key store cannot be (the message says which).
        case unusable(String)

        var description: String {
            switch self {
            case let .sqliteFile(path): "SQLite at \(path)"
            case .sqliteMemory: "SQLite in memory"
            case .postgres: "PostgreSQL"
            case .unusable: "unusable"
            }
        }
    }

    static func location(_ configuration: DossierConfiguration) -> Location {
        if let url = configuration.keysURL {
            let lower = url.lowercased()
            // Every spelling PostgresKit reads (TCP and Unix socket).
            if ["postgres://", "postgresql://", "postgres+tcp://", "postgresql+tcp://", "postgres+uds://", "postgresql+uds://"]
                .contains(where: { lower.hasPrefix($0) }) {
                return .postgres(url: url, schema: configuration.keysSchema)
            }
            if lower.hasPrefix("sqlite://") {
                return .sqliteFile(URL(fileURLWithPath: String(url.dropFirst("sqlite://".count))).standardizedFileURL.path)
            }
            // Any other scheme (a quoted URL, a typo) is no file path: refused, never created.
            if url.contains("://") || SecretURL.scheme(of: url) != nil || url.contains("@") || (url.contains("=") && url.contains(" ")) || url.hasPrefix("\"")
                || url.hasPrefix("'") || url != url.trimmingCharacters(in: .whitespaces) {
                return .unusable("DOSSIER_KEYS_URL must be postgres://user:password@host:port/database or a SQLite file path (without quotes or spaces around it)")
            }
            return .sqliteFile(URL(fileURLWithPath: url).standardizedFileURL.path)
        }
        if configuration.inMemoryDatabase { return .sqliteMemory }
        return .sqliteFile(configuration.dataDirectory.appendingPathComponent("keys.sqlite").path)
    }

    /// Why a SQLite key store cannot be at `path`; nil when it can (made there if missing).
    static func sqliteProblem(_ path: String) -> String? {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: folder.path) else {
            return "DOSSIER_KEYS_URL: the folder \(folder.path) does not exist"
        }
        if FileManager.default.fileExists(atPath: path) {
            do { try PrivateFile.requirePrivate(URL(fileURLWithPath: path), what: "the key store") } catch { return "\(error)" }
        } else if !FileManager.default.isWritableFile(atPath: folder.path) {
            return "DOSSIER_KEYS_URL: the folder \(folder.path) is not writable by this user"
        }
        return nil
    }

    /// Why the key store would be the data database itself; nil when it is a database of its own.
    static func sameDatabaseProblem(_ configuration: DossierConfiguration) -> String? {
        func normalised(_ url: String?) -> String? {
            url.map { $0.replacingOccurrences(of: "postgresql://", with: "postgres://", options: [.anchored, .caseInsensitive]) }
        }
        guard case let .postgres(url, schema) = location(configuration), normalised(url) == normalised(configuration.databaseURL),
              schema == configuration.databaseSchema else { return nil }
        return "DOSSIER_KEYS_URL names the data database itself: the key store must be a database of its own, so that a backup of the data holds no key"
    }

    static func configure(_ app: Application, _ configuration: DossierConfiguration) throws {
        if let problem = sameDatabaseProblem(configuration) { throw ConfigurationError(problem) }
        switch location(configuration) {
        case let .unusable(problem):
            throw ConfigurationError(problem)
        case let .postgres(url, schema):
            var postgres = try DatabaseSetup.postgresConfiguration(url, variable: "DOSSIER_KEYS_URL")
            if let schema { postgres.searchPath = [schema] }
            app.databases.use(.postgres(configuration: postgres, sqlLogLevel: .trace), as: .keys, isDefault: false)
        case .sqliteMemory:
            app.databases.use(.sqlite(.memory, sqlLogLevel: nil), as: .keys, isDefault: false)
        case let .sqliteFile(path):
            // An existing file is checked private there; a new one is made owner-only.
            if let problem = sqliteProblem(path) { throw ConfigurationError(problem) }
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            app.databases.use(.sqlite(.file(path), sqlLogLevel: nil), as: .keys, isDefault: false)
        }
        app.migrations.add([K001CreateKeyStore()], to: .keys)
    }

    /// After the migrations: WAL for a SQLite key store, then keys still in the data database
    /// (from before the key store) moved here, one at a time, each deleted there once copied: a
    /// move killed halfway resumes at the next start.
    static func prepare(_ app: Application) async throws {
        let keys = app.db(.keys)
        if let sql = keys as? any SQLDatabase, sql.dialect.name == "sqlite" {
            try await sql.raw("PRAGMA journal_mode=WAL").run()
        }
        guard let data = app.db as? any SQLDatabase else { return }
        for table in [SubjectKey.schema, KeyCheck.schema] where try await tableExists(table, in: data) {
            if table == SubjectKey.schema {
                for legacy in try await SubjectKey.query(on: app.db).all() {
                    if try await SubjectKey.query(on: keys).filter(\.$subject == legacy.subject).first() == nil {
                        let copy = SubjectKey(subject: legacy.subject, wrappedKey: legacy.wrappedKey ?? Data(), now: legacy.createdAt)
                        copy.wrappedKey = legacy.wrappedKey
                        copy.destroyedAt = legacy.destroyedAt
                        try await copy.create(on: keys)
                    }
                    try await legacy.delete(on: app.db)
                }
            } else {
                for legacy in try await KeyCheck.query(on: app.db).all() {
                    if try await KeyCheck.query(on: keys).filter(\.$purpose == legacy.purpose).first() == nil {
                        try await KeyCheck(purpose: legacy.purpose, sealed: legacy.sealed, now: legacy.createdAt).create(on: keys)
                    }
                    try await legacy.delete(on: app.db)
                }
            }
            try await data.drop(table: table).run()
        }
    }

    /// Refuses a key store that has never seen this data: with sealed data in the data database
    /// and no key check in the key store, the key store is new or lost, and starting would seal
    /// new data under keys nobody can pair with the old.
    static func requireKeysForData(_ app: Application) async throws {
        guard try await KeyCheck.query(on: app.db(.keys)).count() == 0 else { return }
        let sealed = try await Profile.query(on: app.db).count() + DocumentFile.query(on: app.db).count()
            + Guarantor.query(on: app.db).count() + OutboxMessage.query(on: app.db).filter(\.$sealed != nil).count()
        guard sealed == 0 else {
            throw ConfigurationError("the key store (\(location(app.dossier.configuration))) holds no keys, but the data database holds "
                + "sealed data: point DOSSIER_KEYS_URL at its key store, or restore it from its backup")
        }
    }

    private static func tableExists(_ table: String, in database: any SQLDatabase) async throws -> Bool {
        if database.dialect.name == "sqlite" {
            return try await database.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name = \(bind: table)").first() != nil
        }
        return try await database.raw("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = \(bind: table)").first() != nil
    }
}

/// The key store's tables.
struct K001CreateKeyStore: AsyncMigration {
    var name: String { "K001CreateKeyStore" }

    func prepare(on database: any Database) async throws {
        try await database.schema(SubjectKey.schema)
            .id()
            .field("subject", .string, .required)
            .field("wrapped_key", .data)
            .field("created_at", .datetime, .required)
            .field("destroyed_at", .datetime)
            .unique(on: "subject")
            .create()
        try await database.schema(KeyCheck.schema)
            .id()
            .field("purpose", .string, .required)
            .field("sealed", .data, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "purpose")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(KeyCheck.schema).delete()
        try await database.schema(SubjectKey.schema).delete()
    }
}
