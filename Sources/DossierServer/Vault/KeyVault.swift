import Crypto
import DossierCore
import Fluent
import SQLKit
import Foundation
import Vapor

/// The server's vault: the master key, and each subject's data key kept wrapped in the key store
/// (`KeyStore`, a database apart from the data), unwrapped keys cached in memory.
struct KeyVault: Sendable {
    let masterKey: SymmetricKey
    let clock: any WallClock
    /// The key store's database.
    let keys: @Sendable () throws -> any Database
    let cache: SubjectKeyCache

    init(masterKey: SymmetricKey, clock: any WallClock, keys: @escaping @Sendable () throws -> any Database,
         cache: SubjectKeyCache = SubjectKeyCache()) {
        self.masterKey = masterKey
        self.clock = clock
        self.keys = keys
        self.cache = cache
    }

    /// The subject's key was destroyed: their data is gone for good (410).
    struct Shredded: AbortError, CustomStringConvertible {
        let subject: String
        var status: HTTPResponseStatus { .gone }
        var reason: String { "This person's data was erased: it can no longer be read." }
        var description: String { reason }
    }

    /// Where the master key came from.
    enum Source: Sendable, Equatable {
        case environment
        /// A key file; `isNew` when it does not exist yet and this key was just made for it (it is
        /// written only once the database has said it holds no data sealed under another key).
        case file(URL, isNew: Bool)
    }

    /// `DOSSIER_MASTER_KEY` when set; else the key file (`DOSSIER_MASTER_KEY_FILE`, or `master.key`
    /// in the data directory), which must be readable by its owner only. A missing file gets a new
    /// key (256 random bits), written by `commitNewKeyFile` after the key check passed.
    static func loadMasterKey(_ configuration: DossierConfiguration) throws -> (SymmetricKey, Source) {
        if let text = configuration.masterKey {
            do {
                return (try Vault.masterKey(base64: text), .environment)
            } catch {
                throw ConfigurationError("DOSSIER_MASTER_KEY: \(error)")
            }
        }
        let file = configuration.masterKeyFileURL
        if FileManager.default.fileExists(atPath: file.path) {
            return (try readKeyFile(file, what: "the master key file"), .file(file, isNew: false))
        }
        return (Vault.newDataKey(), .file(file, isNew: true))
    }

    /// A key file's key: owner-only, base64.
    static func readKeyFile(_ file: URL, what: String) throws -> SymmetricKey {
        try PrivateFile.requirePrivate(file, what: what)
        do {
            return try Vault.masterKey(base64: String(contentsOf: file, encoding: .utf8))
        } catch {
            throw ConfigurationError("\(file.path): \(error)")
        }
    }

    /// What a key file holds: the key in base64, a line.
    static func keyFileContents(_ key: SymmetricKey) -> Data {
        Data((key.withUnsafeBytes { Data($0) }.base64EncodedString() + "\n").utf8)
    }

    /// The purpose of the key-check row.
    static let keyCheckPurpose = "master-key"
    static let keyCheckPlaintext = Data("dossier master key check, version 1".utf8)

    /// The key check's sealed value for `key` (under a key derived from it, never the key itself).
    static func sealKeyCheck(with key: SymmetricKey) throws -> Data {
        try Vault.seal(keyCheckPlaintext, with: Vault.derivedKey(from: key, for: "key-check"), context: "key-check")
    }

    /// Whether `check` was sealed for `key`.
    static func keyCheck(_ check: KeyCheck, opensWith key: SymmetricKey) -> Bool {
        (try? Vault.open(check.sealed, with: Vault.derivedKey(from: key, for: "key-check"), context: "key-check")) == keyCheckPlaintext
    }

