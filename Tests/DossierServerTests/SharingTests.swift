@testable import DossierServer
import DossierCore
import DossierTestSupport
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// Share links end to end, on SQLite and PostgreSQL: what a recipient sees and downloads (the
/// watermark read back from the delivered PDF with pdftotext), what the tenant sees of it, and
/// every way a link stops answering.
@Suite("Sharing")
struct SharingTests {
    struct Tenant {
        var token: String
        var auth: HTTPHeaders { ["Authorization": "Bearer \(token)"] }
        var payslip: UUID
        var photo: UUID
        var rentReceipt: UUID
    }

    /// A confirmed tenant with a tax notice (PDF), an identity photo (JPEG) and a rent receipt.
    static func tenant(_ app: Application, email: String = "jane.doe@example.org") async throws -> Tenant {
        try await app.signUp(email: email, verified: true)
        let token = try await app.signIn(email: email)
        var ids: [UUID] = []
        for (type, name, media) in [("tax-notice", "payslip.pdf", "application/pdf"), ("identity-card", "photo-with-gps.jpg", "image/jpeg"),
                                    ("rent-receipts", "payslip.pdf", "application/pdf")] {
            try await app.upload(token: token, type: type, files: [(name, media, try upload(name))]) { res in
                #expect(res.status == .created, "\(res.body.string)")
                ids.append(try res.content.decode(RentalFileController.DocumentBody.self).id)
            }
        }
        return Tenant(token: token, payslip: ids[0], photo: ids[1], rentReceipt: ids[2])
    }

