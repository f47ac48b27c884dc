import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import SQLKit
import Vapor

/// Chooses the database: PostgreSQL when `DATABASE_URL` is set, else SQLite in the data directory.
enum DatabaseSetup {
    static func configure(_ app: Application, _ configuration: DossierConfiguration) async throws {
        if let url = configuration.databaseURL {
            var postgres = try postgresConfiguration(url, variable: "DATABASE_URL")
            if let schema = configuration.databaseSchema {
                postgres.searchPath = [schema]
            }
            // Queries carry personal data in their bound values: never at debug, only at trace.
            app.databases.use(.postgres(configuration: postgres, sqlLogLevel: .trace), as: .psql)
        } else if configuration.inMemoryDatabase {
            app.databases.use(.sqlite(.memory, sqlLogLevel: nil), as: .sqlite)
        } else {
            try DataDirectory.prepare(configuration.dataDirectory)
            // Queries carry personal data in their bound values: they are never logged.
            // Created owner-only (the process's umask may be wider).
            let path = configuration.sqlitePath
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            app.databases.use(.sqlite(.file(path), sqlLogLevel: nil), as: .sqlite)
            // Readers never wait for the writer, and a crash mid-write leaves the database whole.
            if let sql = app.db as? any SQLDatabase {
                try await sql.raw("PRAGMA journal_mode=WAL").run()
            }
            // The journal files SQLite makes take the database's mode only if the umask allows:
            // tighten them, and the database, whatever their age.
            for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
                try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
            }
        }
    }
}

extension DatabaseSetup {
    /// `url` (the value of `variable`) read as PostgresKit reads it, refused when a password
    /// holds `/`, `?`, `#` or `@` unencoded, and never quoted in the error (the parser's own
    /// error quotes it, password included). `serve` and `dossier config check` both call it.
    static func postgresConfiguration(_ url: String, variable: String) throws -> SQLPostgresConfiguration {
        if let problem = SecretURL.ambiguity(in: url, variable: variable) { throw ConfigurationError(problem) }
        do {
            return try SQLPostgresConfiguration(url: url)
        } catch {
            throw ConfigurationError("\(variable) is not a usable URL: expected postgres://user:password@host:port/database"
                + "[?sslmode=disable|prefer|require|verify-full]" + (variable == "DOSSIER_KEYS_URL" ? " or a SQLite file path" : ""))
        }
    }
}

/// The data directory: created on first use, readable by its owner only; one that others can
/// read or enter is refused.
enum DataDirectory {
    static func prepare(_ directory: URL, variable: String = "DOSSIER_DATA_DIR", what: String = "the data directory") throws {
        if try requireExisting(directory, variable: variable, what: what) { return }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ConfigurationError("cannot create \(what) \(directory.path): \(error.localizedDescription)")
        }
    }

    /// Whether `directory` exists, refusing it when it is no directory or others may enter it.
    static func requireExisting(_ directory: URL, variable: String, what: String) throws -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else { return false }
        guard isDirectory.boolValue else {
            throw ConfigurationError("\(variable) \(directory.path) exists but is not a directory")
        }
        try PrivateFile.requirePrivate(directory, what: what)
        return true
    }

    /// The scratch directory, private and empty: a file left by a process killed mid-inspection
    /// (the only plaintext that ever touches the disk) does not outlive the restart.
    static func prepareScratch(_ directory: URL, emptying: Bool) throws {
        let files = FileManager.default
        if emptying, files.fileExists(atPath: directory.path) {
            for name in try files.contentsOfDirectory(atPath: directory.path) {
                try files.removeItem(at: directory.appendingPathComponent(name))
            }
        }
        try files.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try PrivateFile.requirePrivate(directory, what: "the scratch directory")
    }
}

/// A setting that keeps the server from starting, said plainly.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
