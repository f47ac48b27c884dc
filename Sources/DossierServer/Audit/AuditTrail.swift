import Crypto
import DossierCore
import Fluent
import NIOConcurrencyHelpers
import Foundation
import Logging
import SQLKit

/// What happened, for the audit trail.
struct AuditEvent: Sendable {
    var action: String
    /// Whose data: the pseudonymous subject id.
    var subject: String?
    var purpose: String?
    var reason: String?
    var details: [String: String] = [:]
}

/// The events a transaction records; they are appended as its last statements, so that the
/// change and its audit entry commit together or not at all. Just before them go the writes it
/// put in `writes` (in one statement on PostgreSQL).
final class AuditLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [(AuditEvent, String)] = []
    /// Writes sent at the transaction's end, just before the audit entries (see `WriteBatch`).
    let writes: WriteBatch

    init(on database: any Database) {
        writes = WriteBatch(on: database)
    }

    func record(_ event: AuditEvent, by actor: String) {
        lock.withLock { events.append((event, actor)) }
    }

    var pending: [(AuditEvent, String)] { lock.withLock { events } }
}

/// Appends to the audit trail: a chain of entries, each carrying an HMAC (keyed by a key derived
/// from the master key, which never enters the database) over its content and the previous
/// entry's MAC. A signed anchor of the head is kept outside the database, so deleting the last
/// entries is detected too.
///
/// Appends are serialised in this process (an actor alone would not do: it is re-entered at
/// every `await`) and, on PostgreSQL, across processes by a transaction-scoped advisory lock.
final class AuditTrail: Sendable {
    private let clock: any WallClock
    private let installedKey: NIOLockedValueBox<SymmetricKey>
    /// The chain's key: kept in the key store, wrapped by the master key (so that rotating the
    /// master key keeps it); until `install` (at migration), the value it was first made with.
    var key: SymmetricKey { installedKey.withLockedValue { $0 } }
    let anchor: AuditAnchorFile
    private let appends = SerialExecutor()

    init(clock: any WallClock, masterKey: SymmetricKey, anchorFile: URL, logger: Logger) {
        self.clock = clock
        installedKey = NIOLockedValueBox(Self.initialKey(masterKey))
        anchor = AuditAnchorFile(url: anchorFile, logger: logger)
    }

    /// The key a chain starts with: derived from the master key of the day (as chains written
    /// before the key store were), then stored in the key store and read from there.
    static func initialKey(_ masterKey: SymmetricKey) -> SymmetricKey {
        Vault.derivedKey(from: masterKey, for: "audit-chain")
    }

    func install(key: SymmetricKey) {
        installedKey.withLockedValue { $0 = key }
    }

    /// Runs `body` in one transaction, then appends the events it recorded in that same
    /// transaction. Never call `record` or `transaction` from inside `body`.
    func transaction<T: Sendable>(on database: any Database,
                                  _ body: @escaping @Sendable (any Database, AuditLog) async throws -> T) async throws -> T {
        let (result, head) = try await appends.run {
            try await database.transaction { db -> (T, AuditEntry?) in
                try await db.takeWriteLock()
                let log = AuditLog(on: db)
                let result = try await body(db, log)
                return (result, try await self.append(log.pending, with: log.writes, on: db))
            }
        }
        if let head { anchor.advance(to: AuditAnchor(sequence: head.sequence, head: head.hash, key: key)) }
        return result
    }

    /// Records an event on its own (a read, or a change already committed elsewhere).
    @discardableResult
    func record(_ event: AuditEvent, by actor: String, on database: any Database) async throws -> AuditEntry {
        let entry = try await appends.run {
            try await database.transaction { db in
                try await db.takeWriteLock()
                return try await self.append(event, by: actor, on: db)
            }
        }
        anchor.advance(to: AuditAnchor(sequence: entry.sequence, head: entry.hash, key: key))
        return entry
    }

    /// The key of the PostgreSQL advisory lock that serialises appends across processes.
    static let advisoryLock: Int64 = 0x646F_7373_6965_72  // "dossier"

    private func append(_ event: AuditEvent, by actor: String, on database: any Database) async throws -> AuditEntry {
        // One event in, one entry out.
        try await append([(event, actor)], with: WriteBatch(on: database), on: database)!
    }

