import DossierCore
import DossierTestSupport
import Foundation
import Testing

@Suite("Uploaded files: type by content, active PDFs, metadata")
struct FileInspectorTests {
    func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: Fixtures.url("uploads/\(name)"))
    }

    @Test func acceptsAPlainPDF() throws {
        let result = FileInspector.inspect(try fixture("payslip.pdf"), fileName: "bulletin.pdf", declaredType: "application/pdf")
        let accepted = try result.get()
        #expect(accepted.kind == .pdf)
        #expect(accepted.bytes == (try fixture("payslip.pdf")))
    }

    @Test(arguments: [
        ("javascript.pdf", ["JavaScript"]),
        ("hidden-javascript.pdf", ["JavaScript"]),
        ("embedded-file.pdf", ["embedded file"]),
    ])
    func refusesActivePDFs(name: String, found: [String]) throws {
        let result = FileInspector.inspect(try fixture(name), fileName: name, declaredType: "application/pdf")
        #expect(throws: FileInspector.Refusal.activeContent(found)) { try result.get() }
    }

    @Test func refusesAPNGNamedPDF() throws {
        let result = FileInspector.inspect(try fixture("scan-named.pdf"), fileName: "scan-named.pdf", declaredType: "application/pdf")
        #expect(throws: FileInspector.Refusal.nameMismatch(named: "pdf", actual: .png)) { try result.get() }
        #expect(FileInspector.Refusal.nameMismatch(named: "pdf", actual: .png).message(.en) == "The file is named .pdf but its content is a PNG.")
    }

    @Test func refusesHTMLDeclaredAsPDF() throws {
        let result = FileInspector.inspect(try fixture("page.html"), fileName: "payslip.pdf", declaredType: "application/pdf")
        #expect(throws: FileInspector.Refusal.unsupported) { try result.get() }
    }

    @Test func refusesADeclaredTypeThatContradictsTheContent() throws {
        let result = FileInspector.inspect(try fixture("payslip.pdf"), fileName: nil, declaredType: "image/png")
        #expect(throws: FileInspector.Refusal.declaredMismatch(declared: "image/png", actual: .pdf)) { try result.get() }
    }

    @Test func sizeLimitIsTwentyMebibytes() throws {
        var pdf = try fixture("payslip.pdf")
        let padding = FileInspector.maximumSize - pdf.count
        // A comment line pads the file to exactly the limit: accepted.
        let atLimit = Data("%PDF-1.7\n%".utf8) + Data(repeating: 0x41, count: padding - 2) + Data("\n".utf8) + pdf.dropFirst(9)
        #expect(atLimit.count == FileInspector.maximumSize)
        #expect(throws: Never.self) { try FileInspector.inspect(atLimit, fileName: "a.pdf", declaredType: nil).get() }
        pdf = atLimit + Data("\n".utf8)
        #expect(pdf.count == FileInspector.maximumSize + 1)
        #expect(throws: FileInspector.Refusal.tooLarge) { try FileInspector.inspect(pdf, fileName: "a.pdf", declaredType: nil).get() }
    }

    @Test func refusesEmptyAndHEIC() {
        #expect(throws: FileInspector.Refusal.empty) { try FileInspector.inspect(Data(), fileName: nil, declaredType: nil).get() }
        let heic = Data([0, 0, 0, 0x18]) + Data("ftypheic".utf8) + Data(repeating: 0, count: 20)
        #expect(throws: FileInspector.Refusal.heic) { try FileInspector.inspect(heic, fileName: "IMG_1.HEIC", declaredType: "image/heic").get() }
    }

    @Test func stripsEXIFAndGPSFromJPEG() throws {
        let original = try fixture("photo-with-gps.jpg")
        #expect(original.range(of: Data("Exif".utf8)) != nil)
        #expect(original.range(of: Data("PhoneMaker".utf8)) != nil)
        let accepted = try FileInspector.inspect(original, fileName: "photo.JPG", declaredType: "image/jpeg").get()
        #expect(accepted.kind == .jpeg)
        #expect(accepted.removedMetadata.contains("APP1 (EXIF/XMP)"))
        #expect(accepted.removedMetadata.contains("COM (comment)"))
        #expect(accepted.bytes.range(of: Data("Exif".utf8)) == nil)
        #expect(accepted.bytes.range(of: Data("PhoneMaker".utf8)) == nil)
        #expect(accepted.bytes.range(of: Data("shot at home".utf8)) == nil)
        // Still a whole JPEG: starts with SOI, keeps its scan, ends with EOI; only metadata went.
        #expect(Array(accepted.bytes.prefix(2)) == [0xFF, 0xD8])
        #expect(Array(accepted.bytes.suffix(2)) == [0xFF, 0xD9])
        #expect(accepted.bytes.range(of: Data([0xFF, 0xDA])) != nil)
        #expect(accepted.bytes.count < original.count)
        // Inspecting the result again changes nothing.
        #expect(try FileInspector.inspect(accepted.bytes, fileName: nil, declaredType: nil).get().bytes == accepted.bytes)
    }

    @Test func stripsTextAndEXIFChunksFromPNG() throws {
        let original = try fixture("scan-with-text.png")
        #expect(original.range(of: Data("Jane Doe".utf8)) != nil)
        let accepted = try FileInspector.inspect(original, fileName: "scan.png", declaredType: "image/png").get()
        #expect(Set(accepted.removedMetadata) == ["tEXt", "eXIf"])
        #expect(accepted.bytes.range(of: Data("Jane Doe".utf8)) == nil)
        #expect(accepted.bytes.range(of: Data("48.8566".utf8)) == nil)
        #expect(accepted.bytes.range(of: Data("IEND".utf8)) != nil)
        #expect(accepted.bytes.range(of: Data("IDAT".utf8)) != nil)
    }

    @Test func refusesTruncatedImages() throws {
        let jpeg = try fixture("photo-with-gps.jpg").prefix(40)
        #expect(throws: FileInspector.Refusal.self) { try FileInspector.inspect(Data(jpeg), fileName: nil, declaredType: nil).get() }
        let png = try fixture("scan-with-text.png").prefix(60)
        #expect(throws: FileInspector.Refusal.self) { try FileInspector.inspect(Data(png), fileName: nil, declaredType: nil).get() }
    }
}

