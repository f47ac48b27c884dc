import Crypto
import DossierCore
import Fluent
import Foundation
import Vapor

/// `dossier verify`: the database, the blob store and the keys agree. Every file row has its
/// blob with the recorded SHA-256, every live subject's key opens with the master key, every
/// sealed record opens, no blob is left without its row, and the audit chain is whole.
public enum ConsistencyCheck {
    public struct Report: Sendable {
        public var problems: [String] = []
        public var facts: [String] = []
        public var orphanBlobs: [String] = []
    }

    /// What the blob store holds, as the check considers it.
    struct StoredBlob {
        /// The blob's key (a temporary file's name for an interrupted or running write).
        var key: String
        var modified: Date?
        /// A file store's file (nil for an object).
        var file: URL?
        /// Whether it is left alone while young: objects, and temporary files.
        var ageMatters: Bool
    }

    /// The blobs and what is in the store but is none (each a problem's text); nil for a store
    /// that cannot be listed.
    /// `asOf`: the store's time when listed (an object store's clock dates its objects; nil: this
    /// machine's).
    static func storedBlobs(in blobs: any BlobStore) async throws -> (blobs: [StoredBlob], foreign: [String], wholeBucket: Bool, asOf: Date?)? {
        if let store = blobs as? S3BlobStore {
            let listed = try await store.listing()
            return (listed.keys.sorted { $0.key < $1.key }.map { StoredBlob(key: $0.key, modified: $0.value, file: nil, ageMatters: true) },
                    listed.foreign.map { "\($0) is under the object store's prefix but is no blob (left alone: the prefix must be the blobs' alone)" },
                    store.location.prefix.isEmpty, listed.asOf)
        }
        guard let store = blobs as? FileBlobStore else { return nil }
        return try await store.pool.runIfActive {
            let everything = FileManager.default.enumerator(at: store.directory, includingPropertiesForKeys: [.contentModificationDateKey, .isSymbolicLinkKey])?.allObjects as? [URL] ?? []
            // Only what the store writes is considered (`FileBlobStore.url(for:)`: two folders
            // named by the key's first four hex digits, then the key, or a write's temporary
            // ".KEY.UUID.tmp" beside it); anything else was put there by hand and is reported,
            // never deleted.
            let root = store.directory.standardizedFileURL.resolvingSymlinksInPath().pathComponents
            var found: [StoredBlob] = [], foreign: [String] = []
            for url in everything where !url.hasDirectoryPath {
                let parts = Array(url.standardizedFileURL.resolvingSymlinksInPath().pathComponents.dropFirst(root.count))
                // The store writes no links: one named like a blob is someone else's.
                let link = (try? url.resourceValues(forKeys: [.isSymbolicLinkKey]))?.isSymbolicLink ?? false
                if !link, parts.count == 3, parts[2] == url.lastPathComponent, let written = Self.fileStoreName(parts[2], in: parts[0], parts[1]) {
                    let modified = written.temporary ? (try? url.resourceValues(forKeys: [.contentModificationDateKey]))?.contentModificationDate : nil
                    found.append(StoredBlob(key: url.lastPathComponent, modified: modified, file: url, ageMatters: written.temporary))
                } else {
                    foreign.append("\(url.path) is in the blob directory but is no blob (left alone: the directory must be the blobs' alone)")
                }
            }
            return (found.sorted { $0.key < $1.key }, foreign, false, nil)
        }
    }

    /// Whether `name`, in the folders `first`/`second`, is what a file store writes: a blob (its
    /// key) or a write's temporary file (`.KEY.UUID.tmp`, `PrivateFile`), in its key's folders.
    static func fileStoreName(_ name: String, in first: String, _ second: String) -> (key: String, temporary: Bool)? {
        let key: String, temporary: Bool
        if name.hasPrefix(".") {
            let pieces = name.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
            guard pieces.count == 3, pieces[2] == "tmp", UUID(uuidString: String(pieces[1])) != nil else { return nil }
            key = String(pieces[0])
            temporary = true
        } else {
            key = name
            temporary = false
        }
        guard S3BlobStore.isBlobKey(key), first == key.prefix(2), second == key.dropFirst(2).prefix(2) else { return nil }
        return (key, temporary)
    }