    static func share(_ app: Application, _ tenant: Tenant, kind: String = "agency", documents: [UUID]? = nil, expiresAt: Date? = nil,
                      accessCode: Bool = false,
                      status: HTTPStatus = .created) async throws -> (body: SharesController.ShareBody?, token: String, answer: String) {
        var result: (SharesController.ShareBody?, String, String) = (nil, "", "")
        try await app.testing().test(.POST, "api/v1/me/shares", headers: tenant.auth, beforeRequest: { req in
            var body = SharesController.NewShareBody(recipient: .init(name: "Agence Dupont", email: "contact@agence-dupont.example", kind: kind),
                                                     purpose: "Visite du 12 rue des Lilas", documentIds: documents, expiresAt: expiresAt)
            if accessCode { body.accessCode = true }
            try req.content.encode(body)
        }, afterResponse: { res in
            #expect(res.status == status, "\(res.body.string)")
            if res.status == .created {
                let body = try res.content.decode(SharesController.ShareBody.self)
                result = (body, String(try #require(body.url).split(separator: "/").last ?? ""), res.body.string)
            } else {
                result.2 = res.body.string
            }
        })
        return result
    }

    /// The text of a PDF, as poppler's pdftotext reads it.
    static func text(of pdf: Data) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("shared-\(UUID().uuidString).pdf")
        try pdf.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/pdftotext")
        process.arguments = ["-layout", file.path, "-"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }

    /// How many pixels of a PDF's first page, rendered at 20 dpi by pdftoppm, are the
    /// watermark's red (red above green and blue).
    static func reddish(of pdf: Data) throws -> Int {
        let ppm = try run("/usr/bin/pdftoppm", ["-r", "20", "-f", "1", "-l", "1", "-"], input: pdf)
        // P6 header: "P6", width, height, 255, each followed by whitespace.
        var fields: [String] = []
        var index = ppm.startIndex
        while fields.count < 4, index < ppm.endIndex {
            var field = ""
            while index < ppm.endIndex, ![0x20, 0x0A, 0x0D, 0x09].contains(ppm[index]) { field.append(Character(UnicodeScalar(ppm[index]))); index += 1 }
            index += 1
            if !field.isEmpty { fields.append(field) }
        }
        #expect(fields.first == "P6")
        let pixels = ppm[index...]
        var count = 0
        var offset = pixels.startIndex
        while offset + 2 < pixels.endIndex {
            let (r, g, b) = (Int(pixels[offset]), Int(pixels[offset + 1]), Int(pixels[offset + 2]))
            if r > g + 15 && r > b + 15 { count += 1 }
            offset += 3
        }
        return count
    }

    /// The names in a ZIP, in order, once Python's zipfile found every entry sound.
    static func zipEntries(_ zip: Data) throws -> [String] {
        let script = "import io, sys, zipfile\nz = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))\nassert z.testzip() is None\nprint('\\n'.join(z.namelist()))"
        let out = try run("/usr/bin/env", ["python3", "-c", script], input: zip)
        return String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Runs a tool with `input` on its standard input; its standard output.
    static func run(_ tool: String, _ arguments: [String], input: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        let writer = Thread {
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(tool) \(arguments)")
        return data
    }

    static func get(_ app: Application, _ path: String, headers: HTTPHeaders = [:]) async throws -> (status: HTTPStatus, body: Data, type: String?) {
        var answer: (HTTPStatus, Data, String?) = (.internalServerError, Data(), nil)
        try await app.testing().test(.GET, path, headers: headers) { res in
            answer = (res.status, Data(buffer: res.body), res.headers.first(name: .contentType))
        }
        return answer
    }

    @Test(arguments: TestDatabase.all)
    func aRecipientGetsWatermarkedCopiesAndTheTenantSeesEachAccess(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let tenant = try await Self.tenant(app)
            let (share, token, answer) = try await Self.share(app, tenant, documents: [tenant.payslip, tenant.photo])
            let created = try #require(share)
            #expect(created.state == .active && !created.wholeFile && Set(created.documentIds) == [tenant.payslip, tenant.photo])
            #expect(token.count == 43)
            // Only the token's hash is kept.
            let stored = try #require(try await Share.find(created.id, on: app.db))
            #expect(stored.tokenHash == SecretToken.hash(token) && !answer.isEmpty)

            let page = try await Self.get(app, "s/\(token)")
            #expect(page.status == .ok)
            let html = String(decoding: page.body, as: UTF8.self)
            #expect(html.contains("Agence Dupont") && html.contains(tenant.payslip.uuidString.lowercased()))
            #expect(!html.contains(tenant.rentReceipt.uuidString.lowercased()))

            let original = try upload("payslip.pdf")
            let document = try await Self.get(app, "s/\(token)/documents/\(tenant.payslip.uuidString.lowercased())")
            #expect(document.status == .ok && document.type == "application/pdf")
            #expect(document.body.starts(with: Data("%PDF-".utf8)))
            // The tiles are burnt into the page: rendered, the delivered page is covered with the
            // watermark's red, which the original has none of.
            #expect(try Self.reddish(of: original) == 0)
            #expect(try Self.reddish(of: document.body) > 1000)
            let text = try Self.text(of: document.body)
            #expect(text.contains("Agence Dupont") && text.contains("Visite du 12 rue des Lilas") && text.contains(created.reference))
            // The original's own text is gone: its pages are pictures now, the watermark burnt in.
            let originalText = try Self.text(of: original)
            #expect(originalText.contains("Bulletin"))
            #expect(!text.contains("Bulletin"))
            // Asked again: the same copy, from the link's cache, sealed (never plaintext at rest).
            let again = try await Self.get(app, "s/\(token)/documents/\(tenant.payslip.uuidString.lowercased())")
            #expect(again.body == document.body)
            let cached = try await ShareRendition.query(on: app.db).filter(\.$share.$id == created.id).all()
            #expect(cached.count == 1)
            let sealed = try await app.dossier.blobs.get(try #require(cached.first).blobKey)
            #expect(!sealed.starts(with: Data("%PDF".utf8)))
            let opened = try await app.dossier.vault.open(sealed, for: stored.subject,
                                                          context: ShareRendition.context(share: created.id, key: try #require(cached.first).key))
            #expect(opened == document.body)

            let picture = try await Self.get(app, "s/\(token)/documents/\(tenant.photo.uuidString.lowercased())")
            let pictureText = try Self.text(of: picture.body)
            #expect(picture.status == .ok && pictureText.contains("Agence Dupont"))

            let whole = try await Self.get(app, "s/\(token)/file.pdf")
            #expect(whole.status == .ok)
            let wholeText = try Self.text(of: whole.body)
            #expect(wholeText.contains("Contents:") && wholeText.contains("Last or second-to-last tax notice") && wholeText.contains("Agence Dupont"))
            #expect(!wholeText.contains("rent receipts"))
            let zip = try await Self.get(app, "s/\(token)/file.zip")
            #expect(zip.status == .ok && zip.type == "application/zip" && zip.body.starts(with: Data([0x50, 0x4B, 0x03, 0x04])))
            // Python's zipfile checks every entry's CRC, size and offset.
            #expect(try Self.zipEntries(zip.body) == ["contents.txt", "01-tax-notice.pdf", "02-identity-card.pdf"])

            // The tenant's access log, newest first; the audit trail has each access too.
            var accesses: [SharesController.AccessBody] = []
            try await app.testing().test(.GET, "api/v1/me/shares/\(created.id)/accesses", headers: tenant.auth, afterResponse: { res in
                #expect(res.status == .ok)
                accesses = try res.content.decode([SharesController.AccessBody].self)
            })
            #expect(accesses.map(\.action) == [.fileZIP, .filePDF, .document, .document, .document, .view])
            #expect(accesses.filter { $0.documentId == tenant.payslip }.count == 2)
            let audited = try await AuditRecord.query(on: app.db).filter(\.$action == "share.accessed").count()
            #expect(audited == 6)

            // Revoked: refused for good, and its cached copies deleted.
            try await app.testing().test(.DELETE, "api/v1/me/shares/\(created.id)", headers: tenant.auth) { res in #expect(res.status == .noContent) }
            for path in ["s/\(token)", "s/\(token)/documents/\(tenant.payslip.uuidString.lowercased())", "s/\(token)/file.pdf", "s/\(token)/file.zip"] {
                #expect(try await Self.get(app, path).status == .gone, "\(path)")
            }
            #expect(try await ShareRendition.query(on: app.db).count() == 0)
            #expect(try await app.dossier.blobs.exists(try #require(cached.first).blobKey) == false)
            try await app.testing().test(.GET, "api/v1/me/shares", headers: tenant.auth, afterResponse: { res in
                let listed = try res.content.decode([SharesController.ShareBody].self)
                #expect(listed.first?.state == .revoked)
            })
        }
    }

    @Test(arguments: TestDatabase.all)
    func aLinkEndsOnItsDayAndNeverOutlivesTheRegister(database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            let tenant = try await Self.tenant(app)
            // 30 days by default.
            let (share, token, _) = try await Self.share(app, tenant)
            #expect(try #require(share).expiresAt == RetentionPeriod(30, .day).added(to: testEpoch))
            #expect(try #require(share).wholeFile)
            // The register allows 3 months for an agency: one second more is refused, in the past too.
            let latest = RetentionPeriod(3, .month).added(to: testEpoch)
            let tooLate = try await Self.share(app, tenant, expiresAt: latest + 1, status: .unprocessableEntity)
            #expect(tooLate.answer.contains("expiresAt"))
            _ = try await Self.share(app, tenant, expiresAt: testEpoch - 60, status: .unprocessableEntity)
            _ = try await Self.share(app, tenant, expiresAt: latest, status: .created)
            // An explicit null is not "the whole file"; fractional seconds are a date-time too.
            for (body, status) in [(#"{"recipient":{"name":"A","email":"a@example.org","kind":"agency"},"purpose":"P","documentIds":null}"#, HTTPStatus.unprocessableEntity),
                                   (#"{"recipient":{"name":"A","email":"a@example.org","kind":"agency"},"purpose":"P","expiresAt":"2027-01-20T10:00:00.5Z"}"#, .created),
                                   (#"{"recipient":{"name":"A","email":"a@example.org","kind":"agency"},"purpose":"P","expiresAt":"next week"}"#, .unprocessableEntity)] {
                try await app.testing().test(.POST, "api/v1/me/shares", headers: ["Authorization": "Bearer \(tenant.token)", "Content-Type": "application/json"], beforeRequest: { req in
                    req.body = ByteBuffer(string: body)
                }, afterResponse: { res in #expect(res.status == status, "\(body): \(res.body.string)") })
            }

            // A copy made before the end, then the link ends: the background sweep takes its
            // copies even though nobody asks for the link again.
            #expect(try await Self.get(app, "s/\(token)/documents/\(tenant.payslip)").status == .ok)
            clock.advance(by: 30 * 86400 - 1)
            #expect(try await Self.get(app, "s/\(token)").status == .ok)
            #expect(try await ShareService.sweepClosedRenditions(on: app.db, blobs: app.dossier.blobs, now: clock.now) == 0)
            clock.advance(by: 1)
            let kept = try await ShareRendition.query(on: app.db).all().map(\.blobKey)
            #expect(kept.count == 1)
            #expect(try await ShareService.sweepClosedRenditions(on: app.db, blobs: app.dossier.blobs, now: clock.now) == 1)
            #expect(try await ShareRendition.query(on: app.db).count() == 0)
            #expect(try await app.dossier.blobs.exists(kept[0]) == false)
            let expired = try await Self.get(app, "s/\(token)")
            #expect(expired.status == .gone && String(decoding: expired.body, as: UTF8.self).contains("expir"))
            // (Signed in again: a session lasts less than the link did.)
            let again = try await app.signIn()
            try await app.testing().test(.POST, "api/v1/me/shares/\(try #require(share).id)/resume", headers: ["Authorization": "Bearer \(again)"]) { res in
                #expect(res.status == .conflict)
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func nothingOutsideALinkIsReachable(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let tenant = try await Self.tenant(app)
            let other = try await Self.tenant(app, email: "other@example.org")
            let (_, token, _) = try await Self.share(app, tenant, documents: [tenant.payslip])
            // Another of the tenant's documents, another tenant's, a made-up id, not an id: one answer.
            var answers: Set<String> = []
            for id in [tenant.photo.uuidString, other.payslip.uuidString, UUID().uuidString, "not-an-id"] {
                let answer = try await Self.get(app, "s/\(token)/documents/\(id)")
                #expect(answer.status == .notFound)
                answers.insert(String(decoding: answer.body, as: UTF8.self).replacingOccurrences(of: id, with: ""))
            }
            #expect(answers.count == 1)
            // The whole-file PDF of a link to one document holds that document only.
            let whole = try Self.text(of: try await Self.get(app, "s/\(token)/file.pdf").body)
            #expect(!whole.contains("identity card"))

            // Documents the tenant does not own, or that the register does not let this recipient
            // have (an insurer gets no proof of address): refused when sharing, nothing stored.
            let before = try await Share.query(on: app.db).count()
            _ = try await Self.share(app, tenant, documents: [other.payslip], status: .unprocessableEntity)
            _ = try await Self.share(app, tenant, kind: "insurer", documents: [tenant.rentReceipt], status: .unprocessableEntity)
            _ = try await Self.share(app, tenant, documents: [tenant.payslip, tenant.payslip], status: .unprocessableEntity)
            _ = try await Self.share(app, tenant, kind: "auditor", status: .unprocessableEntity)
            #expect(try await Share.query(on: app.db).count() == before)
            // A whole-file link to an insurer shows no proof of address.
            let (_, insurer, _) = try await Self.share(app, tenant, kind: "insurer")
            let page = String(decoding: try await Self.get(app, "s/\(insurer)").body, as: UTF8.self)
            #expect(page.contains(tenant.payslip.uuidString.lowercased()) && !page.contains(tenant.rentReceipt.uuidString.lowercased()))
            // A document deleted from the file takes its recipients' copies with it.
            #expect(try await ShareRendition.query(on: app.db).count() > 0)
            try await app.testing().test(.DELETE, "api/v1/me/documents/\(tenant.payslip)", headers: tenant.auth) { res in #expect(res.status == .noContent) }
            #expect(try await ShareRendition.query(on: app.db).count() == 0)
            #expect(try await Self.get(app, "s/\(token)/documents/\(tenant.payslip)").status == .notFound)
            // Another tenant's link id is not the tenant's to revoke.
            let (otherShare, _, _) = try await Self.share(app, other)
            try await app.testing().test(.DELETE, "api/v1/me/shares/\(try #require(otherShare).id)", headers: tenant.auth) { res in
                #expect(res.status == .notFound)
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func guessingTokensIsStoppedAndPausedLinksWait(database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            let tenant = try await Self.tenant(app)
            let (share, token, _) = try await Self.share(app, tenant)
            let id = try #require(share).id
            try await app.testing().test(.POST, "api/v1/me/shares/\(id)/pause", headers: tenant.auth, afterResponse: { res in
                let paused = try res.content.decode(SharesController.ShareBody.self)
                #expect(paused.state == .paused)
            })
            #expect(try await Self.get(app, "s/\(token)").status == .forbidden)
            #expect(try await Self.get(app, "s/\(token)/file.pdf").status == .forbidden)
            #expect(try await Self.get(app, "s/\(token)/documents/\(tenant.payslip)").status == .forbidden)
            try await app.testing().test(.POST, "api/v1/me/shares/\(id)/resume", headers: tenant.auth, afterResponse: { res in
                let resumed = try res.content.decode(SharesController.ShareBody.self)
                #expect(resumed.state == .active)
            })
            #expect(try await Self.get(app, "s/\(token)").status == .ok)

            // Unknown tokens from one address: answered 404 up to the limit, then 429 for every
            // link, a real one too, until the wait is over.
            for _ in 0..<ShareRules.guessing.maximumFailures {
                #expect(try await Self.get(app, "s/\(SecretToken.generate())").status == .notFound)
            }
            let blocked = try await Self.get(app, "s/\(token)")
            #expect(blocked.status == .tooManyRequests)
            clock.advance(by: ShareRules.guessing.baseDelay + 1)
            #expect(try await Self.get(app, "s/\(token)").status == .ok)
        }
    }

    @Test(arguments: TestDatabase.all)
    func recipientsAreToldOfRectificationAndErasureWithoutTheData(database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            let tenant = try await Self.tenant(app)
            _ = try await Self.share(app, tenant)
            // A link revoked unused (its recipient received nothing), and one revoked after use.
            let unused = try #require(try await Self.share(app, tenant).body)
            let (usedShare, usedToken, _) = try await Self.share(app, tenant)
            let used = try #require(usedShare)
            #expect(try await Self.get(app, "s/\(usedToken)").status == .ok)
            for id in [unused.id, used.id] {
                try await app.testing().test(.DELETE, "api/v1/me/shares/\(id)", headers: tenant.auth) { res in #expect(res.status == .noContent) }
            }
            let recipient = "contact@agence-dupont.example"
            #expect(try await app.outboxTexts(to: recipient).isEmpty)

            try await app.testing().test(.PATCH, "api/v1/me/profile", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["monthlyIncome": 3210], as: .json)
            }, afterResponse: { res in #expect(res.status == .ok) })
            // The open link's recipient and the one who received the file are told; not the unused revoked link's.
            var texts = try await app.outboxTexts(to: recipient)
            #expect(texts.count == 2)
            let notice = try #require(texts.first)
            #expect(notice.contains("Article 19") && notice.contains("corrected information") && notice.contains("Jane Doe"))
            #expect(!notice.contains("3210") && !notice.contains("3 210"))
            // A second correction within the hour: the recipient already knows the file changed.
            try await app.testing().test(.PATCH, "api/v1/me/profile", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["monthlyIncome": 3300], as: .json)
            }, afterResponse: { res in #expect(res.status == .ok) })
            #expect(try await app.outboxTexts(to: recipient).count == 2)
            // An hour later, the same value again rectifies nothing: nobody is told.
            clock.advance(by: RecipientNotice.quietPeriod)
            try await app.testing().test(.PATCH, "api/v1/me/profile", headers: tenant.auth, beforeRequest: { req in
                try req.content.encode(["monthlyIncome": 3300], as: .json)
            }, afterResponse: { res in #expect(res.status == .ok) })
            #expect(try await app.outboxTexts(to: recipient).count == 2)
            // A document deleted: told it was erased.
            try await app.testing().test(.DELETE, "api/v1/me/documents/\(tenant.photo)", headers: tenant.auth) { res in #expect(res.status == .noContent) }
            texts = try await app.outboxTexts(to: recipient)
            // Three to one address in a day at most: the third link's notice is the last today.
            #expect(texts.count == RecipientNotice.perAddressPerDay && texts.contains { $0.contains("erased information") })
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "share.recipient-notified").count() == 3)
        }
    }

    @Test(arguments: TestDatabase.all)
    func theSharingPageCreatesListsAndRevokesLinks(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let tenant = try await Self.tenant(app)
            let (browser, csrf, _) = try await app.browserSignedIn()
            var headers = browser.cookieHeader
            headers.contentType = .urlEncodedForm
            let post = { (path: String, body: String) async throws -> (HTTPStatus, String, String?) in
                var answer: (HTTPStatus, String, String?) = (.internalServerError, "", nil)
                try await app.testing().test(.POST, path, headers: headers, body: .init(string: body)) { res in
                    answer = (res.status, res.body.string, res.headers.first(name: .location))
                }
                return answer
            }
            // A mistake is shown next to its field, and nothing is stored.
            let refused = try await post("file/sharing?lang=en", "csrf=\(csrf)&kind=agency&name=&email=nobody&purpose=Visit&scope=whole")
            #expect(refused.0 == .unprocessableEntity && refused.1.contains("id=\"name-error\"") && refused.1.contains("id=\"email-error\""))
            #expect(try await Share.query(on: app.db).count() == 0)
            // Two chosen documents, until a day: the address is shown once.
            let payslip = tenant.payslip.uuidString.lowercased(), photo = tenant.photo.uuidString.lowercased()
            let created = try await post("file/sharing?lang=en", "csrf=\(csrf)&kind=agency&name=Agence%20Dupont&email=contact%40agence-dupont.example"
                                         + "&purpose=Visite&scope=chosen&documents%5B%5D=\(payslip)&documents%5B%5D=\(photo)&until=2099-01-01")
            #expect(created.0 == .unprocessableEntity && created.1.contains("until-error"))
            let until = ShareWatermark.day(of: Date().addingTimeInterval(10 * 86400))
            let made = try await post("file/sharing?lang=en", "csrf=\(csrf)&kind=agency&name=Agence%20Dupont&email=contact%40agence-dupont.example"
                                      + "&purpose=Visite&scope=chosen&documents%5B%5D=\(payslip)&documents%5B%5D=\(photo)&until=\(until)")
            #expect(made.0 == .created)
            let link = try #require(made.1.range(of: #"id="created-link" href="([^"]+)""#, options: .regularExpression).map { String(made.1[$0]) })
            let token = String(try #require(link.split(separator: "/").last).dropLast())
            let share = try #require(try await Share.query(on: app.db).first())
            let chosen = try await ShareService(database: app.db, services: app.dossier, logger: app.logger).chosenDocuments(of: share)
            #expect(!share.wholeFile && Set(chosen) == [tenant.payslip, tenant.photo])
            #expect(ShareWatermark.day(of: share.expiresAt) == until)
            // The recipient looks; the tenant sees it in the link's access log, then revokes it.
            #expect(try await Self.get(app, "s/\(token)/documents/\(payslip)").status == .ok)
            var page = ""
            try await app.testing().test(.GET, "file/sharing?lang=en", headers: browser.cookieHeader) { res in page = res.body.string }
            #expect(page.contains("Agence Dupont") && page.contains("Views (1)") && !page.contains("created-link"))
            let id = try share.requireID().uuidString.lowercased()
            let revoked = try await post("file/sharing/\(id)/revoke", "csrf=\(csrf)")
            #expect(revoked.0 == .seeOther)
            #expect(try await Self.get(app, "s/\(token)").status == .gone)
            // Another's link id: not found, nothing changed.
            #expect(try await post("file/sharing/\(UUID().uuidString)/pause", "csrf=\(csrf)").0 == .notFound)
            // A certificate from the same page.
            #expect(try await post("file/certificates", "csrf=\(csrf)&rent=abc").0 == .unprocessableEntity)
            #expect(try await post("file/certificates", "csrf=\(csrf)&rent=950").0 == .seeOther)
            #expect(try await FileCertificateRecord.query(on: app.db).count() == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func wrongAccessCodesLockTheLinkAndTellTheTenant(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let tenant = try await Self.tenant(app)
            let (created, token, _) = try await Self.share(app, tenant, accessCode: true)
            let share = try #require(created)
            let code = try #require(share.accessCode)
            #expect(share.protected && ShareRules.isAccessCode(code))
            // Listed later, the code is not given again (only its hash is kept).
            try await app.testing().test(.GET, "api/v1/me/shares", headers: tenant.auth, afterResponse: { res in
                let listed = try res.content.decode([SharesController.ShareBody].self)
                #expect(listed.first?.accessCode == nil && listed.first?.protected == true)
            })
            // Without the code: asked for it, nothing delivered.
            for path in ["s/\(token)", "s/\(token)/file.pdf", "s/\(token)/documents/\(tenant.payslip)"] {
                let answer = try await Self.get(app, path)
                #expect(answer.status == .unauthorized && String(decoding: answer.body, as: UTF8.self).contains("code-form"), "\(path)")
            }
            // With it, in a header (an API client): served.
            #expect(try await Self.get(app, "s/\(token)/file.pdf", headers: ["X-Access-Code": code]).status == .ok)
            // In the form: a cookie admits the browser.
            let browser = WebTests.Browser()
            var csrf = ""
            try await app.testing().test(.GET, "s/\(token)") { res in
                browser.keep(res)
                csrf = try #require(browser.csrf(in: res.body.string))
            }
            var headers = browser.cookieHeader
            headers.contentType = .urlEncodedForm
            try await app.testing().test(.POST, "s/\(token)/code", headers: headers, body: .init(string: "csrf=\(csrf)&code=\(code)")) { res in
                #expect(res.status == .seeOther)
                browser.keep(res)
            }
            #expect(try await Self.get(app, "s/\(token)", headers: browser.cookieHeader).status == .ok)
            // This link's proof, sent as another link's cookie, admits nothing there.
            let (otherShare, other, _) = try await Self.share(app, tenant, accessCode: true)
            let proof = try #require(browser.cookies.first { $0.key.hasPrefix("dossier_share_") }?.value)
            let otherCookie = "dossier_share_\(try #require(otherShare).reference)"
            #expect(try await Self.get(app, "s/\(other)", headers: ["Cookie": "\(otherCookie)=\(proof)"]).status == .unauthorized)

            // Five wrong codes in an hour: locked for everyone, the right code too, and the tenant told.
            let wrong = code == "000000" ? "000001" : "000000"
            headers = browser.cookieHeader
            headers.contentType = .urlEncodedForm
            for attempt in 1...ShareRules.maximumCodeFailures {
                try await app.testing().test(.POST, "s/\(token)/code", headers: headers, body: .init(string: "csrf=\(csrf)&code=\(wrong)")) { res in
                    #expect(res.status == (attempt < ShareRules.maximumCodeFailures ? .unauthorized : .forbidden), "attempt \(attempt)")
                }
            }
            #expect(try await Self.get(app, "s/\(token)", headers: browser.cookieHeader).status == .forbidden)
            #expect(try await Self.get(app, "s/\(token)/file.pdf", headers: ["X-Access-Code": code]).status == .forbidden)
            let told = try await app.outboxTexts(to: "jane.doe@example.org")
            #expect(told.contains { $0.contains("is locked") && $0.contains(share.reference) })
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "share.locked").count() == 1)
            // The tenant resumes it: the recipient's cookie works again.
            try await app.testing().test(.POST, "api/v1/me/shares/\(share.id)/resume", headers: tenant.auth, afterResponse: { res in
                let resumed = try res.content.decode(SharesController.ShareBody.self)
                #expect(resumed.state == .active)
            })
            #expect(try await Self.get(app, "s/\(token)", headers: browser.cookieHeader).status == .ok)
        }
    }

    @Test(arguments: TestDatabase.all)
    func wrongCodesSentAtOnceAreJudgedOneByOne(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let tenant = try await Self.tenant(app)
            let (created, token, _) = try await Self.share(app, tenant, accessCode: true)
            let share = try #require(created)
            let code = try #require(share.accessCode)
            let wrong = (0..<12).map { String(format: "%06d", (Int(code)! + 1 + $0) % 1_000_000) }
            // Twelve wrong codes and then the right one, all at once: five are judged, the link
            // locks, and nothing after (the right code included) is compared.
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for guess in wrong + [code] {
                    group.addTask { try await Self.get(app, "s/\(token)/file.pdf", headers: ["X-Access-Code": guess]).status }
                }
                return try await group.reduce(into: [HTTPStatus]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count <= ShareRules.maximumCodeFailures - 1)
            #expect(try await Share.query(on: app.db).first()?.lockedAt != nil)
            #expect(try await Self.get(app, "s/\(token)/file.pdf", headers: ["X-Access-Code": code]).status == .forbidden)
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "share.locked").count() == 1)
        }
    }

}
