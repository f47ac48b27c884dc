@testable import DossierServer
import DossierCore
import DossierTestSupport
import Fluent
import Foundation
import SQLKit
import Testing
import VaporTesting

@Suite("Key store: subject keys apart from the data, cached, true shredding for backups")
struct KeyStoreTests {
    /// An application on a file-backed data directory (SQLite data, `keys.sqlite` beside it).
    func onDisk(_ directory: URL, _ body: (Application) async throws -> Void) async throws {
        var configuration = DossierConfiguration(dataDirectory: directory)
        configuration.passwordCost = 4
        configuration.uniformAnswerTime = .zero
        try await withFileApp(configuration, body)
    }

    func bearer(_ token: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.bearerAuthorization = .init(token: token)
        return headers
    }

    @Test(arguments: TestDatabase.all)
    func subjectKeysAreInTheKeyStoreAndNotInTheData(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp(verified: true)
            let token = try await app.signIn()
            try await app.upload(token: token, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                #expect(res.status == .created)
            }
            let account = try #require(try await Account.query(on: app.db).first())
            #expect(try await SubjectKey.query(on: app.db(.keys)).filter(\.$subject == account.subject).count() == 1)
            #expect(try await KeyCheck.query(on: app.db(.keys)).count() == 1)
            // The data database has no table of keys at all.
            let sql = try #require(app.db as? any SQLDatabase)
            let tables: [String]
            if sql.dialect.name == "sqlite" {
                tables = try await sql.raw("SELECT name FROM sqlite_master WHERE type = 'table'").all().map { try $0.decode(column: "name", as: String.self) }
            } else {
                tables = try await sql.raw("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()").all()
                    .map { try $0.decode(column: "table_name", as: String.self) }
            }
            #expect(!tables.isEmpty)
            #expect(!tables.contains(SubjectKey.schema) && !tables.contains(KeyCheck.schema))
        }
    }

    /// The README's sentence: a document erased today cannot be decrypted from any data backup
    /// once the key store's backups older than the erasure are gone. A copy of the data database
    /// and the blobs taken before the erasure, restored beside the current key store, reads nothing.
    @Test func aDataBackupRestoredAfterAnErasureDecryptsNothing() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-backup-\(UUID().uuidString)")
        let backup = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-backup-copy-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: directory)
            try? FileManager.default.removeItem(at: backup)
        }
        var token = ""
        var documentID = UUID()
        var subject = ""
        let dataFile = directory.appendingPathComponent("dossier.sqlite")
        try await onDisk(directory) { app in
            #expect(app.dossier.configuration.sqlitePath == dataFile.path)
            try await app.signUp(verified: true)
            token = try await app.signIn()
            try await app.upload(token: token, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                #expect(res.status == .created)
            }
            let document = try #require(try await Document.query(on: app.db).first())
            documentID = try document.requireID()
            subject = document.subject
            try await app.testing().test(.GET, "api/v1/me/documents/\(documentID)/content?file=1", headers: bearer(token)) { res in
                #expect(res.status == .ok)
            }
            // The backup: the data database (checkpointed) and the blobs; the key store has its own.
            try await (app.db as! any SQLDatabase).raw("PRAGMA wal_checkpoint(TRUNCATE)").run()
            try FileManager.default.createDirectory(at: backup, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: dataFile, to: backup.appendingPathComponent("dossier.sqlite"))
            try FileManager.default.copyItem(at: app.dossier.configuration.blobDirectory, to: backup.appendingPathComponent("blobs"))
            // The erasure: the subject's key destroyed in the key store…
            let wrapped = try #require(try await SubjectKey.query(on: app.db(.keys)).filter(\.$subject == subject).first()?.wrappedKey)
            try await app.dossier.vault.shred(subject)
            // …and in every file of it (its write-ahead log included), so no copy taken from now on has it.
            for suffix in ["", "-wal", "-shm"] {
                let path = directory.appendingPathComponent("keys.sqlite").path + suffix
                guard let bytes = FileManager.default.contents(atPath: path) else { continue }
                #expect(bytes.range(of: wrapped) == nil, "keys.sqlite\(suffix)")
            }
        }
        // The data restored from the backup, beside the current key store.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dataFile.path + suffix) }
        try FileManager.default.removeItem(at: directory.appendingPathComponent("blobs"))
        try FileManager.default.copyItem(at: backup.appendingPathComponent("dossier.sqlite"), to: dataFile)
        try FileManager.default.copyItem(at: backup.appendingPathComponent("blobs"), to: directory.appendingPathComponent("blobs"))
        try await onDisk(directory) { app in
            // The restored data has the document, its blob and the session…
            let file = try #require(try await DocumentFile.query(on: app.db).filter(\.$document.$id == documentID).first())
            let sealed = try await app.dossier.blobs.get(file.blobKey)
            #expect(Digest.sha256Hex(sealed) == file.digest)
            // …but the key is gone: the route answers 410, and no key there opens it.
            try await app.testing().test(.GET, "api/v1/me/documents/\(documentID)/content?file=1", headers: bearer(token)) { res in
                #expect(res.status == .gone)
            }
            await #expect(throws: KeyVault.Shredded.self) {
                _ = try await app.dossier.vault.open(sealed, for: subject, context: file.contentContext)
            }
            let stored = try #require(try await SubjectKey.query(on: app.db(.keys)).filter(\.$subject == subject).first())
            #expect(stored.wrappedKey == nil && stored.destroyedAt != nil)
            for key in try await SubjectKey.query(on: app.db(.keys)).all() {
                guard let wrapped = key.wrappedKey, let unwrapped = try? Vault.unwrap(wrapped, for: key.subject, with: app.dossier.vault.masterKey) else { continue }
                #expect((try? Vault.open(sealed, with: unwrapped, context: "\(subject):\(file.contentContext)")) == nil)
            }
        }
    }

    @Test func aKeyStoreThatNeverSawTheDataIsRefused() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-lost-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await onDisk(directory) { app in
            try await app.signUp(verified: true)
            let token = try await app.signIn()
            try await app.upload(token: token, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                #expect(res.status == .created)
            }
        }
        // The key store lost (or DOSSIER_KEYS_URL pointing at a new one): the server refuses to start.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: directory.appendingPathComponent("keys.sqlite").path + suffix) }
        await #expect(throws: ConfigurationError.self) { try await onDisk(directory) { _ in } }
    }

    @Test func keysAreCachedAMinuteAtMostAndForgottenWhenShredded() async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: .sqlite, clock: clock) { app in
            let vault = app.dossier.vault
            let sealed = try await vault.seal(Data("payslip".utf8), for: "subject-a", context: "test")
            #expect(vault.cache.key(for: "subject-a", now: clock.now) != nil)
            // Read from memory, not the key store: the row can go and the read still opens…
            let row = try #require(try await SubjectKey.query(on: app.db(.keys)).filter(\.$subject == "subject-a").first())
            try await row.delete(on: app.db(.keys))
            #expect(try await vault.open(sealed, for: "subject-a", context: "test") == Data("payslip".utf8))
            // …for a minute at most (another instance may have shredded it).
            clock.advance(by: 61)
            await #expect(throws: KeyVault.Shredded.self) { _ = try await vault.open(sealed, for: "subject-a", context: "test") }
            // Shredding here forgets it at once.
            let other = try await vault.seal(Data("avis".utf8), for: "subject-b", context: "test")
            try await vault.shred("subject-b")
            #expect(vault.cache.key(for: "subject-b", now: clock.now) == nil)
            await #expect(throws: KeyVault.Shredded.self) { _ = try await vault.open(other, for: "subject-b", context: "test") }
        }
    }

    @Test func aRotationKilledHalfwayResumesAndARestartReadsEverything() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-rotate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var token = ""
        var documents: [UUID] = []
        try await onDisk(directory) { app in
            // Three subjects' keys (two tenants and a guarantor) and the audit chain's.
            for email in ["jane.doe@example.org", "john.roe@example.org"] {
                try await app.signUp(email: email, verified: true)
                token = try await app.signIn(email: email)
                try await app.upload(token: token, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                    #expect(res.status == .created)
                }
            }
            documents = try await Document.query(on: app.db).all().map { try $0.requireID() }
        }
        let keyFile = directory.appendingPathComponent("master.key")
        let oldKey = try String(contentsOf: keyFile, encoding: .utf8)
        // Killed after one key.
        try await rotating(directory) { app in
            await #expect(throws: KeyRotation.Interrupted.self) { _ = try await KeyRotation.rotate(app, newKeyFile: nil, stopAfter: 1) }
        }
        #expect(FileManager.default.fileExists(atPath: keyFile.path + ".next"))
        #expect(try String(contentsOf: keyFile, encoding: .utf8) == oldKey)
        // The server does not start halfway through, and no key is made meanwhile (it would be
        // wrapped under the old key after the rotation read the keys).
        await #expect(throws: ConfigurationError.self) { try await onDisk(directory) { _ in } }
        try await rotating(directory) { app in
            await #expect(throws: Abort.self) { _ = try await app.dossier.vault.sealingKey(for: "a-new-subject") }
            // Sign-up and reset answer alike for a known and a new address (a new one's message
            // could not be sealed): the refusal does not tell who has an account.
            for email in ["jane.doe@example.org", "someone.new@example.org"] {
                try await app.testing().test(.POST, "api/v1/accounts", beforeRequest: { req in
                    try req.content.encode(["email": email, "password": "correct horse battery staple", "firstName": "Sam", "lastName": "Roe"])
                }) { res in
                    #expect(res.status == .serviceUnavailable, "\(email)")
                }
                try await app.testing().test(.POST, "api/v1/password/forgot", beforeRequest: { req in
                    try req.content.encode(["email": email])
                }) { res in
                    #expect(res.status == .serviceUnavailable, "\(email)")
                }
            }
        }
        // Run again: it carries on.
        try await rotating(directory) { app in
            let report = try await KeyRotation.rotate(app)
            #expect(report.alreadyRewrapped == 1)
            #expect(report.rewrapped >= 2)
            #expect(report.replacedKeyFile == keyFile)
        }
        #expect(try String(contentsOf: keyFile, encoding: .utf8) != oldKey)
        #expect(!FileManager.default.fileExists(atPath: keyFile.path + ".next"))
        // The old key is kept aside for the key-store backups made under it.
        let retired = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("master.key.retired-") }
        #expect(retired.count == 1)
        #expect(try String(contentsOf: directory.appendingPathComponent(retired[0]), encoding: .utf8) == oldKey)
        // A restart reads every document, and the audit chain is whole.
        try await onDisk(directory) { app in
            for id in documents {
                let document = try #require(try await Document.find(id, on: app.db))
                _ = try await RentalFileService(database: app.db, services: app.dossier, logger: app.logger).content(of: document, position: 1)
            }
            guard case .intact = try await app.dossier.audit.verify(on: app.db) else {
                Issue.record("the audit chain does not verify after the rotation")
                return
            }
        }
        // The old key opens nothing any more.
        var stale = DossierConfiguration(dataDirectory: directory)
        stale.masterKey = oldKey.trimmingCharacters(in: .whitespacesAndNewlines)
        let app = try await Application.make(.testing)
        try await DossierApp.configure(app, stale)
        await #expect(throws: ConfigurationError.self) { try await DossierApp.migrate(app) }
        try await app.asyncShutdown()
    }

    @Test func aRotationStoppedBeforeItsKeyFileWasReplacedSaysSoAndFinishes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-rotate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await onDisk(directory) { app in
            try await app.signUp(verified: true)
        }
        let keyFile = directory.appendingPathComponent("master.key")
        let next = directory.appendingPathComponent("master.key.next")
        // Everything done but the rename (as a kill just before it would leave it).
        try await rotating(directory) { app in
            let report = try await KeyRotation.rotate(app, newKeyFile: next)
            #expect(report.newKeyFile == next)
        }
        do {
            try await onDisk(directory) { _ in }
            Issue.record("the server started with the old key after the checks were swapped")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("run `dossier keys rotate` to finish it"))
            #expect(error.description.contains(next.path))
            #expect(!error.description.contains("Restore the original"))
        }
        try await rotating(directory) { app in
            let report = try await KeyRotation.rotate(app)
            #expect(report.replacedKeyFile == keyFile)
        }
        try await onDisk(directory) { _ in }
    }

    /// What `dossier keys rotate` opens: storage migrated, no key check (it does its own).
    func rotating(_ directory: URL, _ body: (Application) async throws -> Void) async throws {
        try await withFileApp(DossierConfiguration(dataDirectory: directory), storageOnly: true, body)
    }

}

