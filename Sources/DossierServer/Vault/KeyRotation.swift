import Crypto
import DossierCore
import Fluent
import Foundation
import Vapor
#if canImport(Glibc)
import Glibc
#endif

/// `dossier keys rotate`: every key in the key store (subjects' and the service's) re-wrapped
/// under a new master key, resumable after a crash at any point.
///
/// 1. The new key is made and written first (`master.key.next` beside the key file, or the
///    `--new-key-file` given), and its check recorded in the key store as `master-key-next`:
///    from then on the server refuses to start until the rotation is finished.
/// 2. Each key is re-wrapped and saved on its own; a key that already opens with the new key is
///    skipped, so a rerun carries on where a killed one stopped.
/// 3. The checks are swapped in one transaction (`master-key` now seals under the new key).
/// 4. The new key file replaces the old one (a rename); with `DOSSIER_MASTER_KEY`, the operator
///    sets it to the new key. The old key is then useless for this key store.
public enum KeyRotation {
    static let nextPurpose = "master-key-next"

    public struct Report: Sendable {
        public var rewrapped = 0
        public var alreadyRewrapped = 0
        /// Where the new key is, when the operator has to put it in place.
        public var newKeyFile: URL?
        public var replacedKeyFile: URL?
        /// The old key, kept for the key-store backups made under it.
        public var retiredKeyFile: URL?
    }

    /// Stops a rotation after this many re-wrapped keys (a test's stand-in for `kill -9`).
    struct Interrupted: Error {}

    public static func rotate(_ app: Application, newKeyFile: URL? = nil) async throws -> Report {
        try await rotate(app, newKeyFile: newKeyFile, stopAfter: nil)
    }