    /// Refuses a master key that does not open what this database holds (a lost key file replaced
    /// by a new one, a forgotten `DOSSIER_MASTER_KEY`); on a new database, records the check and
    /// writes a new key file.
    func checkMasterKey(source: Source) async throws {
        let database = try keys()
        let described: String
        switch source {
        case .environment: described = "DOSSIER_MASTER_KEY"
        case let .file(url, isNew): described = isNew ? "a new key (the key file \(url.path) is missing)" : "the key file \(url.path)"
        }
        let refusal = ConfigurationError(
            "the master key from \(described) does not open the data in this database: it was sealed with another key. "
                + "Restore the original key file or DOSSIER_MASTER_KEY; no new key was written."
        )
        if try await KeyCheck.query(on: database).filter(\.$purpose == KeyRotation.nextPurpose).first() != nil {
            throw ConfigurationError("a rotation of the master key is under way: run `dossier keys rotate` again to finish it")
        }
        if let check = try await KeyCheck.query(on: database).filter(\.$purpose == Self.keyCheckPurpose).first() {
            guard Self.keyCheck(check, opensWith: masterKey) else {
                // A rotation killed after its checks were swapped, before its key file was put
                // in place: the key that opens the store waits beside the old one. Never say
                // "restore the original" then: deleting that file would lose every key.
                if case let .file(url, _) = source {
                    let next = url.appendingPathExtension("next")
                    if let key = try? Self.readKeyFile(next, what: "the new key file"), Self.keyCheck(check, opensWith: key) {
                        throw ConfigurationError("a rotation of the master key stopped before its new key was put in place: "
                            + "run `dossier keys rotate` to finish it (the key that opens this key store is \(next.path): keep it)")
                    }
                }
                throw refusal
            }
            return
        }
        // A database from before the check: its subject keys must open with this key.
        if let wrapped = try await SubjectKey.query(on: database).filter(\.$wrappedKey != nil).first(),
           let key = wrapped.wrappedKey, (try? Vault.unwrap(key, for: wrapped.subject, with: masterKey)) == nil {
            throw refusal
        }
        if case let .file(url, isNew: true) = source {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            do {
                // Never over a key file another process made meanwhile: that one would be lost.
                try PrivateFile.createExclusively(Self.keyFileContents(masterKey), at: url)
            } catch is PrivateFile.Exists {
                throw ConfigurationError("another process created the key file \(url.path) at the same time: start again")
            } catch {
                throw ConfigurationError("cannot create the key file \(url.path): \(error)")
            }
        }
        let sealed = try Self.sealKeyCheck(with: masterKey)
        do {
            try await KeyCheck(purpose: Self.keyCheckPurpose, sealed: sealed, now: clock.now).create(on: database)
        } catch where (error as? any DatabaseError)?.isConstraintFailure == true {
            // Another process recorded it first: it must open with this key too.
            try await checkMasterKey(source: source)
        }
    }

    /// 503 while a rotation of the master key is under way, whoever asks: for answers that must
    /// not differ by whether a key had to be made (sign-up, password reset), and before any key
    /// is made (it would be wrapped under the old master key after the rotation read the keys).
    func requireNoRotation() async throws {
        if try await KeyCheck.query(on: try keys()).filter(\.$purpose == KeyRotation.nextPurpose).first() != nil {
            throw Abort(.serviceUnavailable, reason: "The server's keys are being renewed: try again in a few minutes.")
        }
    }

    /// The subject's data key to seal with, made on first use.
    func sealingKey(for subject: String) async throws -> SymmetricKey {
        if let cached = cache.key(for: subject, now: clock.now) { return cached }
        let database = try keys()
        if let key = try await storedKey(for: subject, on: database) { return key }
        // No new key while a rotation is under way: it would be wrapped under the old master key
        // after the rotation read the keys, and be lost with that key.
        try await requireNoRotation()
        let key = Vault.newDataKey()
        let record = SubjectKey(subject: subject, wrappedKey: try Vault.wrap(key, for: subject, with: masterKey), now: clock.now)
        do {
            try await record.create(on: database)
            cache.insert(key, for: subject, now: clock.now)
            return key
        } catch where (error as? any DatabaseError)?.isConstraintFailure == true {
            // Made by a concurrent request: use that one.
            return try await sealingKey(for: subject)
        }
    }