    /// Appends `events` in order, each chained to the one before: the chain's head is read once
    /// and the entries are inserted in one statement (a batch of accesses costs two statements,
    /// not two per access). Returns the new head.
    ///
    /// The transaction's batched `writes` go first, before the chain's lock: once a transaction
    /// holds that lock it takes no other (it only inserts entries). Were it to wait for a row
    /// while holding it (an erasure's cascades reaching a link another instance is logging an
    /// access to), and the row's holder wait for the lock, PostgreSQL would end one of them.
    private func append(_ events: [(AuditEvent, String)], with writes: WriteBatch, on database: any Database) async throws -> AuditEntry? {
        // Processing a restricted person's data is refused here, for every path at once (Art. 18).
        try await RestrictionGuard.check(events, on: database)
        try await writes.run()
        guard !events.isEmpty else { return nil }
        // The head's two columns only (every audited write reads it: no model to decode). On
        // PostgreSQL, read under the advisory lock in the same round trip (M017's function).
        let sql = try database.requireSQL()
        let head = try await (sql.dialect.name == "postgresql"
            ? sql.raw("""
                SELECT "head_sequence", "head_hash" FROM \(ident: M017AuditHeadUnderLock.function)(\(bind: Self.advisoryLock))
                """)
            : sql.raw("""
                SELECT "sequence" AS "head_sequence", "hash" AS "head_hash" FROM \(ident: AuditRecord.schema) ORDER BY "sequence" DESC LIMIT 1
                """)).first()
        var sequence = try head?.decode(column: "head_sequence", as: Int64.self) ?? 0
        var previous = try head?.decode(column: "head_hash", as: String.self) ?? AuditEntry.genesisHash
        var entries: [AuditEntry] = []
        for (event, actor) in events {
            sequence += 1
            let entry = AuditEntry(
                sequence: sequence, occurredAt: clock.now, actor: actor, action: event.action,
                subject: event.subject, purpose: event.purpose, reason: event.reason, details: event.details,
                previousHash: previous, key: key
            )
            previous = entry.hash
            entries.append(entry)
        }
        try await entries.map { try AuditRecord($0, keyed: true) }.create(on: database)
        return entries.last
    }

    /// Walks the whole chain in order, a page at a time, checking every MAC, then the anchor.
    /// The pages are read in one transaction, on one snapshot (PostgreSQL: repeatable read;
    /// SQLite's transactions read one): a sweep pruning the oldest entries meanwhile does not
    /// make the pages read before and after it look like a chain with a gap.
    func verify(on database: any Database) async throws -> AuditChain.Verification {
        // The anchor first: each is written after its entry committed, so it never names an
        // entry the snapshot below cannot see (read after, an append meanwhile would look like
        // entries deleted).
        let stored = anchor.read()
        let (entries, unkeyed) = try await database.transaction { db -> ([AuditEntry], AuditChain.Verification?) in
            if let sql = db as? any SQLDatabase, sql.dialect.name == "postgresql" {
                try await sql.raw("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").run()
            }
            var entries: [AuditEntry] = []
            var after: Int64 = 0
            while true {
                let page = try await AuditRecord.query(on: db)
                    .filter(\.$sequence > after).sort(\.$sequence).limit(1000).all()
                guard let last = page.last else { break }
                if let unkeyed = page.first(where: { !$0.keyed }) {
                    return ([], .broken(sequence: unkeyed.sequence, reason: "the entry carries no keyed MAC: it was written without the chain key"))
                }
                entries += page.map(\.entry)
                after = last.sequence
            }
            return (entries, nil)
        }
        if let unkeyed { return unkeyed }
        let result = AuditChain.verify(entries, key: key)
        guard case let .intact(count, _) = result else { return result }
        // The head's sequence (the count, unless the oldest entries were pruned).
        let head = entries.last?.sequence ?? 0
        switch stored {
        case .none:
            // Every append writes the anchor: a chain without one lost it, or was put in place
            // of another (DOSSIER_AUDIT_ANCHOR must name the same file for every instance).
            return count == 0 ? result : .broken(sequence: head, reason: "the audit anchor \(anchor.url.path) is missing: the chain cannot be shown whole")
        case .unreadable:
            return .broken(sequence: head, reason: "the audit anchor file \(anchor.url.path) is unreadable")
        case let .anchor(stored):
            let hashes = Dictionary(entries.map { ($0.sequence, $0.hash) }, uniquingKeysWith: { first, _ in first })
            return stored.check(head: head, hashAt: { hashes[$0] }, key: key) ?? result
        }
    }

