import Crypto
import DossierCore
import Fluent
import Foundation
import Vapor

/// The server's vault: the master key, and each subject's data key kept wrapped in the database.
struct KeyVault: Sendable {
    let masterKey: SymmetricKey
    let clock: any WallClock

    /// The subject's key was destroyed: their data is gone for good (410).
    struct Shredded: AbortError, CustomStringConvertible {
        let subject: String
        var status: HTTPResponseStatus { .gone }
        var reason: String { "This person's data was erased: it can no longer be read." }
        var description: String { reason }
    }

    /// `DOSSIER_MASTER_KEY` when set; else the key file in the data directory, created on first
    /// start (256 random bits, base64, readable by the owner only).
    static func loadMasterKey(_ configuration: DossierConfiguration) throws -> SymmetricKey {
        if let text = configuration.masterKey {
            do {
                return try Vault.masterKey(base64: text)
            } catch {
                throw ConfigurationError("DOSSIER_MASTER_KEY: \(error)")
            }
        }
        let file = configuration.dataDirectory.appendingPathComponent("master.key")
        let files = FileManager.default
        if files.fileExists(atPath: file.path) {
            let attributes = try files.attributesOfItem(atPath: file.path)
            if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
                throw ConfigurationError("\(file.path) is readable by others (mode \(String(mode, radix: 8))): chmod 600 it")
            }
            do {
                return try Vault.masterKey(base64: String(contentsOf: file, encoding: .utf8))
            } catch {
                throw ConfigurationError("\(file.path): \(error)")
            }
        }
        try DataDirectory.prepare(configuration.dataDirectory)
        let key = Vault.newDataKey()
        let text = key.withUnsafeBytes { Data($0) }.base64EncodedString() + "\n"
        guard files.createFile(atPath: file.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError("cannot create the key file \(file.path)")
        }
        return key
    }

    /// The subject's data key, made on first use.
    func key(for subject: String, on database: any Database) async throws -> SymmetricKey {
        if let stored = try await SubjectKey.query(on: database).filter(\.$subject == subject).first() {
            guard let wrapped = stored.wrappedKey, stored.destroyedAt == nil else { throw Shredded(subject: subject) }
            return try Vault.unwrap(wrapped, for: subject, with: masterKey)
        }
        let key = Vault.newDataKey()
        let record = SubjectKey(subject: subject, wrappedKey: try Vault.wrap(key, for: subject, with: masterKey), now: clock.now)
        do {
            try await record.create(on: database)
            return key
        } catch where (error as? any DatabaseError)?.isConstraintFailure == true {
            // Made by a concurrent request: use that one.
            return try await self.key(for: subject, on: database)
        }
    }

    func seal(_ data: Data, for subject: String, context: String, on database: any Database) async throws -> Data {
        try Vault.seal(data, with: try await key(for: subject, on: database), context: "\(subject):\(context)")
    }

    func open(_ sealed: Data, for subject: String, context: String, on database: any Database) async throws -> Data {
        try Vault.open(sealed, with: try await key(for: subject, on: database), context: "\(subject):\(context)")
    }

    func sealJSON<T: Encodable>(_ value: T, for subject: String, context: String, on database: any Database) async throws -> Data {
        try await seal(JSONEncoder().encode(value), for: subject, context: context, on: database)
    }

    func openJSON<T: Decodable>(_ type: T.Type, _ sealed: Data, for subject: String, context: String, on database: any Database) async throws -> T {
        try JSONDecoder().decode(type, from: try await open(sealed, for: subject, context: context, on: database))
    }

    /// Crypto-shredding: the wrapped key is erased, so every sealed copy of the subject's data,
    /// in the database, the blob store or any backup, is unreadable for good.
    func shred(_ subject: String, on database: any Database) async throws {
        if let stored = try await SubjectKey.query(on: database).filter(\.$subject == subject).first() {
            stored.wrappedKey = nil
            stored.destroyedAt = clock.now
            try await stored.save(on: database)
        } else {
            let record = SubjectKey(subject: subject, wrappedKey: Data(), now: clock.now)
            record.wrappedKey = nil
            record.destroyedAt = clock.now
            try await record.create(on: database)
        }
    }
}