    /// The subject's data key to open with: never made here. No key in the key store means the
    /// subject's data cannot be read (a data backup restored beside a key store that never had,
    /// or no longer has, their key), which answers as erased.
    func openingKey(for subject: String) async throws -> SymmetricKey {
        if let cached = cache.key(for: subject, now: clock.now) { return cached }
        guard let key = try await storedKey(for: subject, on: try keys()) else { throw Shredded(subject: subject) }
        return key
    }

    private func storedKey(for subject: String, on database: any Database) async throws -> SymmetricKey? {
        guard let stored = try await SubjectKey.query(on: database).filter(\.$subject == subject).first() else { return nil }
        guard let wrapped = stored.wrappedKey, stored.destroyedAt == nil else { throw Shredded(subject: subject) }
        let key = try Vault.unwrap(wrapped, for: subject, with: masterKey)
        cache.insert(key, for: subject, now: clock.now)
        return key
    }

    /// What sealed data is authenticated as: whose it is and what it is.
    func fullContext(_ context: String, of subject: String) -> String {
        "\(subject):\(context)"
    }

    func seal(_ data: Data, for subject: String, context: String) async throws -> Data {
        try Vault.seal(data, with: try await sealingKey(for: subject), context: fullContext(context, of: subject))
    }

    func open(_ sealed: Data, for subject: String, context: String) async throws -> Data {
        try Vault.open(sealed, with: try await openingKey(for: subject), context: fullContext(context, of: subject))
    }

    func sealJSON<T: Encodable>(_ value: T, for subject: String, context: String) async throws -> Data {
        try await seal(JSONEncoder().encode(value), for: subject, context: context)
    }

    func openJSON<T: Decodable>(_ type: T.Type, _ sealed: Data, for subject: String, context: String) async throws -> T {
        try JSONDecoder().decode(type, from: try await open(sealed, for: subject, context: context))
    }

    /// A key of the service itself (the audit chain's), kept in the key store like a subject's
    /// (so a master-key rotation re-wraps it), made from `initial` the first time.
    func serviceKey(_ name: String, initial: SymmetricKey) async throws -> SymmetricKey {
        let subject = "service:\(name)"
        if let key = try await storedKey(for: subject, on: try keys()) { return key }
        let record = SubjectKey(subject: subject, wrappedKey: try Vault.wrap(initial, for: subject, with: masterKey), now: clock.now)
        do {
            try await record.create(on: try keys())
            return initial
        } catch where (error as? any DatabaseError)?.isConstraintFailure == true {
            return try await storedKey(for: subject, on: try keys()) ?? initial
        }
    }

    /// An email address as the keyed hash that share links and recipient organisations carry:
    /// equal for equal addresses (whatever their case), and nothing about the address for
    /// whoever reads the database without the key store. Its key is the service's own, kept in
    /// the key store (a master-key rotation keeps it).
    func recipientIndex(_ email: EmailAddress) async throws -> String {
        let key = try await serviceKey("recipient-index", initial: SymmetricKey(size: .bits256))
        return HMAC<SHA256>.authenticationCode(for: Data("recipient|\(email.canonical)".utf8), using: key)
            .map { String(format: "%02x", $0) }.joined()
    }

    /// The audit chain's key, from the key store (first made as it always was: derived from the
    /// master key of the day, so that chains written before the key store verify).
    func auditChainKey() async throws -> SymmetricKey {
        try await serviceKey("audit-chain", initial: AuditTrail.initialKey(masterKey))
    }

    /// Keys for new subjects (names just drawn at random, so none has one), made in one write to
    /// the key store; refused (503) while a rotation of the master key is under way.
    func makeKeys(for subjects: [String]) async throws {
        guard !subjects.isEmpty else { return }
        let database = try keys()
        try await requireNoRotation()
        let now = clock.now
        let made = subjects.map { ($0, Vault.newDataKey()) }
        try await made.map { SubjectKey(subject: $0.0, wrappedKey: try Vault.wrap($0.1, for: $0.0, with: masterKey), now: now) }.create(on: database)
        for (subject, key) in made { cache.insert(key, for: subject, now: now) }
    }