    struct UpgradeRefused: Error, CustomStringConvertible {
        let description: String
    }

    /// A chain written before the chain was keyed (plain SHA-256) is sealed under the key by an
    /// operator's explicit command (`dossier audit upgrade`), once: never when any entry is keyed
    /// already or an anchor exists (then an unkeyed entry is tampering, and `verify` says so),
    /// and only if the plain chain is intact. Nothing does it by itself at start.
    func upgradeUnkeyedEntries(on database: any Database) async throws -> Int {
        guard try await AuditRecord.query(on: database).filter(\.$keyed == false).count() > 0 else { return 0 }
        guard try await AuditRecord.query(on: database).filter(\.$keyed == true).count() == 0 else {
            throw UpgradeRefused(description: "the chain already has keyed entries: its unkeyed ones were not written by Dossier")
        }
        guard case .none = anchor.read() else {
            throw UpgradeRefused(description: "an audit anchor exists (\(anchor.url.path)): this chain was keyed before")
        }
        guard case .intact = AuditChain.verify(try await AuditRecord.query(on: database).sort(\.$sequence).all().map(\.entry)) else {
            throw UpgradeRefused(description: "the unkeyed chain is itself broken: it cannot be vouched for")
        }
        let count = try await appends.run {
            try await database.transaction { db -> Int in
                try await db.takeWriteLock()
                let records = try await AuditRecord.query(on: db).sort(\.$sequence).all()
                var previous = AuditEntry.genesisHash
                for record in records {
                    var entry = record.entry
                    entry.previousHash = previous
                    entry.hash = entry.computedMAC(key: self.key)
                    record.previousHash = entry.previousHash
                    record.hash = entry.hash
                    record.keyed = true
                    try await record.save(on: db)
                    previous = entry.hash
                }
                return records.count
            }
        }
        if let head = try await AuditRecord.query(on: database).sort(\.$sequence, .descending).first() {
            anchor.advance(to: AuditAnchor(sequence: head.sequence, head: head.hash, key: key))
        }
        return count
    }
}

/// The anchor file: the newest signed head, replaced atomically (temporary file, flush, rename).
/// Writes happen on a queue of their own, coalesced (only the newest pending head is written),
/// so that no request waits for the disk; `flush` waits for them (verification does).
final class AuditAnchorFile: @unchecked Sendable {
    let url: URL
    private let logger: Logger
    private let lock = NSLock()
    private let queue = DispatchQueue(label: "dossier.audit-anchor")
    private var written: Int64 = 0
    private var pending: AuditAnchor?

    init(url: URL, logger: Logger) {
        self.url = url
        self.logger = logger
    }

    enum Stored {
        case none
        case unreadable
        case anchor(AuditAnchor)
    }

    func read() -> Stored {
        flush()
        guard FileManager.default.fileExists(atPath: url.path) else { return .none }
        guard let text = try? String(contentsOf: url, encoding: .utf8), let anchor = AuditAnchor(line: text) else { return .unreadable }
        return .anchor(anchor)
    }

    /// Schedules `anchor` to be written unless a later one already was or is waiting.
    func advance(to anchor: AuditAnchor) {
        let schedule: Bool = lock.withLock {
            guard anchor.sequence > max(written, pending?.sequence ?? 0) else { return false }
            let wasIdle = pending == nil
            pending = anchor
            return wasIdle
        }
        if schedule { queue.async { self.writePending() } }
    }

    /// Waits until every scheduled anchor is on disk.
    func flush() {
        queue.sync {}
    }

    private func writePending() {
        guard let anchor = lock.withLock({ () -> AuditAnchor? in
            defer { pending = nil }
            return pending
        }) else { return }
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            try PrivateFile.writeAtomically(Data(anchor.line.utf8), to: url)
            lock.withLock { written = max(written, anchor.sequence) }
        } catch {
            // The entry is committed; the anchor lags until the next append writes it.
            logger.error("audit anchor not written to \(url.path): \(error)")
        }
    }
}
