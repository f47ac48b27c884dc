@testable import DossierServer
import DossierCore
import DossierTestSupport
import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// The right to erasure (GDPR Art. 17), on SQLite and PostgreSQL: after `DELETE /api/v1/me`, no
/// row, file or key of the person remains but what the register keeps, and of that only the
/// archive can be read; the receipt says so; recipients are told; an interrupted erasure is
/// finished; the archive goes on its day.
@Suite("Erasure")
struct ErasureTests {
    static func erase(_ app: Application, _ auth: HTTPHeaders, status: HTTPStatus = .ok) async throws -> ErasurePlan.Receipt? {
        var receipt: ErasurePlan.Receipt?
        try await app.testing().test(.DELETE, "api/v1/me", headers: auth) { res in
            #expect(res.status == status, "\(res.body.string)")
            if res.status == .ok {
                #expect(res.headers.first(name: .cacheControl) == "no-store")
                receipt = try res.content.decode(ErasurePlan.Receipt.self)
            }
        }
        return receipt
    }

    /// Every text cell of every table of the data database, as "table.column: value".
    static func everyText(_ app: Application) async throws -> [String] {
        let sql = try #require(app.db as? any SQLDatabase)
        var cells: [String] = []
        for table in StoredItems.data.map(\.name) {
            for row in try await sql.raw("SELECT * FROM \(unsafeRaw: table)").all() {
                for column in row.allColumns {
                    if let text = try? row.decode(column: column, as: String?.self) { cells.append("\(table).\(column): \(text)") }
                }
            }
        }
        return cells
    }

