import Crypto
import DossierCore
import Fluent
import Foundation
import SQLKit
import Vapor

/// The rights benchmark (`dossier bench rights`, run by `scripts/bench --rights` on PostgreSQL):
/// seeds tenants of the data shape issue 13 names (a profile, 5 documents, 20 connection-log
/// entries, 2 share links, 2 consents each) straight through the models, sealed with their
/// own keys as the server seals them, then times in this process, as the routes do it:
/// - the access view of one person (`AccessService.report`), beside the database reading the
///   same rows with plain SQL (the ceiling);
/// - the erasure of one person (`ErasureService.erase`, keys destroyed, blobs deleted,
///   recipients told), beside the database deleting the same rows with plain SQL;
/// - the export of a file of 20 documents, 50 MB (`ExportService.archive`), beside reading and
///   decrypting the same 20 blobs alone.
/// Never against a database that holds real data: it refuses one that was ever set up. The
/// ceilings read the same person's rows right after the service (a warm cache: a conservative
/// ceiling); the seeded blobs are small (1 KB) and no link has been viewed.
public enum RightsBench {
    public struct Timing: Codable, Sendable {
        public var median: Double
        public var p99: Double
        public var samples: Int
    }

    public struct Result: Codable, Sendable {
        public var tenants: Int
        public var seedSeconds: Double
        public var access: Timing
        public var accessCeiling: Timing
        public var erasure: Timing
        public var erasureCeiling: Timing
        public var exportSeconds: Timing
        public var exportCeiling: Timing
        public var exportBytes: Int
    }

    struct Failure: CommandFailure, CustomStringConvertible {
        var description: String
        var message: String { description }
    }

    /// Refuses a database that was ever migrated: the benchmark runs on a new, empty one only
    /// (called before migrating, so that it changes nothing of another).
    public static func requireNewDatabase(_ app: Application) async throws {
        guard let sql = app.db as? any SQLDatabase else { return }
        let migrated: Bool
        do {
            _ = try await sql.raw("SELECT 1 FROM _fluent_migrations LIMIT 1").all()
            migrated = true
        } catch {
            migrated = false
        }
        if migrated {
            throw Failure(description: "this database was already set up: the benchmark fills a new, empty one only (scripts/bench makes one)")
        }
    }

    public static func run(_ app: Application, tenants: Int, samples: Int, log: @Sendable (String) -> Void) async throws -> Result {
        let services = app.dossier
        let database = app.db
        guard try await Account.query(on: database).count() == 0 else {
            throw Failure(description: "the database already holds accounts: the benchmark seeds an empty one only")
        }
        let seedStart = ContinuousClock.now
        var ids: [UUID] = []
        let chunk = 250
        var made = 0
        while made < tenants {
            let count = min(chunk, tenants - made)
            ids += try await seed(count, from: made, services: services, on: database)
            made += count
            if made % 2000 == 0 || made == tenants { log("seeded \(made) tenants") }
        }
        // The planner's statistics, as autovacuum would have them on a database that grew over
        // time (right after a bulk load it has none, and may scan where an index serves).
        if let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" {
            try await sql.raw("ANALYZE").run()
        }
        let seedSeconds = seconds(ContinuousClock.now - seedStart)
        let logger = app.logger
        var picks = ids.shuffled()
        // Three groups apart: people read, people erased, people whose rows plain SQL deletes.
        let measured = min(samples, ids.count / 3)

        // The access view.
        var access: [Double] = []
        var accessCeiling: [Double] = []
        for id in picks.prefix(measured) {
            guard let account = try await Account.find(id, on: database) else { continue }
            let service = AccessService(database: database, services: services, logger: logger)
            access.append(try await time { _ = try await service.report(for: account, language: .fr) })
            accessCeiling.append(try await time { try await plainRead(id, on: database) })
        }
        log("access: \(measured) people")
        picks.removeFirst(measured)