    /// Removes keys made by `makeKeys` for work that was rolled back: they sealed nothing that
    /// was kept, so no row needs to say they were destroyed.
    func discardUnused(_ subjects: [String]) async throws {
        guard !subjects.isEmpty else { return }
        for subject in subjects { cache.forget(subject, now: clock.now) }
        try await SubjectKey.query(on: try keys()).filter(\.$subject ~~ subjects).delete()
    }

    /// Crypto-shredding: the wrapped key is erased, so every sealed copy of the subject's data,
    /// in the database, the blob store or any backup, is unreadable for good.
    func shred(_ subject: String) async throws {
        try await shred([subject])
    }

    /// Several subjects' keys, in one write to the key store (and one checkpoint).
    func shred(_ subjects: [String]) async throws {
        guard !subjects.isEmpty else { return }
        let now = clock.now
        for subject in subjects { cache.forget(subject, now: now) }
        let database = try keys()
        let sql = try database.requireSQL()
        var shredded: [String] = []
        for batch in subjects.batches(of: 1000) {
            shredded += try await sql.update(SubjectKey.schema).set("wrapped_key", to: SQLLiteral.null).set("destroyed_at", to: now)
                .where("subject", .in, Array(batch)).returning("subject").all(decodingColumn: "subject", as: String.self)
        }
        // A subject that never had a key gets a row all the same: none can be made for it later.
        let missing = Set(subjects).subtracting(shredded)
        if !missing.isEmpty {
            let records = missing.sorted().map { subject in
                let record = SubjectKey(subject: subject, wrappedKey: Data(), now: now)
                record.wrappedKey = nil
                record.destroyedAt = now
                return record
            }
            try await records.createInBatches(on: database)
        }
        for subject in subjects { cache.forget(subject, now: now) }
        // A SQLite key store keeps the old page in its write-ahead log until a checkpoint (and
        // sqlite-nio overwrites freed content, SQLITE_SECURE_DELETE): copy it back now, so that
        // no file of the key store, nor a copy of it taken from now on, holds the destroyed key.
        if sql.dialect.name == "sqlite" {
            try? await sql.raw("PRAGMA wal_checkpoint(TRUNCATE)").run()
        }
    }
}

/// Unwrapped subject keys, kept in memory so that a read costs no key-store query: bounded, and
/// each kept a minute at most (another server instance may shred a key; this one forgets it
/// within the minute, and at once when it shreds it itself).
final class SubjectKeyCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (key: SymmetricKey, until: Date)] = [:]
    /// Subjects shredded in the last minute: a read that fetched the key just before the shred
    /// does not put it back.
    private var forgotten: [String: Date] = [:]
    let capacity: Int
    let lifetime: TimeInterval

    init(capacity: Int = 10_000, lifetime: TimeInterval = 60) {
        self.capacity = capacity
        self.lifetime = lifetime
    }

    func key(for subject: String, now: Date) -> SymmetricKey? {
        lock.withLock {
            guard let entry = entries[subject] else { return nil }
            guard entry.until > now else {
                entries[subject] = nil
                return nil
            }
            return entry.key
        }
    }

    func insert(_ key: SymmetricKey, for subject: String, now: Date) {
        lock.withLock {
            if let until = forgotten[subject], until > now { return }
            if entries.count >= capacity, entries[subject] == nil {
                // Full: the expired go first, else any (a cache, not a store).
                entries = entries.filter { $0.value.until > now }
                if entries.count >= capacity, let any = entries.keys.first { entries[any] = nil }
            }
            entries[subject] = (key, now.addingTimeInterval(lifetime))
        }
    }

    func remove(_ subject: String) {
        lock.withLock { entries[subject] = nil }
    }

    /// Removed, and not taken back for a minute.
    func forget(_ subject: String, now: Date) {
        lock.withLock {
            entries[subject] = nil
            if forgotten.count >= capacity { forgotten = forgotten.filter { $0.value > now } }
            forgotten[subject] = now.addingTimeInterval(lifetime)
        }
    }

    func removeAll() {
        lock.withLock { entries = [:] }
    }

    var count: Int { lock.withLock { entries.count } }
}