    @Test(arguments: TestDatabase.all)
    func erasureLeavesOnlyWhatTheRegisterKeepsAndOnlyTheArchiveReadable(database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            let tenant = try await SharingTests.tenant(app)
            try await app.testing().test(.PATCH, "api/v1/me/profile", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["monthlyIncome": 2500], as: .json)
            }, afterResponse: { res in #expect(res.status == .ok, "\(res.body.string)") })
            try await app.testing().test(.PATCH, "api/v1/me/profile", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["phone": "0601020304"])
            }, afterResponse: { res in #expect(res.status == .ok, "\(res.body.string)") })
            try await app.testing().test(.POST, "api/v1/me/guarantors", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["kind": "organisation", "name": "Visale"])
            }, afterResponse: { res in #expect(res.status == .created) })
            let (_, token, _) = try await SharingTests.share(app, tenant)
            #expect(try await SharingTests.get(app, "s/\(token)").status == .ok)
            _ = try await SharingTests.get(app, "s/\(token)/file.zip")
            var code = ""
            try await app.testing().test(.POST, "api/v1/me/certificates", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["rent": 800])
            }, afterResponse: { res in code = try res.content.decode(CertificatesController.CertificateBody.self).code })
            // A household with a partner, who stays.
            var joinCode: String?
            try await app.testing().test(.POST, "api/v1/me/application", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["kind": "couple"])
            }, afterResponse: { res in joinCode = try res.content.decode(RentalFileController.ApplicationBody.self).joinCode })
            let partner = try await SharingTests.tenant(app, email: "partner@example.org")
            try await app.testing().test(.POST, "api/v1/me/application/join", headers: partner.auth, beforeRequest: { req in
                try req.content.encode(["code": try #require(joinCode)])
            }, afterResponse: { res in #expect(res.status == .ok) })
            let partnerID = try #require(try await Account.query(on: app.db).filter(\.$emailKey == "partner@example.org").first()?.id)
            try await app.testing().test(.POST, "api/v1/me/application/members/\(partnerID)/approve", headers: tenant.auth) { res in
                #expect(res.status == .ok)
            }

            let account = try #require(try await Account.query(on: app.db).filter(\.$emailKey == "jane.doe@example.org").first())
            let accountID = try account.requireID()
            let documents = try await Document.query(on: app.db).filter(\.$account.$id == accountID).with(\.$files).all()
            let blobs = documents.flatMap { $0.files.map(\.blobKey) }
                + (try await ShareRendition.query(on: app.db).all()).map(\.blobKey)
            let subjects = Set([account.subject] + documents.map(\.subject)
                + (try await Guarantor.query(on: app.db).filter(\.$account.$id == accountID).all()).map(\.subject))
            #expect(blobs.count >= 4)
            for key in blobs { #expect(try await app.dossier.blobs.exists(key)) }

            clock.advance(by: 86400)
            let receipt = try #require(try await Self.erase(app, tenant.auth))

            // The receipt: what went, what stays, why and until when.
            let erased = Dictionary(receipt.erased.map { ($0.kind, $0.count) }) { first, _ in first }
            #expect(erased["account"] == 1 && erased["profile"] == 1 && erased["document"] == 3 && erased["guarantor"] == 1)
            #expect(erased["share"] == 1 && erased["share-accesses"] == 1 && erased["certificate"] == 1 && erased["application"] == 1)
            let now = clock.now
            let kept = Dictionary(receipt.kept.map { ("\($0.purpose.id)/\($0.category.id)", $0) }) { first, _ in first }
            #expect(kept["account/identification"]?.until == RetentionPeriod(5, .year).added(to: now))
            #expect(kept["account/identification"]?.readable == true)
            #expect(kept["rights-requests/rights-requests"]?.until == RetentionPeriod(5, .year).added(to: now))
            #expect(kept["security/audit-trail"]?.readable == false)
            // Nothing the register excludes from the archive, no document.
            #expect(!receipt.kept.contains { ["economic-financial", "supporting-documents", "housing-search", "connection-data"].contains($0.category.id) })

            // No row of the person: no table holds their address, name or phone but the mail
            // queued to them (the receipt) and to the agency (its notice).
            let left = try await Self.everyText(app).filter { ($0.contains("jane.doe@example.org") || $0.contains("0601020304")) && !$0.hasPrefix("outbox_messages.recipient:") }
            #expect(left == [])
            // (The walk reads every table: the partner's address is found.)
            #expect(try await Self.everyText(app).contains { $0 == "accounts.email: partner@example.org" })
            #expect(try await Account.find(accountID, on: app.db) == nil)
            #expect(try await Document.query(on: app.db).filter(\.$account.$id == accountID).count() == 0)
            #expect(try await Share.query(on: app.db).filter(\.$account.$id == accountID).count() == 0)
            #expect(try await ShareAccess.query(on: app.db).count() == 0)
            #expect(try await ShareRendition.query(on: app.db).count() == 0)
            #expect(try await FileCertificateRecord.query(on: app.db).filter(\.$account.$id == accountID).count() == 0)
            #expect(try await ConnectionEvent.query(on: app.db).filter(\.$account.$id == accountID).count() == 0)
            #expect(try await Session.query(on: app.db).filter(\.$account.$id == accountID).count() == 0)
            #expect(try await Profile.query(on: app.db).filter(\.$account.$id == accountID).count() == 0)
            #expect(try await Guarantor.query(on: app.db).filter(\.$account.$id == accountID).count() == 0)
            // No file, no key.
            for key in blobs { #expect(try await app.dossier.blobs.exists(key) == false) }
            for subject in subjects {
                let stored = try #require(try await SubjectKey.query(on: app.db(.keys)).filter(\.$subject == subject).first())
                #expect(stored.wrappedKey == nil && stored.destroyedAt != nil)
            }
            let record = try #require(try await ErasureRecord.find(UUID(uuidString: receipt.reference), on: app.db))
            #expect(record.completedAt != nil && record.pendingSubjects == nil)

            // The archive opens, with its own key, and holds the identity only.
            let entry = try #require(try await ArchiveEntry.query(on: app.db).filter(\.$erasureID == record.id).first())
            let identity = try await app.dossier.vault.openJSON(ErasureService.ArchivedIdentity.self, entry.sealed, for: entry.subject,
                                                                context: ArchiveEntry.context(try entry.requireID()))
            #expect(identity.email == "jane.doe@example.org" && identity.lastName == "Doe")
            #expect(identity.profile["phone"] == .string("0601020304") && identity.profile["monthlyIncome"] == nil)
            #expect(identity.guarantors.map(\.name) == ["Visale"])
            #expect(entry.keepUntil == RetentionPeriod(5, .year).added(to: now))

            // Everything that opened before is shut: the token, the link, the certificate.
            #expect(try await SharingTests.get(app, "api/v1/me", headers: tenant.auth).status == .unauthorized)
            #expect(try await Self.erase(app, tenant.auth, status: .unauthorized) == nil)
            #expect(try await SharingTests.get(app, "s/\(token)").status == .notFound)
            #expect(try await CertificateTests.check(app, code).verdict != "current")
            try await app.testing().test(.POST, "api/v1/sessions", beforeRequest: { req in
                try req.content.encode(["email": "jane.doe@example.org", "password": "correct horse battery staple"])
            }, afterResponse: { res in #expect(res.status == .unauthorized) })
            // The partner keeps the household, alone.
            let membership = try #require(try await ApplicationMember.query(on: app.db).with(\.$account).first())
            #expect(membership.account.email == "partner@example.org")
            #expect(try await ApplicationMember.query(on: app.db).count() == 1)

            // The receipt mailed; the agency told, without the data.
            let mail = try await app.outboxTexts(to: "jane.doe@example.org")
            #expect(mail.contains { $0.contains(receipt.reference) && $0.contains("CNIL") })
            let notice = try #require(try await app.outboxTexts(to: "contact@agence-dupont.example").last)
            #expect(notice.contains("deleted their account") && !notice.contains("2500"))

            // The address is free again.
            try await app.signUp(email: "jane.doe@example.org", verified: true)

            // The audit trail keeps the fact, under the pseudonym.
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "account.erased").filter(\.$subject == account.subject).count() == 1)
            try await app.testing().test(.GET, "api/v1/me", headers: partner.auth) { res in #expect(res.status == .ok) }

            // The archive and the record go on their day, and the archive's key with them.
            clock.advance(by: RetentionPeriod(5, .year).added(to: now).timeIntervalSince(clock.now) - 86400)
            #expect(try await ErasureService.sweepExpired(services: app.dossier, on: app.db, now: clock.now) == 0)
            #expect(try await ArchiveEntry.query(on: app.db).count() == 1)
            clock.advance(by: 86400)
            #expect(try await ErasureService.sweepExpired(services: app.dossier, on: app.db, now: clock.now) == 2)
            #expect(try await ArchiveEntry.query(on: app.db).count() == 0)
            #expect(try await ErasureRecord.query(on: app.db).count() == 0)
            #expect(try await SubjectKey.query(on: app.db(.keys)).filter(\.$subject == entry.subject).first()?.wrappedKey == nil)
        }
    }

    @Test(arguments: TestDatabase.all)
    func staffAndAnOrganisationsLastAdministratorAreClosedOtherwise(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            _ = try await StaffAccounts.create(on: app, email: try #require(EmailAddress("dpo@example.org")), password: "a long staff passphrase",
                                               firstName: "Dana", lastName: "Po", role: .dpo, language: .en)
            let staff = try await app.signIn(email: "dpo@example.org", password: "a long staff passphrase")
            #expect(try await Self.erase(app, ["Authorization": "Bearer \(staff)"], status: .conflict) == nil)
            #expect(try await Account.query(on: app.db).filter(\.$emailKey == "dpo@example.org").count() == 1)

            let agency = try await OrganisationTests.register(app, name: "Agence Dupont", email: "agence@example.org")
            let boss = try await StaffAccounts.create(on: app, email: try #require(EmailAddress("boss@example.org")), password: "a long staff passphrase",
                                                      firstName: "B", lastName: "Oss", role: .member, organisationID: agency, language: .en)
            try await Account.query(on: app.db).filter(\.$id == boss.id).set(\.$organisationAdmin, to: true).update()
            let bossToken = try await app.signIn(email: "boss@example.org", password: "a long staff passphrase")
            #expect(try await Self.erase(app, ["Authorization": "Bearer \(bossToken)"], status: .conflict) == nil)
            // A member who is not the last administrator leaves.
            _ = try await StaffAccounts.create(on: app, email: try #require(EmailAddress("agent@example.org")), password: "a long staff passphrase",
                                               firstName: "A", lastName: "Gent", role: .member, organisationID: agency, language: .en)
            let agent = try await app.signIn(email: "agent@example.org", password: "a long staff passphrase")
            #expect(try await Self.erase(app, ["Authorization": "Bearer \(agent)"]) != nil)
            #expect(try await Account.query(on: app.db).filter(\.$emailKey == "agent@example.org").count() == 0)
        }
    }

    @Test(arguments: TestDatabase.all)
    func anErasureACrashInterruptedIsFinished(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let tenant = try await SharingTests.tenant(app)
            let account = try #require(try await Account.query(on: app.db).filter(\.$emailKey == "jane.doe@example.org").first())
            // The rows went and the record was written, then the process died before the keys.
            let receipt = try #require(try await Self.erase(app, tenant.auth))
            let record = try #require(try await ErasureRecord.find(UUID(uuidString: receipt.reference), on: app.db))
            let survivor = UUID().uuidString.lowercased()
            _ = try await app.dossier.vault.seal(Data("left".utf8), for: survivor, context: "test")
            record.completedAt = nil
            record.pendingSubjects = String(decoding: try JSONEncoder().encode([account.subject, survivor]), as: UTF8.self)
            try await record.save(on: app.db)
            #expect(try await ErasureService.finishPending(services: app.dossier, on: app.db) == 1)
            #expect(try await SubjectKey.query(on: app.db(.keys)).filter(\.$subject == survivor).first()?.wrappedKey == nil)
            #expect(try await ErasureRecord.find(record.id, on: app.db)?.completedAt != nil)
            #expect(try await ErasureService.finishPending(services: app.dossier, on: app.db) == 0)
        }
    }

    @Test func thePageShowsWhatGoesAndAsksThePassword() async throws {
        try await withDossier(on: .sqlite) { app in
            _ = try await SharingTests.tenant(app)
            let (browser, csrf, _) = try await app.browserSignedIn()
            try await app.testing().test(.GET, "account/delete?lang=en", headers: browser.cookieHeader) { res in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("id=\"delete-account\"") && res.body.string.contains("Supporting documents"))
            }
            var headers = browser.cookieHeader
            headers.add(name: .contentType, value: "application/x-www-form-urlencoded")
            try await app.testing().test(.POST, "account/delete", headers: headers,
                                         body: .init(string: browser.form(["csrf": csrf, "password": "wrong one"]))) { res in
                #expect(res.status == .unprocessableEntity)
                #expect(res.body.string.contains("nothing was deleted"))
            }
            #expect(try await Account.query(on: app.db).count() == 1)
            try await app.testing().test(.POST, "account/delete", headers: headers,
                                         body: .init(string: browser.form(["csrf": csrf, "password": "correct horse battery staple"]))) { res in
                #expect(res.status == .ok, "\(res.body.string)")
                #expect(res.body.string.contains("id=\"receipt\""))
                #expect(res.headers.setCookie?[WebCookie.session]?.string == "")
            }
            #expect(try await Account.query(on: app.db).count() == 0)
        }
    }
}

/// Writes of many rows at once (an erasure's blob journal, its mail, its keys) go a thousand
/// rows a statement: PostgreSQL takes at most 65,535 bound values in one, and a tenant with
/// thousands of links or files must still be able to leave.
@Suite("Batched writes")
struct BatchedWriteTests {
    @Test(arguments: TestDatabase.all)
    func moreRowsThanOneStatementCanBindAreWrittenAndCleared(database: TestDatabase) async throws {
        try await withDossier(on: database, clock: ManualClock(testEpoch)) { app in
            // 17,000 entries of 4 values each: 68,000 values, past PostgreSQL's limit for one statement.
            let keys = (0..<17_000).map { _ in UUID().uuidString.lowercased() }
            try await BlobJournal.record(keys, .delete, at: testEpoch, on: app.db)
            #expect(try await BlobJournalEntry.query(on: app.db).count() == keys.count)
            try await BlobJournal.clear(keys, on: app.db)
            #expect(try await BlobJournalEntry.query(on: app.db).count() == 0)
            // Keys shredded by the thousand too; a subject without a key gets its tombstone.
            let subjects = (0..<2_500).map { _ in UUID().uuidString.lowercased() }
            try await app.dossier.vault.makeKeys(for: Array(subjects.prefix(1_000)))
            try await app.dossier.vault.shred(subjects)
            let stored = try await SubjectKey.query(on: app.db(.keys)).filter(\.$subject ~~ subjects).all()
            #expect(stored.count == subjects.count)
            #expect(stored.allSatisfy { $0.wrappedKey == nil && $0.destroyedAt != nil })
        }
    }

    /// A transaction's batched writes (`WriteBatch`, one statement on PostgreSQL) land with its
    /// audit entry: inserts with unset columns left to their defaults, an update and a delete
    /// that do not touch the inserted rows, and more values than one statement can bind (split
    /// into several statements, the audit entry with the last).
    @Test(arguments: TestDatabase.all)
    func aTransactionsBatchedWritesLandWithItsAuditEntry(database: TestDatabase) async throws {
        try await withDossier(on: database, clock: ManualClock(testEpoch)) { app in
            let old = (0..<3).map { _ in UUID().uuidString.lowercased() }
            try await BlobJournal.record(old, .write, at: testEpoch, on: app.db)
            let keys = (0..<17_000).map { _ in UUID().uuidString.lowercased() }
            let before = try await AuditRecord.query(on: app.db).count()
            try await app.dossier.audit.transaction(on: app.db) { db, audit in
                BlobJournal.record(keys, .delete, at: testEpoch, in: audit.writes)
                audit.writes.delete(BlobJournalEntry.query(on: db).filter(\.$blobKey == old[0]))
                audit.writes.update(BlobJournalEntry.query(on: db).filter(\.$blobKey == old[1]).set(\.$action, to: .delete))
                // Nothing is sent before the transaction's end.
                let seen = try await BlobJournalEntry.query(on: db).count()
                #expect(seen == old.count)
                audit.record(AuditEvent(action: "test.batch", subject: nil, purpose: nil), by: "system")
            }
            #expect(try await BlobJournalEntry.query(on: app.db).filter(\.$action == .delete).count() == keys.count + 1)
            #expect(try await BlobJournalEntry.query(on: app.db).filter(\.$blobKey ~~ Array(old.suffix(2))).count() == 2)
            #expect(try await BlobJournalEntry.query(on: app.db).count() == keys.count + 2)
            #expect(try await AuditRecord.query(on: app.db).count() == before + 1)
            // A failure in the batch rolls the whole transaction back, its audit entry with it.
            let duplicate = BlobJournalEntry(blobKey: "dup", action: .delete, now: testEpoch)
            duplicate.id = try await BlobJournalEntry.query(on: app.db).first()?.requireID()
            await #expect(throws: (any Error).self) {
                try await app.dossier.audit.transaction(on: app.db) { _, audit in
                    audit.writes.insert([BlobJournalEntry(blobKey: "fresh", action: .delete, now: testEpoch), duplicate])
                    audit.record(AuditEvent(action: "test.batch", subject: nil, purpose: nil), by: "system")
                }
            }
            #expect(try await BlobJournalEntry.query(on: app.db).filter(\.$blobKey == "fresh").count() == 0)
            #expect(try await AuditRecord.query(on: app.db).count() == before + 1)
            guard case .intact = try await app.dossier.audit.verify(on: app.db) else { Issue.record("the audit chain is broken"); return }
        }
    }

    @Test func batchesCoverTheArrayInOrder() {
        let values = Array(0..<2_345)
        let batches = values.batches(of: 1_000)
        #expect(batches.map(\.count) == [1_000, 1_000, 345])
        #expect(batches.flatMap { $0 } == values)
        #expect([Int]().batches(of: 1_000).isEmpty)
    }
}
