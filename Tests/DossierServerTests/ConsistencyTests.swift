@testable import DossierServer
import DossierCore
import DossierTestSupport
import Fluent
import Foundation
import Testing
import VaporTesting

@Suite("dossier verify: database, blobs and keys agree")
struct ConsistencyTests {
    @Test(arguments: TestDatabase.all)
    func findsMissingAlteredAndOrphanBlobs(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp(verified: true)
            let token = try await app.signIn()
            for _ in 0..<2 {
                try await app.upload(token: token, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                    #expect(res.status == .created)
                }
            }
            var report = try await ConsistencyCheck.run(on: app)
            #expect(report.problems == [])
            #expect(report.facts.contains("2 document files"))

            let store = FileBlobStore(directory: app.dossier.configuration.blobDirectory)
            let files = try await DocumentFile.query(on: app.db).sort(\.$createdAt).all()
            // One blob gone, one altered, and a stray one left by an interrupted upload.
            try FileManager.default.removeItem(at: store.url(for: files[0].blobKey))
            var altered = try Data(contentsOf: store.url(for: files[1].blobKey))
            altered[0] ^= 0xFF
            try altered.write(to: store.url(for: files[1].blobKey))
            let stray = UUID().uuidString.lowercased()
            try await store.put(Data("leftover".utf8), key: stray)
            // A file the store did not write (an operator's, a misconfiguration's) is reported, and never deleted.
            let foreign = store.directory.appendingPathComponent("notes.txt")
            try Data("an operator's file".utf8).write(to: foreign)
            // So is one in the store's folders that is not named as a blob (a backup, rsync's
            // partial file), and a blob's name in folders that are not its own.
            let strayFolder = try store.url(for: stray).deletingLastPathComponent()
            let backup = strayFolder.appendingPathComponent("notes.bak")
            let partial = strayFolder.appendingPathComponent(".\(stray).XyZ12")
            let misplaced = store.directory.appendingPathComponent("00/00/\(UUID().uuidString.lowercased())")
            try FileManager.default.createDirectory(at: misplaced.deletingLastPathComponent(), withIntermediateDirectories: true)
            for made in [backup, partial, misplaced] { try Data("not the store's".utf8).write(to: made) }
            // The store writes no links: one to a blob, or named as one, is someone else's.
            let link = strayFolder.appendingPathComponent("notes.lnk")
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: try store.url(for: stray))
            // A write's temporary file: left while young, an orphan once old.
            let young = strayFolder.appendingPathComponent(".\(stray).\(UUID().uuidString).tmp")
            let old = strayFolder.appendingPathComponent(".\(stray).\(UUID().uuidString).tmp")
            for made in [young, old] { try Data("half a blob".utf8).write(to: made) }
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: old.path)

            report = try await ConsistencyCheck.run(on: app)
            for made in [foreign, backup, partial, misplaced, link] {
                #expect(report.problems.contains { $0.hasPrefix(made.path) && $0.contains("is no blob (left alone") }, "\(made.lastPathComponent)")
            }
            #expect(report.facts.contains { $0.hasPrefix("1 blob(s) written in the last") })
            #expect(report.problems.contains("blob \(files[0].blobKey) of document \(files[0].$document.id.uuidString.lowercased()) is missing"))
            #expect(report.problems.contains("blob \(files[1].blobKey) does not match its recorded SHA-256"))
            #expect(Set(report.orphanBlobs) == [stray, old.lastPathComponent])

            report = try await ConsistencyCheck.run(on: app, removeOrphans: true)
            #expect(report.orphanBlobs.isEmpty)
            #expect(!(try await store.exists(stray)))
            #expect(!FileManager.default.fileExists(atPath: old.path))
            for kept in [foreign, backup, partial, misplaced, young] {
                #expect(FileManager.default.fileExists(atPath: kept.path), "\(kept.lastPathComponent)")
            }
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link.path)) != nil, "the link is left")
            #expect(report.problems.count == 7, "\(report.problems)")
            #expect(report.facts.contains("removed 2 orphan blob(s)"))
        }
    }

    @Test(arguments: TestDatabase.all)
    func aCrashMidUploadOrMidDeletionLeavesNoBlobUnaccountedFor(database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            try await app.signUp(verified: true)
            let token = try await app.signIn()
            try await app.upload(token: token, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                #expect(res.status == .created)
            }
            // The upload's journal entries went with its commit.
            #expect(try await BlobJournalEntry.query(on: app.db).count() == 0)
            let store = app.dossier.blobs
            // Killed after writing a blob, before recording its document: journaled, so in flight.
            let interrupted = UUID().uuidString.lowercased()
            try await BlobJournal.record([interrupted], .write, at: clock.now, on: app.db)
            try await store.put(Data("sealed bytes".utf8), key: interrupted)
            // Killed after removing a document's rows, before deleting its blob.
            let file = try #require(try await DocumentFile.query(on: app.db).first())
            let document = try #require(try await Document.find(file.$document.id, on: app.db))
            try await app.db.transaction { db in
                try await document.delete(on: db)
                try await BlobJournal.record([file.blobKey], .delete, at: clock.now, on: db)
            }
            var report = try await ConsistencyCheck.run(on: app)
            #expect(report.problems == ["blob \(file.blobKey): a delete was interrupted (the server finishes it; or rerun with --remove-orphans)"])
            #expect(report.facts.contains("1 blob(s) being written (journaled)"))
            #expect(report.orphanBlobs == [])
            // The next start finishes the deletion at once, and leaves the young write alone.
            #expect(try await BlobJournal.recover(blobs: store, on: app.db, now: clock.now) == 1)
            #expect(!(try await store.exists(file.blobKey)))
            #expect(try await store.exists(interrupted))
            // Once the grace period is over, the write that never got its document is undone.
            clock.advance(by: BlobJournal.grace)
            #expect(try await BlobJournal.recover(blobs: store, on: app.db, now: clock.now) == 1)
            #expect(!(try await store.exists(interrupted)))
            #expect(try await BlobJournalEntry.query(on: app.db).count() == 0)
            report = try await ConsistencyCheck.run(on: app)
            #expect(report.problems == [])
            #expect(report.orphanBlobs == [])
        }
    }

    @Test func recordsOfAnErasedSubjectAreReported() async throws {
        try await withDossier(on: .sqlite) { app in
            let accountID = try await app.signUp(verified: true)
            let token = try await app.signIn()
            try await app.upload(token: token, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { _ in }
            let account = try #require(try await Account.find(accountID, on: app.db))
            try await app.dossier.vault.shred(account.subject)
            let report = try await ConsistencyCheck.run(on: app)
            #expect(report.problems.count == 1)
            #expect(report.problems.first?.contains("belongs to an erased subject") == true)
        }
    }
}