    /// `recentObjects`: how old an unnamed object must be to count as an orphan (an upload
    /// under way has its object before its row).
    public static func run(on app: Application, removeOrphans: Bool = false, recentObjects: TimeInterval? = nil) async throws -> Report {
        let recentObjects = recentObjects ?? BlobJournal.grace
        var report = Report()
        let db = app.db
        let services = app.dossier
        let blobs = services.blobs

        // Keys: each live one must open with this master key.
        var liveSubjects = Set<String>()
        var erasedSubjects = Set<String>()
        for key in try await SubjectKey.query(on: try services.vault.keys()).all() {
            guard let wrapped = key.wrappedKey, key.destroyedAt == nil else {
                erasedSubjects.insert(key.subject)
                continue
            }
            do {
                _ = try Vault.unwrap(wrapped, for: key.subject, with: services.vault.masterKey)
                liveSubjects.insert(key.subject)
            } catch {
                report.problems.append("the key of subject \(key.subject) does not open with this master key")
            }
        }
        report.facts.append("\(liveSubjects.count) subject keys, \(erasedSubjects.count) destroyed")

        // The store is listed before any row is read: a blob written after the listing is not
        // in it, and one written before it had its journal entry first (read below, or turned
        // into its row, which the check before reporting an orphan reads again).
        let stored = try await Self.storedBlobs(in: blobs)

        // Files: the blob is there and is the one written.
        var referenced = Set<String>()
        let files = try await DocumentFile.query(on: db).with(\.$document).all()
        for file in files {
            referenced.insert(file.blobKey)
            let subject = file.document.subject
            if erasedSubjects.contains(subject) {
                report.problems.append("document \(file.document.id?.uuidString.lowercased() ?? "?") belongs to an erased subject but is still recorded")
                continue
            }
            guard try await blobs.exists(file.blobKey) else {
                report.problems.append("blob \(file.blobKey) of document \(file.document.id?.uuidString.lowercased() ?? "?") is missing")
                continue
            }
            guard liveSubjects.contains(subject) else {
                report.problems.append("document files of subject \(subject) have no key")
                continue
            }
            if file.aeadVersion >= 3 {
                // Read through a chunk at a time: the bytes are the ones written, and every chunk opens.
                let key = try await services.vault.openingKey(for: subject)
                let context = services.vault.fullContext(file.contentContext, of: subject)
                switch try SealedDocument.check(try await blobs.reader(file.blobKey), key: key, context: context, digest: file.digest) {
                case .intact: break
                case .altered: report.problems.append("blob \(file.blobKey) does not match its recorded SHA-256")
                case .doesNotOpen: report.problems.append("blob \(file.blobKey) does not open with its subject's key")
                }
                continue
            }
            let sealed = try await blobs.get(file.blobKey)
            if Digest.sha256Hex(sealed) != file.digest {
                report.problems.append("blob \(file.blobKey) does not match its recorded SHA-256")
            } else {
                do {
                    _ = try await services.vault.open(sealed, for: subject, context: file.contentContext)
                } catch {
                    report.problems.append("blob \(file.blobKey) does not open with its subject's key")
                }
            }
        }
        report.facts.append("\(files.count) document files")

        // Sealed records.
        for profile in try await Profile.query(on: db).with(\.$account).all() {
            do {
                _ = try await services.vault.open(profile.sealed, for: profile.account.subject, context: "profile")
            } catch {
                report.problems.append("the profile of account \(profile.account.id?.uuidString.lowercased() ?? "?") does not open")
            }
        }
        for guarantor in try await Guarantor.query(on: db).all() {
            do {
                _ = try await services.vault.open(guarantor.sealed, for: guarantor.subject, context: "guarantor")
            } catch {
                report.problems.append("guarantor \(guarantor.id?.uuidString.lowercased() ?? "?") does not open")
            }
        }

        // Proofs of identity waiting to be checked: sealed with their request's key.
        for request in try await RightsRequest.query(on: db).filter(\.$proofKey != nil).all() {
            guard let key = request.proofKey else { continue }
            referenced.insert(key)
            if try await !blobs.exists(key) {
                report.problems.append("blob \(key) of request \(request.reference)'s proof of identity is missing")
            }
        }
        // Share links' cached renditions: sealed with the tenant's key, there as recorded.
        for rendition in try await ShareRendition.query(on: db).all() {
            referenced.insert(rendition.blobKey)
            if try await !blobs.exists(rendition.blobKey) {
                report.problems.append("blob \(rendition.blobKey) of a share link's rendition is missing")
            }
        }

        // Blobs nobody refers to. Those the journal names are writes or deletions under way
        // (or interrupted: recovery at the next start finishes them), not orphans.
        let journal = try await BlobJournalEntry.query(on: db).all()
        let now = app.dossier.clock.now
        let interrupted = journal.filter { $0.action == .delete || now.timeIntervalSince($0.createdAt) >= BlobJournal.grace }
        if journal.count > interrupted.count {
            report.facts.append("\(journal.count - interrupted.count) blob(s) being written (journaled)")
        }
        if removeOrphans, !interrupted.isEmpty {
            let removed = try await BlobJournal.recover(blobs: blobs, on: db, now: now)
            report.facts.append("finished \(interrupted.count) interrupted blob write(s) or deletion(s), \(removed) blob(s) removed")
        } else {
            for entry in interrupted {
                report.problems.append("blob \(entry.blobKey): a \(entry.action.rawValue) was interrupted (the server finishes it; or rerun with --remove-orphans)")
            }
        }
        let accounted = referenced.union(journal.map(\.blobKey))
        if let stored {
            for problem in stored.foreign { report.problems.append(problem) }
            // An object written in the last minutes may be an upload whose row is not yet
            // committed (another instance's too): left for a later run, as journaled writes are.
            // So is a file store's temporary file (a write under way).
            // Measured by the earlier of two clocks: the store's (its `Date`, counting whole
            // seconds), which dated the objects, and this machine's. A verify run on a machine
            // whose clock is ahead, or behind a proxy whose clock is, would otherwise take young
            // objects for old; the earlier clock only ever makes them look younger.
            let here = Date()
            let settled = min(stored.asOf.map { $0.addingTimeInterval(1) } ?? here, here).addingTimeInterval(-recentObjects)
            var candidates: [StoredBlob] = []
            var recent = 0, undated = 0
            for blob in stored.blobs where !accounted.contains(blob.key) {
                guard blob.ageMatters else { candidates.append(blob); continue }
                guard let modified = blob.modified else { undated += 1; continue }
                if modified < settled { candidates.append(blob) } else { recent += 1 }
            }
            if recent > 0 { report.facts.append("\(recent) blob(s) written in the last \(Int(recentObjects / 60)) minutes and not yet named (left for a later run)") }
            if undated > 0 { report.problems.append("\(undated) blob(s) not named by any row whose date the object store does not say (left alone)") }
            // Named since the rows were read (an upload committed meanwhile): no orphan. The
            // store was listed before the rows were read, so nothing written later is a candidate.
            var orphans: [StoredBlob] = []
            for blob in candidates {
                if try await BlobJournal.isNamed(blob.key, on: db) { continue }
                if try await BlobJournalEntry.query(on: db).filter(\.$blobKey == blob.key).count() > 0 { continue }
                orphans.append(blob)
            }
            if removeOrphans, stored.wholeBucket, !orphans.isEmpty {
                report.problems.append("DOSSIER_BLOBS_URL names a whole bucket (no prefix): orphans are reported, never deleted, since another application's objects may look like blobs; give the blobs a prefix of their own")
            } else if removeOrphans {
                var removed = orphans.count
                if let store = blobs as? S3BlobStore {
                    try await store.delete(orphans.map(\.key))
                } else {
                    // One gone meanwhile (the server finished a deletion) is fine; one that cannot
                    // go is reported and does not keep the others.
                    removed = 0
                    for blob in orphans {
                        guard let file = blob.file else { continue }
                        if unlink(file.path) == 0 { removed += 1; continue }
                        let failure = errno
                        if failure != ENOENT {
                            report.problems.append("blob \(blob.key) could not be deleted: \(String(cString: strerror(failure)))")
                        }
                    }
                }
                report.facts.append("removed \(removed) orphan blob(s)")
            } else {
                report.orphanBlobs = orphans.map(\.key)
                for name in report.orphanBlobs {
                    report.problems.append("blob \(name) is not referenced by any document (rerun with --remove-orphans to delete it)")
                }
            }
        }

        // The audit trail.
        switch try await app.dossier.audit.verify(on: db) {
        case let .intact(entries, _): report.facts.append("audit trail intact (\(entries) entries)")
        case let .broken(sequence, reason): report.problems.append("audit trail broken at entry \(sequence): \(reason)")
        }
        return report
    }
}