    static func rotate(_ app: Application, newKeyFile: URL?, stopAfter: Int?) async throws -> Report {
        let services = app.dossier
        let keys = app.db(.keys)
        let current = services.vault.masterKey
        var report = Report()
        let keyFile: URL? = if case let .file(url, isNew: false) = services.keySource { url } else { nil }
        if case .file(_, isNew: true) = services.keySource {
            throw ConfigurationError("there is no master key to rotate yet: start the server once first")
        }
        guard let nextFile = newKeyFile ?? keyFile.map({ $0.appendingPathExtension("next") }) else {
            throw ConfigurationError("the master key comes from DOSSIER_MASTER_KEY: give --new-key-file PATH, where the new key is written")
        }

        var pending = try await KeyCheck.query(on: keys).filter(\.$purpose == nextPurpose).first()
        let settled = try await KeyCheck.query(on: keys).filter(\.$purpose == KeyVault.keyCheckPurpose).first()
        let next: SymmetricKey
        if FileManager.default.fileExists(atPath: nextFile.path) {
            // A rotation under way (or finished but for the key file): its new key is there.
            next = try KeyVault.readKeyFile(nextFile, what: "the new key file")
            let opensPending = pending.map { KeyVault.keyCheck($0, opensWith: next) } ?? false
            let opensSettled = settled.map { KeyVault.keyCheck($0, opensWith: next) } ?? false
            if !opensPending, !opensSettled {
                // Killed between writing the new key and recording its check: nothing was
                // re-wrapped yet, so the rotation starts here with that key.
                guard pending == nil, let settled, KeyVault.keyCheck(settled, opensWith: current) else {
                    throw ConfigurationError("\(nextFile.path) exists but is not the key of a rotation under way: remove it, then rotate again")
                }
                let check = KeyCheck(purpose: nextPurpose, sealed: try KeyVault.sealKeyCheck(with: next), now: services.clock.now)
                try await check.create(on: keys)
                pending = check
            }
        } else {
            guard pending == nil else {
                throw ConfigurationError("a rotation is under way but its new key file \(nextFile.path) is missing: give it with --new-key-file")
            }
            guard let settled, KeyVault.keyCheck(settled, opensWith: current) else {
                throw ConfigurationError("the configured master key does not open this key store: nothing to rotate with it")
            }
            next = Vault.newDataKey()
            try PrivateFile.createExclusively(KeyVault.keyFileContents(next), at: nextFile)
            let check = KeyCheck(purpose: nextPurpose, sealed: try KeyVault.sealKeyCheck(with: next), now: services.clock.now)
            try await check.create(on: keys)
            pending = check
        }

        // The audit chain's key is in the key store before anything moves (an install that never
        // ran since the key store came would otherwise derive it from the new key, and break
        // its chain).
        if let settled, KeyVault.keyCheck(settled, opensWith: current) {
            _ = try await services.vault.auditChainKey()
        }

        // Re-wrap, one key at a time.
        try await rewrap(keys, from: current, to: next, report: &report, stopAfter: stopAfter)
        // The checks swapped at once: the key store now answers to the new key only.
        if let pending {
            let sealed = pending.sealed
            try await keys.transaction { db in
                try await KeyCheck.query(on: db).filter(\.$purpose == KeyVault.keyCheckPurpose).delete()
                try await KeyCheck.query(on: db).filter(\.$purpose == nextPurpose).delete()
                try await KeyCheck(purpose: KeyVault.keyCheckPurpose, sealed: sealed, now: services.clock.now).create(on: db)
            }
        }
        // Anything wrapped under the old key since the pass above read the keys (a server that
        // was still running): re-wrapped now, the checks already naming the new key.
        var late = Report()
        try await rewrap(keys, from: current, to: next, report: &late, stopAfter: nil)
        report.rewrapped += late.rewrapped
        services.vault.cache.removeAll()

        if let keyFile, newKeyFile == nil {
            // The old key is kept beside the new one, for the key-store backups made under it
            // (30 days at most): delete it once they are gone.
            let retired = keyFile.deletingLastPathComponent()
                .appendingPathComponent("\(keyFile.lastPathComponent).retired-\(Int(services.clock.now.timeIntervalSince1970))")
            if FileManager.default.fileExists(atPath: keyFile.path), !FileManager.default.fileExists(atPath: retired.path) {
                try PrivateFile.createExclusively(KeyVault.keyFileContents(current), at: retired)
                report.retiredKeyFile = retired
            }
            guard rename(nextFile.path, keyFile.path) == 0 else {
                throw ConfigurationError("cannot put the new key in place of \(keyFile.path) (errno \(errno)): rename \(nextFile.path) to it")
            }
            PrivateFile.flushDirectory(keyFile.deletingLastPathComponent())
            report.replacedKeyFile = keyFile
        } else {
            report.newKeyFile = nextFile
        }
        return report
    }

    /// Each key that still opens with `old` re-wrapped under `new`, by a conditional update: a
    /// key destroyed meanwhile (an erasure on a running server) is never written back.
    private static func rewrap(_ keys: any Database, from old: SymmetricKey, to new: SymmetricKey,
                               report: inout Report, stopAfter: Int?) async throws {
        for row in try await SubjectKey.query(on: keys).filter(\.$wrappedKey != nil).sort(\.$subject).all() {
            guard let wrapped = row.wrappedKey, let id = row.id else { continue }
            if (try? Vault.unwrap(wrapped, for: row.subject, with: new)) != nil {
                report.alreadyRewrapped += 1
                continue
            }
            if let stopAfter, report.rewrapped >= stopAfter { throw Interrupted() }
            let key: SymmetricKey
            do {
                key = try Vault.unwrap(wrapped, for: row.subject, with: old)
            } catch {
                throw ConfigurationError("the key of \(row.subject) opens with neither the old nor the new master key: the key store is damaged")
            }
            try await SubjectKey.query(on: keys).filter(\.$id == id).filter(\.$wrappedKey == wrapped).filter(\.$destroyedAt == nil)
                .set(\.$wrappedKey, to: try Vault.wrap(key, for: row.subject, with: new)).update()
            report.rewrapped += 1
        }
    }

}
