@testable import DossierServer
import Crypto
import DossierCore
import Fluent
import Foundation
import SQLKit
import Testing
import VaporTesting

@Suite("Audit trail")
struct AuditTrailTests {
    @Test func chainOfEntriesVerifiesAndCatchesEachKindOfTampering() throws {
        var entries: [AuditEntry] = []
        for index in 1...4 {
            entries.append(AuditEntry(sequence: Int64(index), occurredAt: testEpoch + Double(index), actor: "a", action: "x.done",
                                      subject: "s", purpose: "account", reason: nil, details: ["n": "\(index)"],
                                      previousHash: entries.last?.hash ?? AuditEntry.genesisHash))
        }
        #expect(AuditChain.verify(entries) == .intact(entries: 4, head: entries[3].hash))

        var altered = entries
        altered[1].action = "x.undone"
        #expect(AuditChain.verify(altered) == .broken(sequence: 2, reason: "its content does not match its hash: it was altered"))

        var rehashed = entries
        rehashed[1].details = ["n": "99"]
        rehashed[1].hash = rehashed[1].computedHash()
        #expect(AuditChain.verify(rehashed) == .broken(sequence: 3, reason: "its link does not match the hash of entry 2"))

        var removed = entries
        removed.remove(at: 2)
        #expect(AuditChain.verify(removed) == .broken(sequence: 4, reason: "expected entry 3 but found 4: an entry is missing or out of order"))
    }

    @Test func hashLayoutIsUnambiguous() {
        let a = AuditEntry(sequence: 1, occurredAt: testEpoch, actor: "ab", action: "c", subject: nil, purpose: nil, reason: nil, details: [:], previousHash: AuditEntry.genesisHash)
        let b = AuditEntry(sequence: 1, occurredAt: testEpoch, actor: "a", action: "bc", subject: nil, purpose: nil, reason: nil, details: [:], previousHash: AuditEntry.genesisHash)
        #expect(a.hash != b.hash)
    }

    @Test(arguments: TestDatabase.all)
    func accountEventsAreChainedAndTamperingIsCaught(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let accountID = try await app.signUp()
            let token = try await app.signIn()
            try await app.testing().test(.DELETE, "api/v1/sessions/current", headers: ["Authorization": "Bearer \(token)"]) { res in
                #expect(res.status == .noContent)
            }
            let records = try await AuditRecord.query(on: app.db).sort(\.$sequence).all()
            #expect(records.map(\.action) == ["account.created", "session.signed-in", "session.signed-out"])
            // The trail names the pseudonymous subject, never the address or the name.
            let subject = try #require(try await Account.find(accountID, on: app.db)).subject
            #expect(records.allSatisfy { $0.subject == subject })
            #expect(!records.contains { "\($0.details)\($0.reason ?? "")".contains("jane") })
            guard case .intact(entries: 3, _) = try await app.dossier.audit.verify(on: app.db) else {
                Issue.record("the fresh chain should be intact")
                return
            }
            // Someone edits a row directly in the database.
            let sql = try #require(app.db as? any SQLDatabase)
            try await sql.update(AuditRecord.schema).set("action", to: "session.never-happened").where("sequence", .equal, 2).run()
            #expect(try await app.dossier.audit.verify(on: app.db) == .broken(sequence: 2, reason: "its content does not match its hash: it was altered"))
        }
    }

    /// Two server instances on one database: each has its own trail (its own in-process queue),
    /// so only the database's lock keeps their appends in one chain. On PostgreSQL the head is
    /// read under that lock in the same round trip (M017): a head read on a snapshot taken
    /// before the lock was granted would fork the chain (two entries N+1, one refused).
    @Test(arguments: TestDatabase.all)
    func twoInstancesAppendingAtOnceKeepOneChain(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let first = app.dossier.audit
            let anchorFile = FileManager.default.temporaryDirectory.appendingPathComponent("anchor-\(UUID())")
            defer { try? FileManager.default.removeItem(at: anchorFile) }
            let second = AuditTrail(clock: app.dossier.clock, masterKey: SymmetricKey(size: .bits256), anchorFile: anchorFile, logger: app.logger)
            second.install(key: first.key)
            let before = try await AuditRecord.query(on: app.db).count()
            // Each instance with connections of its own, as two processes have: on PostgreSQL a
            // handle on each event loop (each loop's pool holds its own connection, so neither
            // trail queues for the other's); an in-memory SQLite database is one handle's.
            let handles: [any Database]
            if case .postgres = database {
                handles = (0..<2).map { _ in app.databases.database(logger: app.logger, on: app.eventLoopGroup.next())! }
            } else {
                handles = [app.db, app.db]
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    let trail = index.isMultiple(of: 2) ? first : second
                    let db = handles[index % 2]
                    group.addTask {
                        try await trail.record(AuditEvent(action: "test.appended", details: ["i": "\(index)"]), by: "test", on: db)
                    }
                }
                try await group.waitForAll()
            }
            second.anchor.flush()
            let records = try await AuditRecord.query(on: app.db).sort(\.$sequence).all()
            #expect(records.count == before + 40)
            #expect(records.map(\.sequence) == Array(1...Int64(before + 40)))
            guard case .intact(entries: before + 40, _) = AuditChain.verify(records.map(\.entry), key: first.key) else {
                Issue.record("40 appends from two instances should make one intact chain")
                return
            }
        }
    }

    @Test func concurrentAppendsKeepOneChain() async throws {
        try await withDossier(on: .sqlite) { app in
            let audit = app.dossier.audit
            let db = app.db
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await audit.record(AuditEvent(action: "test.appended", details: ["i": "\(index)"]), by: "test", on: db)
                    }
                }
                try await group.waitForAll()
            }
            guard case .intact(entries: 20, _) = try await app.dossier.audit.verify(on: app.db) else {
                Issue.record("20 concurrent appends should make one intact chain of 20")
                return
            }
        }
    }
}