@Suite("Vault")
struct VaultTests {
    @Test func sealsAndOpensUnderItsContextOnly() throws {
        let key = Vault.newDataKey()
        let sealed = try Vault.seal(Data("payslip".utf8), with: key, context: "document:1")
        #expect(sealed.range(of: Data("payslip".utf8)) == nil)
        #expect(try Vault.open(sealed, with: key, context: "document:1") == Data("payslip".utf8))
        #expect(throws: Vault.Failure.self) { try Vault.open(sealed, with: key, context: "document:2") }
        #expect(throws: Vault.Failure.self) { try Vault.open(sealed, with: Vault.newDataKey(), context: "document:1") }
        var altered = sealed
        altered[altered.count - 1] ^= 0x01
        #expect(throws: Vault.Failure.self) { try Vault.open(altered, with: key, context: "document:1") }
    }

    @Test func wrappedKeysBelongToOneSubject() throws {
        let master = Vault.newDataKey()
        let dataKey = Vault.newDataKey()
        let wrapped = try Vault.wrap(dataKey, for: "subject-a", with: master)
        let unwrapped = try Vault.unwrap(wrapped, for: "subject-a", with: master)
        #expect(unwrapped == dataKey)
        #expect(throws: Vault.Failure.self) { try Vault.unwrap(wrapped, for: "subject-b", with: master) }
    }

    @Test func masterKeyMustBe256Bits() throws {
        #expect(throws: Vault.Failure.self) { try Vault.masterKey(base64: Data(repeating: 1, count: 16).base64EncodedString()) }
        #expect(throws: Vault.Failure.self) { try Vault.masterKey(base64: "not base64!") }
        _ = try Vault.masterKey(base64: Data(repeating: 1, count: 32).base64EncodedString())
    }
}

@Suite("Document catalogue")
struct DocumentCatalogueTests {
    let catalogue = DocumentCatalogue.shipped

    @Test func holdsTheDecreeCategoriesAndTheForbiddenList() {
        #expect(catalogue.categories.map(\.id) == ["identity", "address", "professional", "resources", "enrolment", "guarantee"])
        for id in ["identity-card", "passport", "payslips", "tax-notice", "rent-receipts", "host-statement", "student-card", "kbis-extract", "visale-certificate", "admission-letter"] {
            guard case .allowed = catalogue.lookup(id) else {
                Issue.record("\(id) should be an allowed type")
                continue
            }
        }
        for id in ["bank-statement", "photograph", "social-security-card", "medical-record", "criminal-record", "marriage-contract", "no-credit-certificate", "direct-debit-authorisation"] {
            guard case .forbidden = catalogue.lookup(id) else {
                Issue.record("\(id) should be forbidden")
                continue
            }
        }
        #expect(catalogue.forbiddenReason.en.contains("article 22-2 of law 89-462"))
        let ids = catalogue.categories.flatMap { $0.types.map(\.id) } + catalogue.forbidden.map(\.id)
        #expect(Set(ids).count == ids.count, "ids are unique")
    }

    @Test func completenessFollowsTheSituation() {
        let employee = catalogue.completeness(for: .tenant, status: nil, documents: [("identity-card", 1), ("payslips", 2)])
        #expect(employee.missing == ["address", "professional", "resources"])
        let paid = catalogue.completeness(for: .tenant, status: nil, documents: [("identity-card", 1), ("payslips", 3), ("rent-receipts", 3), ("employment-contract", 1)])
        #expect(paid.isComplete)
        let student = catalogue.completeness(for: .tenant, status: "student", documents: [("passport", 1)])
        #expect(student.missing == ["address", "enrolment"])
        let visale = catalogue.completeness(for: .organisation, status: nil, documents: [("visale-certificate", 1)])
        #expect(visale.isComplete)
        // A type another kind of person provides does not count.
        let company = catalogue.completeness(for: .company, status: nil, documents: [("identity-card", 1)])
        #expect(company.missing.contains("identity"))
    }
}
