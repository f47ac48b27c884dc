@testable import DossierServer
import DossierCore
import DossierTestSupport
import Fluent
import Foundation
import SQLKit
import Testing
import VaporTesting

@Suite("Rental file: uploads, vault, profile, visibility, review")
struct RentalFileTests {
    /// Every file under the blob directory.
    func blobFiles(_ app: Application) -> [URL] {
        let enumerator = FileManager.default.enumerator(at: app.dossier.configuration.blobDirectory, includingPropertiesForKeys: nil)
        return (enumerator?.allObjects as? [URL] ?? []).filter { !$0.hasDirectoryPath && $0.pathExtension.isEmpty }
    }

    @Test(arguments: TestDatabase.all)
    func refusedUploadsStoreNothing(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp(verified: true)
            let token = try await app.signIn()
            let payslip = try upload("payslip.pdf")
            // A document the law forbids, with why.
            try await app.upload(token: token, type: "bank-statement", files: [("releve.pdf", "application/pdf", payslip)]) { res in
                #expect(res.status == .unprocessableEntity)
                let message = try res.content.decode(ErrorBody.self).error.message
                #expect(message.contains("Bank or postal account statement"))
                #expect(message.contains("article 22-2 of law 89-462"))
            }
            // A PNG named .pdf, and an HTML page declared as a PDF.
            try await app.upload(token: token, type: "identity-card", files: [("scan.pdf", "application/pdf", try upload("scan-named.pdf"))]) { res in
                #expect(res.status == .unsupportedMediaType)
                let message = try res.content.decode(ErrorBody.self).error.message
                #expect(message == "scan.pdf: The file is named .pdf but its content is a PNG.")
            }
            try await app.upload(token: token, type: "identity-card", files: [("id.pdf", "application/pdf", try upload("page.html"))]) { res in
                #expect(res.status == .unsupportedMediaType)
            }
            // PDFs that act: plain and hidden in a compressed object stream.
            for name in ["javascript.pdf", "hidden-javascript.pdf", "embedded-file.pdf"] {
                try await app.upload(token: token, type: "tax-notice", files: [(name, "application/pdf", try upload(name))]) { res in
                    #expect(res.status == .unprocessableEntity, "\(name)")
                    let message = try res.content.decode(ErrorBody.self).error.message
                    #expect(message.contains("active content"), "\(name)")
                }
            }
            // 20 MB + 1 byte, as the second file of three: the whole document is refused.
            let oversize = Data("%PDF-1.7\n%".utf8) + Data(repeating: 0x41, count: FileInspector.maximumSize - payslip.count) + payslip.dropFirst(9)
            #expect(oversize.count == FileInspector.maximumSize + 1)
            try await app.upload(token: token, type: "payslips", files: [("1.pdf", "application/pdf", payslip), ("2.pdf", "application/pdf", oversize), ("3.pdf", "application/pdf", payslip)]) { res in
                #expect(res.status == .payloadTooLarge)
                let message = try res.content.decode(ErrorBody.self).error.message
                #expect(message == "2.pdf: The file is larger than 20 MB.")
            }
            // An unknown type, a missing type, no file.
            try await app.upload(token: token, type: "selfie", files: [("a.pdf", "application/pdf", payslip)]) { res in
                #expect(res.status == .unprocessableEntity)
            }
            try await app.upload(token: token, type: "", files: [("a.pdf", "application/pdf", payslip)]) { res in
                #expect(res.status == .unprocessableEntity)
            }
            try await app.upload(token: token, type: "payslips", files: []) { res in
                #expect(res.status == .badRequest)
            }
            let documents = try await Document.query(on: app.db).count()
            let files = try await DocumentFile.query(on: app.db).count()
            #expect(documents == 0)
            #expect(files == 0)
            #expect(blobFiles(app).isEmpty)
        }
    }

    @Test(arguments: TestDatabase.all)
    func storedBytesAreEncryptedAndImagesLoseTheirMetadata(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp(verified: true)
            let token = try await app.signIn()
            let payslip = try upload("payslip.pdf")
            var documentID: UUID?
            try await app.upload(token: token, type: "payslips", files: [("mars.pdf", "application/pdf", payslip), ("avril.pdf", "application/pdf", payslip), ("mai.pdf", "application/pdf", payslip)]) { res in
                #expect(res.status == .created)
                let body = try res.content.decode(RentalFileController.DocumentBody.self)
                #expect(body.files.map(\.name) == ["mars.pdf", "avril.pdf", "mai.pdf"])
                #expect(body.status == "pending")
                documentID = body.id
            }
            var photoID: UUID?
            try await app.upload(token: token, type: "identity-card", files: [("../../etc/passwd.jpg", "image/jpeg", try upload("photo-with-gps.jpg"))]) { res in
                #expect(res.status == .created)
                photoID = try res.content.decode(RentalFileController.DocumentBody.self).id
            }
            // On disk: four blobs, none of them the plaintext, none named after the upload.
            let blobs = blobFiles(app)
            #expect(blobs.count == 4)
            for blob in blobs {
                let bytes = try Data(contentsOf: blob)
                #expect(bytes.range(of: Data("Bulletin de salaire".utf8)) == nil)
                #expect(bytes.range(of: Data("%PDF".utf8)) == nil)
                #expect(bytes.range(of: Data([0xFF, 0xD8, 0xFF])) == nil)
                #expect(!blob.path.contains("passwd"))
            }
            // Read back: the same bytes for the PDF; the photo without EXIF and GPS.
            try await app.testing().test(.GET, "api/v1/me/documents/\(try #require(documentID))/content?file=2", headers: ["Authorization": "Bearer \(token)"]) { res in
                #expect(res.status == .ok)
                #expect(res.headers.contentType?.description == "application/pdf")
                #expect(Data(res.body.readableBytesView) == payslip)
                #expect(res.headers.first(name: .contentDisposition) == "inline; filename=\"avril.pdf\"")
            }
            try await app.testing().test(.GET, "api/v1/me/documents/\(try #require(photoID))/content", headers: ["Authorization": "Bearer \(token)"]) { res in
                #expect(res.status == .ok)
                let bytes = Data(res.body.readableBytesView)
                #expect(Array(bytes.prefix(3)) == [0xFF, 0xD8, 0xFF])
                #expect(bytes.range(of: Data("Exif".utf8)) == nil)
                #expect(bytes.range(of: Data("PhoneMaker".utf8)) == nil)
            }
            // A stored blob altered on disk is caught, not served.
            let photo = try #require(photoID)
            let photoFile = try #require(try await DocumentFile.query(on: app.db).filter(\.$document.$id == photo).first())
            let path = try FileBlobStore(directory: app.dossier.configuration.blobDirectory).url(for: photoFile.blobKey)
            var tampered = try Data(contentsOf: path)
            tampered[tampered.count / 2] ^= 0xFF
            try tampered.write(to: path)
            try await app.testing().test(.GET, "api/v1/me/documents/\(try #require(photoID))/content", headers: ["Authorization": "Bearer \(token)"]) { res in
                #expect(res.status == .internalServerError)
                #expect(!res.body.string.contains("FF"))
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func cryptoShreddingLeavesNothingReadable(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let accountID = try await app.signUp(verified: true)
            let token = try await app.signIn()
            var documentID: UUID?
            try await app.upload(token: token, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                documentID = try res.content.decode(RentalFileController.DocumentBody.self).id
            }
            try await app.testing().test(.PATCH, "api/v1/me/profile", headers: ["Authorization": "Bearer \(token)"], beforeRequest: { req in
                try req.content.encode(["monthlyIncome": 3210, "savings": 45678], as: .json)
            }, afterResponse: { res in #expect(res.status == .ok) })
            // The profile row holds no figure in clear.
            let sealedProfile = try #require(try await Profile.query(on: app.db).first()).sealed
            #expect(sealedProfile.range(of: Data("3210".utf8)) == nil)
            #expect(sealedProfile.range(of: Data("45678".utf8)) == nil)

            let account = try #require(try await Account.find(accountID, on: app.db))
            let blobsBefore = blobFiles(app).map { try? Data(contentsOf: $0) }
            try await app.dossier.vault.shred(account.subject)

            try await app.testing().test(.GET, "api/v1/me/documents/\(try #require(documentID))/content", headers: ["Authorization": "Bearer \(token)"]) { res in
                #expect(res.status == .gone)
            }
            try await app.testing().test(.GET, "api/v1/me/profile", headers: ["Authorization": "Bearer \(token)"]) { res in
                #expect(res.status == .gone)
            }
            // The bytes are all still there, as in a backup: no key, no data.
            let stored = try #require(try await SubjectKey.query(on: app.db(.keys)).filter(\.$subject == account.subject).first())
            #expect(stored.wrappedKey == nil)
            #expect(stored.destroyedAt != nil)
            #expect(blobFiles(app).map { try? Data(contentsOf: $0) } == blobsBefore)
            let file = try #require(try await DocumentFile.query(on: app.db).first())
            let sealed = try Data(contentsOf: FileBlobStore(directory: app.dossier.configuration.blobDirectory).url(for: file.blobKey))
            await #expect(throws: KeyVault.Shredded.self) {
                _ = try await app.dossier.vault.open(sealed, for: account.subject, context: "document-file:\(file.blobKey)")
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func coupleSeeEachOtherFlatmatesDoNot(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            // A couple: Alice and Bob.
            let alice = try await app.signUp(email: "alice@example.org", firstName: "Alice", verified: true)
            let bob = try await app.signUp(email: "bob@example.org", firstName: "Bob", verified: true)
            let aliceToken = try await app.signIn(email: "alice@example.org")
            let bobToken = try await app.signIn(email: "bob@example.org")
            let aliceDocument = try await uploadPayslip(app, token: aliceToken)
            let coupleCode = try await createApplication(app, token: aliceToken, kind: "couple")
            try await join(app, token: bobToken, code: coupleCode, expect: .ok)
            try await approve(app, token: aliceToken, member: bob)
            try await app.testing().test(.GET, "api/v1/me/application", headers: ["Authorization": "Bearer \(bobToken)"]) { res in
                let body = try res.content.decode(RentalFileController.ApplicationBody.self)
                let partner = try #require(body.members.first { $0.account == alice })
                #expect(partner.documents?.map(\.id) == [aliceDocument])
                #expect(body.joinCode == nil)
            }
            try await app.testing().test(.GET, "api/v1/me/application/members/\(alice)/documents/\(aliceDocument)/content", headers: ["Authorization": "Bearer \(bobToken)"]) { res in
                #expect(res.status == .ok)
            }
            // A third person cannot join a couple.
            let carol = try await app.signUp(email: "carol@example.org", firstName: "Carol", verified: true)
            let carolToken = try await app.signIn(email: "carol@example.org")
            try await join(app, token: carolToken, code: coupleCode, expect: .conflict)

            // Flatmates: Dan and Carol see each other's names, never each other's files.
            let dan = try await app.signUp(email: "dan@example.org", firstName: "Dan", verified: true)
            let danToken = try await app.signIn(email: "dan@example.org")
            let danDocument = try await uploadPayslip(app, token: danToken)
            let groupCode = try await createApplication(app, token: danToken, kind: "group")
            try await join(app, token: carolToken, code: groupCode, expect: .ok)
            try await approve(app, token: danToken, member: carol)
            try await app.testing().test(.GET, "api/v1/me/application", headers: ["Authorization": "Bearer \(carolToken)"]) { res in
                let body = try res.content.decode(RentalFileController.ApplicationBody.self)
                let flatmate = try #require(body.members.first { $0.account == dan })
                #expect(flatmate.firstName == "Dan")
                #expect(flatmate.documents == nil)
                #expect(flatmate.completeness == nil)
            }
            for (token, owner, document) in [(carolToken, dan, danDocument), (aliceToken, dan, danDocument), (danToken, alice, aliceDocument)] {
                try await app.testing().test(.GET, "api/v1/me/application/members/\(owner)/documents/\(document)/content", headers: ["Authorization": "Bearer \(token)"]) { res in
                    #expect(res.status == .notFound)
                }
            }
            // Nor can anyone reach another tenant's document through their own routes.
            try await app.testing().test(.GET, "api/v1/me/documents/\(danDocument)/content", headers: ["Authorization": "Bearer \(carolToken)"]) { res in
                #expect(res.status == .notFound)
            }
            // Bob's readings of Alice's file (listing, opening a document) are in the audit trail.
            let aliceSubject = try #require(try await Account.find(alice, on: app.db)).subject
            let bobSubject = try #require(try await Account.find(bob, on: app.db)).subject
            let reads = try await AuditRecord.query(on: app.db).filter(\.$action ~~ ["file.read", "document.read"]).filter(\.$subject == aliceSubject).all()
            #expect(reads.map(\.action).sorted() == ["document.read", "file.read"])
            #expect(reads.allSatisfy { $0.subject == aliceSubject && $0.actor == bobSubject })
        }
    }

    func uploadPayslip(_ app: Application, token: String) async throws -> UUID {
        var id: UUID?
        try await app.upload(token: token, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
            #expect(res.status == .created)
            id = try res.content.decode(RentalFileController.DocumentBody.self).id
        }
        return try #require(id)
    }

    func createApplication(_ app: Application, token: String, kind: String) async throws -> String {
        var code: String?
        try await app.testing().test(.POST, "api/v1/me/application", headers: ["Authorization": "Bearer \(token)"], beforeRequest: { req in
            try req.content.encode(["kind": kind])
        }, afterResponse: { res in
            #expect(res.status == .created)
            code = try res.content.decode(RentalFileController.ApplicationBody.self).joinCode
        })
        return try #require(code)
    }

    func approve(_ app: Application, token: String, member: UUID) async throws {
        try await app.testing().test(.POST, "api/v1/me/application/members/\(member)/approve", headers: ["Authorization": "Bearer \(token)"]) { res in
            #expect(res.status == .ok)
        }
    }

    func join(_ app: Application, token: String, code: String, expect status: HTTPStatus) async throws {
        try await app.testing().test(.POST, "api/v1/me/application/join", headers: ["Authorization": "Bearer \(token)"], beforeRequest: { req in
            try req.content.encode(["code": code])
        }, afterResponse: { res in #expect(res.status == status) })
    }

    @Test(arguments: TestDatabase.all)
    func guarantorsProfileAndCompleteness(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp(verified: true)
            let token = try await app.signIn()
            let auth: HTTPHeaders = ["Authorization": "Bearer \(token)"]
            var guarantor: UUID?
            try await app.testing().test(.POST, "api/v1/me/guarantors", headers: auth, beforeRequest: { req in
                try req.content.encode(["kind": "guarantor", "name": "Paul Doe", "email": "paul@example.org"])
            }, afterResponse: { res in
                #expect(res.status == .created)
                guarantor = try res.content.decode(RentalFileController.GuarantorBody.self).id
            })
            try await app.testing().test(.POST, "api/v1/me/guarantors", headers: auth, beforeRequest: { req in
                try req.content.encode(["kind": "organisation", "name": "Visale"])
            }, afterResponse: { res in #expect(res.status == .created) })
            try await app.testing().test(.POST, "api/v1/me/guarantors", headers: auth, beforeRequest: { req in
                try req.content.encode(["kind": "company", "name": "Third SAS"])
            }, afterResponse: { res in
                #expect(res.status == .conflict)
                let message = try res.content.decode(ErrorBody.self).error.message
                #expect(message == "At most two guarantors per tenant.")
            })
            // The guarantor's own documents, under their own key.
            try await app.upload(token: token, type: "passport", files: [("passeport.pdf", "application/pdf", try upload("payslip.pdf"))], guarantor: guarantor) { res in
                #expect(res.status == .created)
            }
            // A type another kind of person provides is refused for this one.
            try await app.upload(token: token, type: "visale-certificate", files: [("v.pdf", "application/pdf", try upload("payslip.pdf"))], guarantor: guarantor) { res in
                #expect(res.status == .unprocessableEntity)
            }
            let guarantorRecord = try #require(try await Guarantor.find(guarantor, on: app.db))
            let document = try #require(try await Document.query(on: app.db).first())
            #expect(document.subject == guarantorRecord.subject)

            // A student needs proof of enrolment rather than of income.
            try await app.testing().test(.PATCH, "api/v1/me/profile", headers: auth, beforeRequest: { req in
                try req.content.encode(["professionalStatus": "student", "birthDate": "1990-02-30", "phone": "call me"], as: .json)
            }, afterResponse: { res in
                #expect(res.status == .unprocessableEntity)
                let fields = try res.content.decode(AccountTests.FieldsBody.self).error.fields
                #expect(Set(fields.map(\.field)) == ["birthDate", "phone"])
            })
            try await app.testing().test(.PATCH, "api/v1/me/profile", headers: auth, beforeRequest: { req in
                try req.content.encode(["professionalStatus": "student", "city": "Lyon", "lastName": "Doe-Martin"], as: .json)
            }, afterResponse: { res in
                #expect(res.status == .ok)
                let body = try res.content.decode(RentalFileController.ProfileBody.self)
                #expect(body.profile.city == "Lyon")
                #expect(body.lastName == "Doe-Martin")
                #expect(body.mandatory.contains("firstName"))
            })
            try await app.testing().test(.GET, "api/v1/me/completeness", headers: auth) { res in
                let people = try res.content.decode([RentalFileService.PersonCompleteness].self)
                #expect(people.map(\.kind) == [.tenant, .guarantor, .organisation])
                #expect(people[0].categories.map(\.category) == ["identity", "address", "enrolment"])
                #expect(people[1].name == "Paul Doe")
                #expect(people[1].categories.first { $0.category == "identity" }?.complete == true)
                #expect(people[2].categories.map(\.category) == ["guarantee"])
            }
        }
    }

    /// The document list is one joined query (documents × files × reviews): each file and each
    /// review comes back once, in order, for documents with several of each and with none.
    @Test(arguments: TestDatabase.all)
    func theDocumentListReadsEveryFileAndReviewOnce(database: TestDatabase) async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock) { app in
            _ = try await app.signUp(verified: true)
            let token = try await app.signIn()
            let pdf = try upload("payslip.pdf")
            var several: UUID?
            try await app.upload(token: token, type: "tax-notice", files: [("one.pdf", "application/pdf", pdf), ("two.pdf", "application/pdf", pdf),
                                                                          ("three.pdf", "application/pdf", pdf)]) { res in
                #expect(res.status == .created)
                several = try res.content.decode(RentalFileController.DocumentBody.self).id
            }
            clock.advance(by: 1)
            let single = try await uploadPayslip(app, token: token)
            _ = try await StaffAccounts.create(on: app, email: try #require(EmailAddress("op@example.org")), password: "a long operator passphrase",
                                               firstName: "Olga", lastName: "Op", role: .operator_, language: .en)
            let staff = try await app.signIn(email: "op@example.org", password: "a long operator passphrase")
            let documentID = try #require(several)
            for (decision, reasons) in [("declined", ["illegible"]), ("declined", ["expired"]), ("validated", [])] {
                clock.advance(by: 60)
                try await app.testing().test(.POST, "api/v1/staff/documents/\(documentID)/review", headers: ["Authorization": "Bearer \(staff)"], beforeRequest: { req in
                    try req.content.encode(StaffController.ReviewBody(decision: decision, reasons: reasons))
                }, afterResponse: { res in #expect(res.status == .noContent) })
            }
            try await app.testing().test(.GET, "api/v1/me/documents", headers: ["Authorization": "Bearer \(token)"]) { res in
                let documents = try res.content.decode([RentalFileController.DocumentBody].self)
                #expect(documents.map(\.id) == [documentID, single])
                #expect(documents[0].files.map(\.position) == [1, 2, 3])
                #expect(documents[0].files.map(\.name) == ["one.pdf", "two.pdf", "three.pdf"])
                #expect(documents[0].reviews.map(\.decision) == ["declined", "declined", "validated"])
                #expect(documents[0].reviews.map { $0.reasons.map(\.id) } == [["illegible"], ["expired"], []])
                #expect(documents[0].status == "validated")
                #expect(documents[1].files.map(\.name) == ["avis.pdf"])
                #expect(documents[1].reviews.isEmpty)
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func staffReviewTellsTheTenantWhy(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let tenantID = try await app.signUp(verified: true)
            let token = try await app.signIn()
            let first = try await uploadPayslip(app, token: token)
            let second = try await uploadPayslip(app, token: token)
            _ = try await StaffAccounts.create(on: app, email: try #require(EmailAddress("op@example.org")), password: "a long operator passphrase",
                                               firstName: "Olga", lastName: "Op", role: .operator_, language: .en)
            let staff = try await app.signIn(email: "op@example.org", password: "a long operator passphrase")
            // A tenant is not staff.
            try await app.testing().test(.GET, "api/v1/staff/reviews", headers: ["Authorization": "Bearer \(token)"]) { res in
                #expect(res.status == .forbidden)
            }
            try await app.testing().test(.GET, "api/v1/staff/reviews", headers: ["Authorization": "Bearer \(staff)"]) { res in
                let queue = try res.content.decode([StaffController.QueueEntry].self)
                #expect(queue.map(\.document) == [first, second])
                #expect(queue.first?.tenantName == "Jane Doe")
            }
            try await app.testing().test(.GET, "api/v1/staff/documents/\(first)/content", headers: ["Authorization": "Bearer \(staff)"]) { res in
                #expect(res.status == .ok)
            }
            try await app.testing().test(.POST, "api/v1/staff/documents/\(first)/review", headers: ["Authorization": "Bearer \(staff)"], beforeRequest: { req in
                try req.content.encode(StaffController.ReviewBody(decision: "validated"))
            }, afterResponse: { res in #expect(res.status == .noContent) })
            try await app.testing().test(.POST, "api/v1/staff/documents/\(second)/review", headers: ["Authorization": "Bearer \(staff)"], beforeRequest: { req in
                try req.content.encode(StaffController.ReviewBody(decision: "declined"))
            }, afterResponse: { res in #expect(res.status == .unprocessableEntity) })
            try await app.testing().test(.POST, "api/v1/staff/documents/\(second)/review", headers: ["Authorization": "Bearer \(staff)"], beforeRequest: { req in
                try req.content.encode(StaffController.ReviewBody(decision: "declined", reasons: ["illegible", "expired"], comment: "Please send the 2025 notice."))
            }, afterResponse: { res in #expect(res.status == .noContent) })

            try await app.testing().test(.GET, "api/v1/me/documents", headers: ["Authorization": "Bearer \(token)"]) { res in
                let documents = try res.content.decode([RentalFileController.DocumentBody].self)
                #expect(documents.map(\.status) == ["validated", "declined"])
                let review = try #require(documents[1].reviews.first)
                #expect(review.reasons.map(\.name.en) == ["Illegible or blurred", "Expired or too old"])
                #expect(review.comment == "Please send the 2025 notice.")
            }
            // The tenant is told by email, in their language, with the reasons.
            let messages = try await app.outboxTexts().filter { $0.contains("Subject: A document") }
            #expect(messages.count == 2)
            #expect(messages.last?.contains("- Illegible or blurred") == true)
            #expect(messages.last?.contains("The review team's comment:\r\n> Please send the 2025 notice.") == true)
            // Each review and the staff read are audited under the operator's pseudonym.
            let actions = try await AuditRecord.query(on: app.db).sort(\.$sequence).all().map(\.action)
            #expect(actions.filter { $0 == "document.reviewed" }.count == 2)
            #expect(actions.contains("document.read"))
            // Listing the queue showed Jane's name to the operator: that is a read too.
            #expect(actions.filter { $0 == "review-queue.read" }.count == 1)

            // Staff file a document the tenant sent by post, with its source and date.
            try await app.upload(token: staff, type: "rent-receipts", files: [("q1.pdf", "application/pdf", try upload("payslip.pdf"))],
                                 path: "api/v1/staff/tenants/\(tenantID)/documents", fields: ["source": "post", "receivedAt": "2026-11-02"]) { res in
                #expect(res.status == .created)
                let body = try res.content.decode(RentalFileController.DocumentBody.self)
                #expect(body.source == "post")
                #expect(body.receivedAt == PublicationDate("2026-11-02")?.start)
            }
            try await app.upload(token: staff, type: "rent-receipts", files: [("q1.pdf", "application/pdf", try upload("payslip.pdf"))],
                                 path: "api/v1/staff/tenants/\(tenantID)/documents", fields: ["source": "fax", "receivedAt": "2026-11-02"]) { res in
                #expect(res.status == .unprocessableEntity)
            }
        }
    }

    @Test func masterKeyFileIsPrivateAndAnInvalidKeyStopsTheServer() async throws {
        try await withDossier(on: .sqlite) { app in
            let file = app.dossier.configuration.dataDirectory.appendingPathComponent("master.key")
            let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            #expect(try Data(base64Encoded: String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))?.count == 32)
        }
        await #expect(throws: ConfigurationError.self) {
            try await withDossier(on: .sqlite, configure: { $0.masterKey = "too-short" }) { _ in }
        }
    }

    @Test func catalogueListsTypesAndForbiddenDocumentsWithWhy() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.testing().test(.GET, "api/v1/catalogue/documents") { res in
                let entries = try res.content.decode([RentalFileController.CatalogueEntry].self)
                let payslips = try #require(entries.first { $0.id == "payslips" })
                #expect(payslips.category == "resources")
                #expect(payslips.minimumFiles == 3)
                #expect(payslips.for.contains(.guarantor))
                let forbidden = try #require(entries.first { $0.id == "criminal-record" })
                #expect(forbidden.forbidden)
                #expect(forbidden.why?.fr.contains("article 22-2") == true)
            }
        }
    }
}