        // Erasure, of other people; the ceiling deletes yet others' rows.
        var erasure: [Double] = []
        var erasureCeiling: [Double] = []
        let victims = Array(picks.prefix(measured))
        let others = Array(picks.dropFirst(measured).prefix(measured))
        for (id, other) in zip(victims, others) {
            guard let account = try await Account.find(id, on: database) else { continue }
            let service = ErasureService(database: database, services: services, logger: logger)
            erasure.append(try await time { _ = try await service.erase(account, language: .fr) })
            erasureCeiling.append(try await time { try await plainDelete(other, on: database) })
        }
        log("erasure: \(erasure.count) people")

        // The export of a file of 20 documents of 2.5 MB.
        let (exporter, blobs) = try await seedLargeFile(services: services, on: database)
        var export: [Double] = []
        var exportCeiling: [Double] = []
        var bytes = 0
        for _ in 0..<3 {
            let service = ExportService(database: database, services: services, logger: logger)
            export.append(try await time { bytes = try await service.archive(for: exporter, language: .fr).count })
            exportCeiling.append(try await time { try await decryptAll(blobs, of: exporter.subject, database: database, services: services, logger: logger) })
        }
        log("export: \(bytes) bytes")
        return Result(tenants: tenants, seedSeconds: seedSeconds, access: timing(access), accessCeiling: timing(accessCeiling),
                      erasure: timing(erasure), erasureCeiling: timing(erasureCeiling), exportSeconds: timing(export),
                      exportCeiling: timing(exportCeiling), exportBytes: bytes)
    }

    // MARK: Seeding

    /// A password hash every seeded account shares (hashing 10,000 would take the run's time).
    static let sharedHash = "$2b$12$C6UzMDM.H6dfI/f/IKxGhuAqnTgHq0uAfU7HdTSDJGrPGZRkHUUL6"

    /// What each seeded tenant has besides a profile.
    struct Shape: Sendable {
        var documents = 5
        var connections = 20
        var shares = 2
        var consents = 2
    }

    /// Seeds `count` tenants numbered from `first`, everything of theirs made at `now` (the
    /// clock's by default).
    static func seed(_ count: Int, from first: Int, shape: Shape = Shape(), at now: Date? = nil, services: DossierServices,
                     on database: any Database) async throws -> [UUID] {
        let now = now ?? services.clock.now
        let vault = services.vault
        let register = services.register.register
        let types = services.catalogue.categories.flatMap { category in category.types.filter { $0.for.contains(.tenant) }.map { (category.id, $0.id) } }
        let plain = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).pdf")
        try Data("%PDF-1.4\n% Dossier benchmark page\n".utf8 + Data(repeating: 0x20, count: 1024)).write(to: plain)
        defer { try? FileManager.default.removeItem(at: plain) }

        var accounts: [Account] = []
        var profiles: [Profile] = []
        var documents: [Document] = []
        var files: [DocumentFile] = []
        var events: [ConnectionEvent] = []
        var shares: [Share] = []
        var consents: [ConsentRecord] = []
        for index in first..<(first + count) {
            guard let email = EmailAddress("bench-\(index)@example.org") else { throw Failure(description: "bad address") }
            let account = Account(email: email, passwordHash: sharedHash, firstName: "Bench", lastName: "Tenant \(index)", language: .fr, role: .tenant, now: now)
            let accountID = UUID()
            account.id = accountID
            account.emailVerifiedAt = now
            accounts.append(account)
            let subject = account.subject
            var profile = RentalProfile()
            profile.monthlyIncome = 2000 + index % 3000
            profile.city = "Lyon"
            profiles.append(Profile(accountID: accountID, sealed: try await vault.sealJSON(profile, for: subject, context: "profile"), now: now))
            let key = try await vault.sealingKey(for: subject)
            for position in 0..<shape.documents {
                let (category, type) = types[(index + position) % types.count]
                let document = Document(accountID: accountID, guarantorID: nil, subject: subject, type: type, category: category, source: .upload,
                                        receivedAt: nil, filedBy: nil, now: now)
                let documentID = UUID()
                document.id = documentID
                documents.append(document)
                let blobKey = UUID().uuidString.lowercased()
                let sealedFile = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(blobKey).blob")
                let written = try SealedDocument.seal(plain, to: sealedFile, key: key,
                                                      context: vault.fullContext(DocumentFile.contentContext(document: documentID, position: 1, blobKey: blobKey), of: subject))
                try await services.blobs.put(fileAt: sealedFile, key: blobKey)
                let name = try await vault.seal(Data("\(type).pdf".utf8), for: subject,
                                                context: DocumentFile.nameContext(document: documentID, position: 1, blobKey: blobKey))
                files.append(DocumentFile(documentID: documentID, position: 1, blobKey: blobKey, kind: .pdf, size: written.size, digest: written.digest,
                                          sealedName: name, now: now))
            }
            for minute in 0..<shape.connections {
                events.append(ConnectionEvent(accountID: accountID, kind: .signIn, outcome: .success, ipAddress: "192.0.2.\(minute + 1)",
                                              userAgent: "Mozilla/5.0 (X11; Linux x86_64) Bench", at: now - Double(minute) * 3600))
            }
            for number in 0..<shape.shares {
                let shareID = UUID()
                let details = ShareDetails(name: "Agence \(number)", email: "agence-\(number)@example.org", purpose: "Visite", tenant: "Bench Tenant \(index)")
                shares.append(Share(id: shareID, accountID: accountID, subject: subject, recipientKind: .agency,
                                    sealed: try await vault.sealJSON(details, for: subject, context: Share.detailsContext(shareID)),
                                    tokenHash: SHA256.hash(data: Data(UUID().uuidString.utf8)).map { String(format: "%02x", $0) }.joined(),
                                    wholeFile: true, language: .fr, now: now, expiresAt: now + 30 * 86_400))
            }
            for purpose in ConsentRules.purposes(in: register).prefix(shape.consents) {
                consents.append(ConsentRecord(subject: subject, purpose: purpose.id, position: 1, action: .given, at: now, policyVersion: register.version,
                                              source: "account"))
            }
        }
        let rows = (accounts, profiles, documents, files, events, shares, consents)
        try await database.transaction { db in
            try await rows.0.create(on: db)
            try await rows.1.create(on: db)
            try await rows.2.create(on: db)
            try await rows.3.create(on: db)
            try await rows.4.create(on: db)
            try await rows.5.create(on: db)
            try await rows.6.create(on: db)
        }
        return accounts.compactMap(\.id)
    }

    /// One more tenant, with 20 documents of 2.5 MB (50 MB): the export's file.
    static func seedLargeFile(services: DossierServices, on database: any Database) async throws -> (Account, [DocumentFile]) {
        let now = services.clock.now
        let vault = services.vault
        guard let email = EmailAddress("bench-export@example.org") else { throw Failure(description: "bad address") }
        let account = Account(email: email, passwordHash: sharedHash, firstName: "Bench", lastName: "Export", language: .fr, role: .tenant, now: now)
        account.emailVerifiedAt = now
        try await account.create(on: database)
        let accountID = try account.requireID()
        let subject = account.subject
        let key = try await vault.sealingKey(for: subject)
        let plain = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).pdf")
        var bytes = Data("%PDF-1.4\n".utf8)
        bytes.append(Data((0..<(2_500_000 - bytes.count)).map { _ in UInt8.random(in: 0...255) }))
        try bytes.write(to: plain)
        defer { try? FileManager.default.removeItem(at: plain) }
        let types = services.catalogue.categories.flatMap { category in category.types.filter { $0.for.contains(.tenant) }.map { (category.id, $0.id) } }
        var files: [DocumentFile] = []
        for position in 0..<20 {
            let (category, type) = types[position % types.count]
            let document = Document(accountID: accountID, guarantorID: nil, subject: subject, type: type, category: category, source: .upload,
                                    receivedAt: nil, filedBy: nil, now: now)
            let documentID = UUID()
            document.id = documentID
            try await document.create(on: database)
            let blobKey = UUID().uuidString.lowercased()
            let sealedFile = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(blobKey).blob")
            let written = try SealedDocument.seal(plain, to: sealedFile, key: key,
                                                  context: vault.fullContext(DocumentFile.contentContext(document: documentID, position: 1, blobKey: blobKey), of: subject))
            try await services.blobs.put(fileAt: sealedFile, key: blobKey)
            let name = try await vault.seal(Data("piece-\(position).pdf".utf8), for: subject,
                                            context: DocumentFile.nameContext(document: documentID, position: 1, blobKey: blobKey))
            let file = DocumentFile(documentID: documentID, position: 1, blobKey: blobKey, kind: .pdf, size: written.size, digest: written.digest,
                                    sealedName: name, now: now)
            try await file.create(on: database)
            files.append(file)
        }
        return (account, files)
    }

    // MARK: Ceilings

    /// The rows the access view reads, with plain SQL: nothing decrypted, nothing explained.
    static func plainRead(_ id: UUID, on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        let account = try await sql.raw("SELECT * FROM accounts WHERE id = \(bind: id)").all()
        guard let subject = try account.first?.decode(column: "subject_id", as: UUID.self).uuidString.lowercased() else { return }
        for table in ["profiles", "documents", "shares", "connection_events", "certificates", "application_members", "guarantors", "outbox_messages"] {
            _ = try await sql.raw("SELECT * FROM \(ident: table) WHERE account_id = \(bind: id)").all()
        }
        _ = try await sql.raw("SELECT f.* FROM document_files f JOIN documents d ON d.id = f.document_id WHERE d.account_id = \(bind: id)").all()
        _ = try await sql.raw("SELECT a.* FROM share_accesses a JOIN shares s ON s.id = a.share_id WHERE s.account_id = \(bind: id)").all()
        for table in ["consents", "objections"] {
            _ = try await sql.raw("SELECT * FROM \(ident: table) WHERE subject = \(bind: subject)").all()
        }
    }

    /// The rows an erasure deletes, with plain SQL in one transaction: no keys, no blobs, no audit.
    static func plainDelete(_ id: UUID, on database: any Database) async throws {
        try await database.transaction { db in
            guard let sql = db as? any SQLDatabase else { return }
            try await sql.raw("DELETE FROM document_files WHERE document_id IN (SELECT id FROM documents WHERE account_id = \(bind: id))").run()
            try await sql.raw("DELETE FROM share_accesses WHERE share_id IN (SELECT id FROM shares WHERE account_id = \(bind: id))").run()
            for table in ["documents", "shares", "profiles", "connection_events", "sessions", "outbox_messages"] {
                try await sql.raw("DELETE FROM \(ident: table) WHERE account_id = \(bind: id)").run()
            }
            try await sql.raw("DELETE FROM accounts WHERE id = \(bind: id)").run()
        }
    }

    /// Reading and decrypting the export's blobs, and nothing else.
    static func decryptAll(_ files: [DocumentFile], of subject: String, database: any Database, services: DossierServices, logger: Logger) async throws {
        let reader = RentalFileService(database: database, services: services, logger: logger)
        for file in files {
            let opened = try await reader.open(file, of: subject)
            defer { opened.close() }
            while try opened.next() != nil {}
        }
    }

    // MARK: Timing

    static func time(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        return seconds(ContinuousClock.now - start)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func timing(_ values: [Double]) -> Timing {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return Timing(median: 0, p99: 0, samples: 0) }
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        let p99 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
        return Timing(median: median, p99: p99, samples: sorted.count)
    }
}