@Suite("The inspection process: the file's fault or the server's")
struct InspectionSandboxTests {
    func script(_ body: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("inspector-\(UUID().uuidString).sh")
        try Data("#!/bin/sh\n\(body)\n".utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: url.path)
        return url
    }

    @Test func aKilledInspectionRefusesTheFileAndABrokenInspectorIsTheServersFault() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("scratch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let pdf = try upload("payslip.pdf")
        // Ended by a signal (a limit, a stack overflow): the file asks too much.
        let crashing = try script("kill -SEGV $$")
        defer { try? FileManager.default.removeItem(at: crashing) }
        let crashed = try InspectionSandbox(executable: crashing, scratch: scratch).inspect(pdf, fileName: "a.pdf", declaredType: nil)
        guard case .failure(.overLimits) = crashed else {
            Issue.record("a killed inspection gave \(crashed)")
            return
        }
        // Past the deadline: killed, and the same.
        let slow = try script("sleep 30")
        defer { try? FileManager.default.removeItem(at: slow) }
        var sandbox = InspectionSandbox(executable: slow, scratch: scratch)
        sandbox.deadline = 0.5
        guard case .failure(.overLimits) = try sandbox.inspect(pdf, fileName: "a.pdf", declaredType: nil) else {
            Issue.record("a slow inspection was not stopped")
            return
        }
        // Exiting without a verdict, or lying about a picture: the server's fault, not the file's.
        let failing = try script("echo 'libvips.so.42: cannot open shared object file' >&2; exit 127")
        defer { try? FileManager.default.removeItem(at: failing) }
        #expect(throws: InspectionSandbox.Broken.self) {
            _ = try InspectionSandbox(executable: failing, scratch: scratch).inspect(pdf, fileName: "a.pdf", declaredType: nil)
        }
        let lying = try script(#"echo '{"accepted":{"kind":"jpeg","removedMetadata":[],"rewritten":false}}'"#)
        defer { try? FileManager.default.removeItem(at: lying) }
        #expect(throws: InspectionSandbox.Broken.self) {
            _ = try InspectionSandbox(executable: lying, scratch: scratch).inspect(try upload("photo-with-gps.jpg"), fileName: "a.jpg", declaredType: nil)
        }
        // Nothing left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }

    @Test func namesReachTheInspectorWithoutNULAndBounded() {
        #expect(InspectionSandbox.argument("a\u{0}b.pdf") == "ab.pdf")
        #expect(InspectionSandbox.argument(String(repeating: "x", count: 1000) + ".pdf").utf8.count == 255)
        #expect(InspectionSandbox.argument(String(repeating: "x", count: 1000) + ".pdf").hasSuffix(".pdf"))
        #expect(InspectionSandbox.argument(nil) == "")
    }
}

extension InspectionSandbox {
    /// `bytes` written where an upload's file would be, then inspected; nothing is left behind.
    func inspect(_ bytes: Data, fileName: String?, declaredType: String?) throws -> Result<Inspected, FileInspector.Refusal> {
        let input = scratch.appendingPathComponent("upload-\(UUID().uuidString.lowercased()).part")
        try bytes.write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let result = try inspect(fileAt: input, fileName: fileName, declaredType: declaredType)
        if case let .success(inspected) = result, inspected.isRewritten { try? FileManager.default.removeItem(at: inspected.file) }
        return result
    }
}
