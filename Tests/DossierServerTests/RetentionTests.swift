@testable import DossierServer
import DossierCore
import Fluent
import Foundation
import Testing
import VaporTesting

/// The retention engine keeps the register's promises on their day: one day before, the data is
/// there; on the day, it is gone (or the person reminded), on both databases.
@Suite(.serialized) struct RetentionTests {
    func engine(_ app: Application) -> RetentionService {
        RetentionService(database: app.db, services: app.dossier, logger: app.logger)
    }

    /// The instant `period` after `start`.
    func after(_ period: RetentionPeriod, _ start: Date) -> Date { period.added(to: start) }

    @Test(arguments: TestDatabase.all)
    func connectionDataGoesSixMonthsAfterItsCollection(_ database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            let account = try await app.signUp()
            _ = try await app.signIn()
            let collected = try await ConnectionEvent.query(on: app.db).filter(\.$account.$id == account).all()
            #expect(!collected.isEmpty)
            // A later connection, a month after: it has a month more.
            clock.advance(by: 31 * 86_400)
            _ = try await app.signIn()
            let later = try await ConnectionEvent.query(on: app.db).count()

            let sixMonths = after(RetentionPeriod(6, .month), testEpoch)
            // The plan counts, and changes nothing.
            let plan = try await engine(app).plan(at: sixMonths)
            #expect(plan.lines.first { $0.task == "connection-log" }?.due == collected.count)
            #expect(try await ConnectionEvent.query(on: app.db).count() == later)

            // One day before: all there.
            var report = try await engine(app).run(at: sixMonths - 86_400)
            #expect(report.lines.first { $0.task == "connection-log" }?.done == 0)
            #expect(try await ConnectionEvent.query(on: app.db).count() == later)
            // On the day: the first ones gone, the later one kept.
            report = try await engine(app).run(at: sixMonths)
            #expect(report.lines.first { $0.task == "connection-log" }?.done == collected.count)
            #expect(try await ConnectionEvent.query(on: app.db).count() == later - collected.count)
            #expect(try await ConnectionEvent.query(on: app.db).filter(\.$id ~~ collected.compactMap(\.id)).count() == 0)
            // The sessions of that day (expired long ago) go with them, the later one stays.
            #expect(report.lines.first { $0.task == "session-traces" }?.done ?? 0 >= 1)
            #expect(try await Session.query(on: app.db).filter(\.$createdAt <= testEpoch).count() == 0)
            #expect(try await Session.query(on: app.db).filter(\.$createdAt > testEpoch).count() == 1)

            // Each run's receipt is in the audit trail, with its counts and the register's version.
            let receipts = try await AuditRecord.query(on: app.db).filter(\.$action == "retention.swept").all()
            #expect(receipts.count == 2)
            #expect(receipts.contains { $0.details.contains("connection-log.delete") && $0.details.contains(app.dossier.register.register.version) })
            guard case .intact = try await AuditVerification.run(on: app) else { Issue.record("the audit chain is broken"); return }
        }
    }

    @Test(arguments: TestDatabase.all)
    func anUnansweredReminderClosesTheAccountAfterAYear(_ database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            let id = try await app.signUp(verified: true)
            let account = try #require(try await Account.find(id, on: app.db))
            let active = account.lastActivityAt
            let closing = after(RetentionPeriod(1, .year), active)
            let remindOn = closing - 30 * 86_400
            let mailBefore = try await app.outboxTexts(to: "jane.doe@example.org").count

            // The day before the reminder: nothing.
            clock.set(remindOn - 86_400)
            _ = try await engine(app).run(at: clock.now)
            #expect(try await app.outboxTexts(to: "jane.doe@example.org").count == mailBefore)

            // The reminder, on its day, once, naming the day the account closes.
            clock.set(remindOn)
            var report = try await engine(app).run(at: clock.now)
            #expect(report.lines.first { $0.task == "inactive-accounts" && $0.action == "remind" }?.done == 1)
            var mail = try await app.outboxTexts(to: "jane.doe@example.org")
            #expect(mail.count == mailBefore + 1)
            #expect(mail.last?.contains(ShareWatermark.day(of: closing)) == true)
            clock.advance(by: 86_400)
            report = try await engine(app).run(at: clock.now)
            #expect(report.lines.first { $0.task == "inactive-accounts" && $0.action == "remind" }?.done == 0)
            #expect(try await app.outboxTexts(to: "jane.doe@example.org").count == mailBefore + 1)

            // The day before the year is over: still there.
            clock.set(closing - 86_400)
            report = try await engine(app).run(at: clock.now)
            #expect(try await Account.find(id, on: app.db) != nil)

            // On the day, without an answer: erased as the person would erase it, identity archived.
            clock.set(closing)
            report = try await engine(app).run(at: clock.now)
            #expect(report.lines.first { $0.task == "inactive-accounts" && $0.action == "erase" }?.done == 1)
            #expect(try await Account.find(id, on: app.db) == nil)
            #expect(try await ErasureRecord.query(on: app.db).filter(\.$subject == account.subject).count() == 1)
            #expect(try await ArchiveEntry.query(on: app.db).count() == 1)
            mail = try await app.outboxTexts(to: "jane.doe@example.org")
            #expect(mail.last?.contains("CNIL") == true)
            let erased = try #require(try await AuditRecord.query(on: app.db).filter(\.$action == "account.erased").first())
            #expect(erased.actor == "system")

            // The archive goes at the end of its 5 years, by the same engine.
            let archiveEnd = after(RetentionPeriod(5, .year), closing)
            _ = try await engine(app).run(at: archiveEnd - 86_400)
            #expect(try await ArchiveEntry.query(on: app.db).count() == 1)
            clock.set(archiveEnd)
            _ = try await engine(app).run(at: archiveEnd)
            #expect(try await ArchiveEntry.query(on: app.db).count() == 0)
        }
    }

    @Test(arguments: TestDatabase.all)
    func signingInAnswersTheReminder(_ database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            let id = try await app.signUp(verified: true)
            let start = try #require(try await Account.find(id, on: app.db)).lastActivityAt
            let closing = after(RetentionPeriod(1, .year), start)
            clock.set(closing - 30 * 86_400)
            _ = try await engine(app).run(at: clock.now)
            #expect(try await Account.find(id, on: app.db)?.inactivityRemindedAt != nil)

            // The person signs in: the account is theirs for another year.
            clock.advance(by: 10 * 86_400)
            _ = try await app.signIn()
            let answered = try #require(try await Account.find(id, on: app.db)).lastActivityAt
            clock.set(closing)
            let report = try await engine(app).run(at: clock.now)
            #expect(report.lines.first { $0.task == "inactive-accounts" && $0.action == "erase" }?.due == 0)
            #expect(try await Account.find(id, on: app.db) != nil)

            // A year after that sign-in without another, a new reminder.
            clock.set(after(RetentionPeriod(1, .year), answered) - 30 * 86_400)
            let again = try await engine(app).run(at: clock.now)
            #expect(again.lines.first { $0.task == "inactive-accounts" && $0.action == "remind" }?.done == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func anErasureDecidedBeforeASignInIsRefused(_ database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let id = try await app.signUp(verified: true)
            let selected = try #require(try await Account.find(id, on: app.db))
            // The sweep chose the account; the person signs in before its erasure runs.
            _ = try await app.signIn()
            let service = ErasureService(database: app.db, services: app.dossier, logger: app.logger)
            await #expect(throws: (any Error).self) {
                _ = try await service.erase(selected, language: .en, actor: "system", reason: "retention",
                                            stillDue: { $0.lastActivityAt == selected.lastActivityAt })
            }
            #expect(try await Account.find(id, on: app.db) != nil)
            #expect(try await ErasureRecord.query(on: app.db).count() == 0)
        }
    }

    @Test(arguments: TestDatabase.all)
    func aLateReminderStillGivesItsFullWait(_ database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            let id = try await app.signUp(verified: true)
            // No sweep ran for two years (the server was off): the reminder goes now, the
            // closing waits its 30 days from it.
            let late = testEpoch + 2 * 366 * 86_400
            clock.set(late)
            let plan = try await engine(app).plan(at: late)
            #expect(plan.lines.first { $0.task == "inactive-accounts" && $0.action == "remind" }?.due == 1)
            #expect(plan.lines.first { $0.task == "inactive-accounts" && $0.action == "erase" }?.due == 0)
            _ = try await engine(app).run(at: late)
            clock.set(late + 29 * 86_400)
            _ = try await engine(app).run(at: clock.now)
            #expect(try await Account.find(id, on: app.db) != nil)
            clock.set(late + 30 * 86_400)
            _ = try await engine(app).run(at: clock.now)
            #expect(try await Account.find(id, on: app.db) == nil)
        }
    }

    @Test(arguments: TestDatabase.all)
    func oneSweepAtATime(_ database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let configuration = app.dossier.configuration
            let inner = try await SweepLock.withLock(configuration, database: app.db) { _ in
                // While this holds the lock, a sweep elsewhere is refused, and changes nothing.
                await #expect(throws: RetentionService.Busy.self) { _ = try await engine(app).run(at: Date()) }
                return true
            }
            #expect(inner == true)
            // Released: the next sweep runs.
            _ = try await engine(app).run(at: Date())
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "retention.swept").count() == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func theSharedFileGoesTwelveMonthsAfterEachDocument(_ database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            let tenant = try await SharingTests.tenant(app)
            let link = try #require(try await SharingTests.share(app, tenant).body)
            try await app.testing().test(.POST, "api/v1/me/certificates", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["rent": 800])
            }, afterResponse: { res in #expect(res.status == .created, "\(res.body.string)") })
            let blobs = try await DocumentFile.query(on: app.db).all().map(\.blobKey)
            // A document added a month later has its own twelve months.
            clock.advance(by: 31 * 86_400)
            var later: UUID?
            try await app.upload(token: try await app.signIn(), type: "tax-notice", files: [("payslip.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                #expect(res.status == .created, "\(res.body.string)")
                later = try res.content.decode(RentalFileController.DocumentBody.self).id
            }
            let twelveMonths = after(RetentionPeriod(12, .month), testEpoch)
            clock.set(twelveMonths - 86_400)
            var report = try await engine(app).run(at: clock.now)
            #expect(try await Document.query(on: app.db).count() == 4)
            #expect(try await Share.query(on: app.db).count() == 1)
            clock.set(twelveMonths)
            report = try await engine(app).run(at: clock.now)
            #expect(report.lines.first { $0.task == "shared-documents" }?.done == 3)
            #expect(report.lines.first { $0.task == "share-links" }?.done == 1)
            #expect(try await Document.query(on: app.db).all().map(\.id) == [later])
            #expect(try await Share.find(link.id, on: app.db) == nil)
            #expect(try await ShareAccess.query(on: app.db).count() == 0)
            #expect(report.lines.first { $0.task == "file-certificates" }?.done == 1)
            #expect(try await FileCertificateRecord.query(on: app.db).count() == 0)
            // The person's key lives on (the later document is still theirs to read).
            let owner = try #require(try await Account.query(on: app.db).first())
            #expect(try await SubjectKey.query(on: app.db(.keys)).filter(\.$subject == owner.subject).first()?.wrappedKey != nil)
            // The files are gone from the blob store, not only from the rows.
            for key in blobs { #expect(try await app.dossier.blobs.exists(key) == false) }
            // The account itself stays: it is used.
            #expect(try await Account.query(on: app.db).count() == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func aLegalHoldKeepsEverythingUntilLifted(_ database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            let tenant = try await SharingTests.tenant(app)
            let account = try #require(try await Account.query(on: app.db).first())
            let id = try account.requireID()
            _ = try await StaffAccounts.create(on: app, email: try #require(EmailAddress("dpo@example.org")), password: "a long staff passphrase",
                                               firstName: "D", lastName: "PO", role: .dpo, language: .en)
            var staff: HTTPHeaders = ["Authorization": "Bearer \(try await app.signIn(email: "dpo@example.org", password: "a long staff passphrase"))"]

            // Bad input stores nothing.
            var json = staff
            json.contentType = .json
            for body in [#"{}"#, #"{"reason": "   "}"#, #"{"reason": 3}"#, #"{"reason": "x", "extra": 1}"#] {
                try await app.testing().test(.POST, "api/v1/staff/accounts/\(id)/hold", headers: json,
                                             body: ByteBuffer(string: body)) { res in
                    #expect([400, 422].contains(res.status.code), "\(body): \(res.body.string)")
                }
            }
            #expect(try await LegalHold.query(on: app.db).count() == 0)
            // A tenant may not place one.
            try await app.testing().test(.POST, "api/v1/staff/accounts/\(id)/hold", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["reason": "mine"])
            }, afterResponse: { res in #expect(res.status == .forbidden) })

            try await app.testing().test(.POST, "api/v1/staff/accounts/\(id)/hold", headers: staff, beforeRequest: { req in
                try req.content.encode(["reason": "Litige sur le dépôt de garantie, assignation du 3 mars"])
            }, afterResponse: { res in #expect(res.status == .created, "\(res.body.string)") })
            try await app.testing().test(.POST, "api/v1/staff/accounts/\(id)/hold", headers: staff, beforeRequest: { req in
                try req.content.encode(["reason": "twice"])
            }, afterResponse: { res in #expect(res.status == .conflict) })
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "hold.placed").filter(\.$subject == account.subject).count() == 1)

            // Two years on, nothing of theirs goes: not their documents, their log, nor their account.
            let connections = try await ConnectionEvent.query(on: app.db).filter(\.$account.$id == id).count()
            clock.set(after(RetentionPeriod(2, .year), testEpoch))
            let report = try await engine(app).run(at: clock.now)
            #expect(report.lines.first { $0.task == "shared-documents" }?.kept == 3)
            #expect(report.lines.first { $0.task == "connection-log" }?.kept == connections)
            #expect(try await Document.query(on: app.db).count() == 3)
            #expect(try await ConnectionEvent.query(on: app.db).filter(\.$account.$id == id).count() == connections)
            #expect(try await Account.find(id, on: app.db) != nil)
            // Nor by their own erasure (Art. 17(3)(e)).
            let tenantAuth: HTTPHeaders = ["Authorization": "Bearer \(try await app.signIn())"]
            staff = ["Authorization": "Bearer \(try await app.signIn(email: "dpo@example.org", password: "a long staff passphrase"))"]
            try await app.testing().test(.DELETE, "api/v1/me", headers: tenantAuth) { res in #expect(res.status == .conflict, "\(res.body.string)") }
            #expect(try await Account.find(id, on: app.db) != nil)
            try await app.testing().test(.GET, "api/v1/staff/retention", headers: staff) { res in
                #expect(res.status == .ok)
                let overview = try res.content.decode(RetentionController.Overview.self)
                #expect(overview.holds.map(\.account) == [id])
                #expect(overview.history.count == 1)
                #expect(overview.next.lines.contains { $0.task == "shared-documents" && $0.due == 3 })
            }

            // Lifted: the next sweep does what was due.
            try await app.testing().test(.DELETE, "api/v1/staff/accounts/\(id)/hold", headers: staff) { res in #expect(res.status == .noContent) }
            try await app.testing().test(.DELETE, "api/v1/staff/accounts/\(id)/hold", headers: staff) { res in #expect(res.status == .noContent) }
            try await app.testing().test(.DELETE, "api/v1/staff/accounts/\(UUID())/hold", headers: staff) { res in #expect(res.status == .notFound) }
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "hold.lifted").count() == 1)
            _ = try await engine(app).run(at: clock.now)
            #expect(try await Document.query(on: app.db).count() == 0)
        }
    }

    @Test(arguments: TestDatabase.all)
    func restrictedDataIsStoredNotDeleted(_ database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            let tenant = try await SharingTests.tenant(app)
            try await app.testing().test(.POST, "api/v1/me/restriction", headers: tenant.auth) { res in #expect(res.status.code < 300, "\(res.body.string)") }
            clock.set(after(RetentionPeriod(12, .month), testEpoch))
            let report = try await engine(app).run(at: clock.now)
            #expect(report.lines.first { $0.task == "shared-documents" }?.kept == 3)
            #expect(try await Document.query(on: app.db).count() == 3)
        }
    }

    /// The audit trail's oldest entries go at 5 years, the chain still whole and shown to be;
    /// a held person's entries (and all after them) stay until the hold is lifted; deleting one
    /// more entry by hand breaks the chain.
    @Test(arguments: TestDatabase.all)
    func theAuditTrailKeepsFiveYearsAndStaysWhole(_ database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            func entries(before instant: Date) async throws -> Int {
                try await AuditRecord.query(on: app.db).filter(\.$occurredAt <= Int64(instant.timeIntervalSince1970 * 1000)).count()
            }
            func line(_ report: RetentionReport) -> RetentionReport.Line? { report.lines.first { $0.task == "audit-trail" } }
            func intact() async throws -> Bool {
                guard case .intact = try await AuditVerification.run(on: app) else { return false }
                return true
            }
            try await app.signUp(email: "ann@example.org")
            let first = try #require(try await AuditRecord.query(on: app.db).sort(\.$sequence).first())
            #expect(first.sequence == 1)
            // Ten days later, another tenant, held for a dispute.
            clock.advance(by: 10 * 86_400)
            let later = clock.now
            let ben = try await app.signUp(email: "ben@example.org")
            let created = try await StaffAccounts.create(on: app, email: try #require(EmailAddress("dpo@example.org")), password: "a long staff passphrase",
                                                         firstName: "D", lastName: "PO", role: .dpo, language: .en)
            let dpo = try #require(try await Account.find(created.id, on: app.db))
            _ = try await HoldService(database: app.db, services: app.dossier).place(on: ben, reason: "Litige", by: dpo)
            let benSubject = try #require(try await Account.find(ben, on: app.db)).subject
            let benEntries = try await AuditRecord.query(on: app.db).filter(\.$subject == benSubject).count()

            // One day before 5 years: everything there.
            let fiveYears = after(RetentionPeriod(5, .year), testEpoch)
            clock.set(fiveYears - 86_400)
            var report = try await engine(app).run(at: clock.now)
            #expect(line(report)?.done == 0)
            let firstDay = try await entries(before: testEpoch)
            #expect(firstDay > 0)
            #expect(try await AuditRecord.query(on: app.db).filter(\.$sequence == 1).count() == 1)
            // On the day: the first day's entries gone, the chain whole, the deletion recorded.
            clock.set(fiveYears)
            report = try await engine(app).run(at: clock.now)
            #expect(line(report)?.done == firstDay)
            #expect(try await entries(before: testEpoch) == 0)
            #expect(try await entries(before: later) > 0)
            #expect(try await intact())
            let pruned = try #require(try await AuditRecord.query(on: app.db).filter(\.$action == AuditChain.prunedAction).first())
            #expect(pruned.details.contains("\"through\":\"\(firstDay)\""))

            // Ben's entries are due a day after their 5 years, but held: kept, with all after.
            clock.set(after(RetentionPeriod(5, .year), later) + 86_400)
            report = try await engine(app).run(at: clock.now)
            #expect(try #require(line(report)).kept > 0)
            #expect(try await AuditRecord.query(on: app.db).filter(\.$subject == benSubject).count() >= benEntries)
            #expect(try await intact())
            // Marked lifted in the database alone, the hold still stands for the audit trail,
            // whose own entries say it was placed and never lifted.
            try await LegalHold.query(on: app.db).set(\.$liftedAt, to: clock.now).update()
            report = try await engine(app).run(at: clock.now)
            #expect(try #require(line(report)).kept > 0)
            #expect(try await AuditRecord.query(on: app.db).filter(\.$subject == benSubject).count() >= benEntries)
            try await LegalHold.query(on: app.db).set(\.$liftedAt, to: nil).update()
            // Lifted: they go.
            try await HoldService(database: app.db, services: app.dossier).lift(on: ben, by: dpo)
            report = try await engine(app).run(at: clock.now)
            #expect(try #require(line(report)).done > 0)
            #expect(try await entries(before: later) == 0)
            #expect(try await intact())

            // Dates changed in the database make nothing due: each entry's MAC is checked before
            // anything is deleted, and the sweep deletes none and says why.
            let oldestKept = try #require(try await AuditRecord.query(on: app.db).sort(\.$sequence).first()).sequence
            let newest = try #require(try await AuditRecord.query(on: app.db).sort(\.$sequence, .descending).first()).sequence
            let dates = try await AuditRecord.query(on: app.db).filter(\.$sequence < newest).all().map { ($0.sequence, $0.occurredAt) }
            try await AuditRecord.query(on: app.db).filter(\.$sequence < newest).set(\.$occurredAt, to: 0).update()
            report = try await engine(app).run(at: clock.now)
            #expect(report.problems.contains { $0.task == "audit-trail" && $0.message.contains("does not verify") })
            #expect(try await AuditRecord.query(on: app.db).sort(\.$sequence).first()?.sequence == oldestKept)
            for (sequence, date) in dates {
                try await AuditRecord.query(on: app.db).filter(\.$sequence == sequence).set(\.$occurredAt, to: date).update()
            }
            #expect(try await intact())

            // Deleting one more entry from the start is not a pruning: the chain says so.
            let oldest = try #require(try await AuditRecord.query(on: app.db).sort(\.$sequence).first())
            try await AuditRecord.query(on: app.db).filter(\.$sequence == oldest.sequence).delete()
            guard case let .broken(sequence, reason) = try await AuditVerification.run(on: app) else {
                Issue.record("a chain missing an entry was found whole")
                return
            }
            #expect(sequence == oldest.sequence + 1)
            #expect(reason.contains("no entry of the chain records their deletion"))
        }
    }

    @Test func theIntervalIsReadOrRefused() throws {
        var configuration = DossierConfiguration(dataDirectory: URL(fileURLWithPath: "/tmp"))
        #expect(try configuration.retentionSchedule() == .seconds(86_400))
        configuration.retentionInterval = "6 hours"
        #expect(try configuration.retentionSchedule() == .seconds(6 * 3600))
        configuration.retentionInterval = "off"
        #expect(try configuration.retentionSchedule() == nil)
        for bad in ["daily", "0 days", "-1 hours", "3 fortnights", "1e9 days"] {
            configuration.retentionInterval = bad
            #expect(throws: ConfigurationError.self) { try configuration.retentionSchedule() }
        }
    }
}
