import DossierCore
import DossierTestSupport
import Foundation
import Testing

/// A file of Tests/Fixtures/uploads.
private func fixture(_ name: String) throws -> Data {
    try Data(contentsOf: Fixtures.url("uploads/\(name)"))
}

@Suite("Uploaded files: type by content, active PDFs, metadata")
struct FileInspectorTests {
    @Test func acceptsAPlainPDF() throws {
        let result = FileInspector.inspect(try fixture("payslip.pdf"), fileName: "bulletin.pdf", declaredType: "application/pdf")
        let accepted = try result.get()
        #expect(accepted.kind == .pdf)
        #expect(accepted.bytes == (try fixture("payslip.pdf")))
    }

    @Test(arguments: [
        // Both open object 6 by reference (`/OpenAction 6 0 R`): an automatic action as well.
        ("javascript.pdf", ["JavaScript", "automatic action"]),
        ("hidden-javascript.pdf", ["JavaScript", "automatic action"]),
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
        // A page and a stream of raw bytes that brings the file to exactly the limit: accepted.
        func padded(_ size: Int) -> Data {
            var builder = PDFBuilder()
            builder.addPage()
            builder.addStream("", [UInt8](repeating: 0x41, count: size))
            return builder.build()
        }
        var padding = FileInspector.maximumSize - padded(0).count
        while padded(padding).count != FileInspector.maximumSize { padding += FileInspector.maximumSize - padded(padding).count }
        let atLimit = padded(padding)
        #expect(atLimit.count == FileInspector.maximumSize)
        #expect(throws: Never.self) { try FileInspector.inspect(atLimit, fileName: "a.pdf", declaredType: nil).get() }
        var pdf = atLimit
        pdf = atLimit + Data("\n".utf8)
        #expect(pdf.count == FileInspector.maximumSize + 1)
        #expect(throws: FileInspector.Refusal.tooLarge) { try FileInspector.inspect(pdf, fileName: "a.pdf", declaredType: nil).get() }
    }

    @Test func refusesEmptyAndHEIC() {
        #expect(throws: FileInspector.Refusal.empty) { try FileInspector.inspect(Data(), fileName: nil, declaredType: nil).get() }
        let heic = Data([0, 0, 0, 0x18]) + Data("ftypheic".utf8) + Data(repeating: 0, count: 20)
        #expect(throws: FileInspector.Refusal.heic) { try FileInspector.inspect(heic, fileName: "IMG_1.HEIC", declaredType: "image/heic").get() }
    }

    @Test func refusesTruncatedImages() throws {
        let jpeg = try fixture("photo-with-gps.jpg").prefix(40)
        #expect(throws: FileInspector.Refusal.self) { try FileInspector.inspect(Data(jpeg), fileName: nil, declaredType: nil).get() }
        let png = try fixture("scan-with-text.png").prefix(60)
        #expect(throws: FileInspector.Refusal.self) { try FileInspector.inspect(Data(png), fileName: nil, declaredType: nil).get() }
    }
}

// MARK: - Hostile files (security review findings 3, 5 and 14)

/// What a check refused, if anything.
private func refusal(_ result: Result<FileInspector.Accepted, FileInspector.Refusal>) -> FileInspector.Refusal? {
    if case let .failure(refusal) = result { return refusal }
    return nil
}

private func isDamaged(_ refusal: FileInspector.Refusal?) -> Bool {
    if case .damaged? = refusal { return true }
    return false
}

private func isTooComplex(_ refusal: FileInspector.Refusal?) -> Bool {
    if case .tooComplex? = refusal { return true }
    return false
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

private func contains(_ haystack: Data, _ needle: String) -> Bool {
    haystack.range(of: Data(needle.utf8)) != nil
}

/// Builds PDFs: numbered objects, each stream's /Length and the cross-reference offsets right.
private struct PDFBuilder {
    var objects: [[UInt8]] = []

    @discardableResult
    mutating func add(_ body: String) -> Int { add(bytes(body)) }

    @discardableResult
    mutating func add(_ body: [UInt8]) -> Int {
        objects.append(body)
        return objects.count
    }

    /// A stream object: `entries` (the /Length is added unless given), then exactly `data`.
    @discardableResult
    mutating func addStream(_ entries: String, _ data: [UInt8], length: String? = nil) -> Int {
        let lengthEntry = length.map { $0.isEmpty ? "" : " /Length \($0)" } ?? " /Length \(data.count)"
        return add(bytes("<< \(entries)\(lengthEntry) >>\nstream\n") + data + bytes("\nendstream"))
    }

    /// Objects 1 to 5: catalog, pages, page, its content, a font.
    mutating func addPage(catalog: String = "", page: String = "", contentEntries: String = "", content: [UInt8]? = nil) {
        add("<< /Type /Catalog /Pages 2 0 R \(catalog) >>")
        add("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
        add("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> \(page) >>")
        addStream(contentEntries, content ?? bytes("BT /F1 18 Tf 72 720 Td (Avis d'imposition) Tj ET"))
        add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    }

    /// The file with a cross-reference table. `pointing` points entries at the first occurrence
    /// of a text instead (objects beyond the builder's are free unless pointed at).
    func build(trailer: String = "", pointing: [Int: String] = [:]) -> Data {
        let (head, offsets) = body()
        var out = head
        let size = max(objects.count, pointing.keys.max() ?? 0) + 1
        let xref = out.count
        out += bytes("xref\n0 \(size)\n0000000000 65535 f \n")
        for number in 1..<size {
            if let offset = pointing[number].map({ firstOffset(of: $0, in: out) }) ?? (number <= objects.count ? offsets[number - 1] : nil) {
                out += bytes(tenDigits(offset) + " 00000 n \n")
            } else {
                out += bytes("0000000000 00001 f \n")
            }
        }
        out += bytes("trailer\n<< /Size \(size) /Root 1 0 R \(trailer)>>\nstartxref\n\(xref)\n%%EOF\n")
        return Data(out)
    }

    /// The file with a cross-reference stream instead (Flate with the PNG Up predictor, as writers
    /// make them), the last object. `compressed` gives objects kept in an object stream (object
    /// number: the stream's number); `pointing` as for `build`.
    func buildWithXRefStream(compressed: [Int: Int] = [:], pointing: [Int: String] = [:]) -> Data {
        let (head, offsets) = body()
        var out = head
        let own = max(objects.count, compressed.keys.max() ?? 0, pointing.keys.max() ?? 0) + 1
        let start = out.count
        var rows: [[UInt8]] = []
        var indexes: [Int: Int] = [:]
        for number in 0...own {
            func row(_ type: Int, _ second: Int, _ third: Int) -> [UInt8] {
                [UInt8(type), UInt8(second >> 24 & 0xFF), UInt8(second >> 16 & 0xFF), UInt8(second >> 8 & 0xFF), UInt8(second & 0xFF),
                 UInt8(third >> 8 & 0xFF), UInt8(third & 0xFF)]
            }
            if number == own {
                rows.append(row(1, start, 0))
            } else if let container = compressed[number] {
                rows.append(row(2, container, indexes[container, default: 0]))
                indexes[container, default: 0] += 1
            } else if let marker = pointing[number] {
                rows.append(row(1, firstOffset(of: marker, in: out), 0))
            } else if number >= 1, number <= objects.count {
                rows.append(row(1, offsets[number - 1], 0))
            } else {
                rows.append(row(0, 0, number == 0 ? 65535 : 1))
            }
        }
        let data = flate(pngUp(rows.flatMap { $0 }, columns: 7))
        out += bytes("\(own) 0 obj\n<< /Type /XRef /Size \(own + 1) /W [1 4 2] /Root 1 0 R /Filter /FlateDecode ")
            + bytes("/DecodeParms << /Predictor 12 /Columns 7 >> /Length \(data.count) >>\nstream\n") + data + bytes("\nendstream\nendobj\n")
        out += bytes("startxref\n\(start)\n%%EOF\n")
        return Data(out)
    }

    /// The header and the objects, and where each object starts.
    private func body() -> ([UInt8], [Int]) {
        var out = bytes("%PDF-1.7\n%\u{E2}\u{E3}\u{CF}\u{D3}\n")
        var offsets: [Int] = []
        for (index, body) in objects.enumerated() {
            offsets.append(out.count)
            out += bytes("\(index + 1) 0 obj\n") + body + bytes("\nendobj\n")
        }
        return (out, offsets)
    }

    static func check(_ pdf: Data) -> Result<FileInspector.Accepted, FileInspector.Refusal> {
        FileInspector.inspect(pdf, fileName: "file.pdf", declaredType: "application/pdf")
    }
}

/// A catalog (1), an object stream (2) holding the pages, the page and its font (4 to 6), and
/// the page's content (3).
private func pagesInAnObjectStream() -> PDFBuilder {
    var pdf = PDFBuilder()
    pdf.add("<< /Type /Catalog /Pages 4 0 R >>")
    let stream = objectStream([
        (4, "<< /Type /Pages /Kids [5 0 R] /Count 1 >>"),
        (5, "<< /Type /Page /Parent 4 0 R /MediaBox [0 0 612 792] /Contents 3 0 R /Resources << /Font << /F1 6 0 R >> >> >>"),
        (6, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"),
    ])
    pdf.addStream("\(stream.entries) /Filter /FlateDecode", flate(stream.data))
    pdf.addStream("/Filter /FlateDecode", flate(bytes("BT /F1 18 Tf 72 720 Td (Quittance) Tj ET")))
    return pdf
}

/// An object stream's data: the `number offset` pairs, then the objects; and its /First.
private func objectStream(_ objects: [(number: Int, body: String)]) -> (data: [UInt8], entries: String) {
    var header = ""
    var body = ""
    for object in objects {
        header += "\(object.number) \(body.utf8.count) "
        body += object.body + "\n"
    }
    return (bytes(header + body), "/Type /ObjStm /N \(objects.count) /First \(header.utf8.count)")
}

/// The script every finding-3 file hides: an action run on opening.
private let script = (number: 6, body: "<< /Type /Action /S /JavaScript /JS (app.launchURL('http://example.org');) >>")

/// A PDF whose catalog opens object 6 (or, not `onOpen`, whose page links to it), a script kept
/// in an object stream encoded by `filter`.
private func scriptInObjectStream(filter: String, onOpen: Bool = true, _ encode: ([UInt8]) -> [UInt8]) -> Data {
    var pdf = PDFBuilder()
    if onOpen {
        pdf.addPage(catalog: "/OpenAction 6 0 R")
    } else {
        pdf.addPage(page: "/Annots [<< /Subtype /Link /Rect [0 0 612 792] /A 6 0 R >>]")
    }
    let stream = objectStream([script])
    pdf.addStream("\(stream.entries) /Filter \(filter)", encode(stream.data))
    return pdf.build()
}

// Encoders for the filters, as a PDF writer would use them.

private func asciiHex(_ data: [UInt8]) -> [UInt8] {
    let digits = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for (index, byte) in data.enumerated() {
        out += [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
        if index % 32 == 31 { out.append(0x0A) }
    }
    return out + [UInt8(ascii: ">")]
}

private func ascii85(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var index = 0
    while index < data.count {
        let chunk = Array(data[index..<min(index + 4, data.count)])
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 8 | UInt32(offset < chunk.count ? chunk[offset] : 0) }
        if chunk.count == 4, value == 0 {
            out.append(UInt8(ascii: "z"))
        } else {
            var digits = [UInt8](repeating: 0, count: 5)
            for offset in (0..<5).reversed() {
                digits[offset] = UInt8(value % 85) + 33
                value /= 85
            }
            out += digits.prefix(chunk.count + 1)
        }
        index += 4
    }
    return out + bytes("~>")
}

/// LZW with early change, as /LZWDecode expects by default.
private func lzw(_ data: [UInt8]) -> [UInt8] {
    var table: [[UInt8]: Int] = [:]
    for byte in 0..<256 { table[[UInt8(byte)]] = byte }
    var next = 258
    var out: [UInt8] = []
    var bits: UInt64 = 0
    var count = 0
    func write(_ code: Int) {
        let width = next >= 2048 ? 12 : next >= 1024 ? 11 : next >= 512 ? 10 : 9
        bits = bits << UInt64(width) | UInt64(code)
        count += width
        while count >= 8 {
            out.append(UInt8(truncatingIfNeeded: bits >> UInt64(count - 8)))
            count -= 8
        }
    }
    write(256)
    var word: [UInt8] = []
    for byte in data {
        if table[word + [byte]] != nil {
            word.append(byte)
        } else {
            write(table[word]!)
            if next < 4096 { table[word + [byte]] = next }
            next += 1
            word = [byte]
        }
    }
    if !word.isEmpty {
        write(table[word]!)
        next += 1
    }
    write(257)
    if count > 0 { out.append(UInt8(truncatingIfNeeded: bits << UInt64(8 - count))) }
    return out
}

/// RunLength with one-byte literal runs: the bytes are there, but never two in a row.
private func runLength(_ data: [UInt8]) -> [UInt8] {
    data.flatMap { [0, $0] } + [128]
}

private func flate(_ data: [UInt8]) -> [UInt8] { Inflate.deflate(data) }

/// Rows of `columns` bytes under the PNG Up predictor (each row tagged 2, minus the row above).
private func pngUp(_ data: [UInt8], columns: Int) -> [UInt8] {
    var out: [UInt8] = []
    var previous = [UInt8](repeating: 0, count: columns)
    for start in stride(from: 0, to: data.count, by: columns) {
        let row = Array(data[start..<min(start + columns, data.count)])
        out.append(2)
        for (index, byte) in row.enumerated() { out.append(byte &- previous[index]) }
        previous = row + previous.dropFirst(row.count)
    }
    return out
}

/// Rows of `columns` samples of `colors` 8-bit components under TIFF predictor 2.
private func tiff(_ data: [UInt8], colors: Int, columns: Int) -> [UInt8] {
    let row = colors * columns
    return data.indices.map { index in index % row >= colors ? data[index] &- data[index - colors] : data[index] }
}

/// Where `text` first occurs in `data`.
private func firstOffset(of text: String, in data: [UInt8]) -> Int {
    let needle = bytes(text)
    return (0...(data.count - needle.count)).first { Array(data[$0..<($0 + needle.count)]) == needle }!
}

private func tenDigits(_ offset: Int) -> String {
    let digits = String(offset)
    return String(repeating: "0", count: max(0, 10 - digits.count)) + digits
}

@Suite("Finding 3: PDF active content cannot hide from the scan")
struct PDFActiveContentFindingTests {
    @Test func finding3_javaScriptBehindASCIIHexIsRefused() {
        let pdf = scriptInObjectStream(filter: "/ASCIIHexDecode", asciiHex)
        #expect(refusal(PDFBuilder.check(pdf)) == .activeContent(["JavaScript", "automatic action"]))
        let short = scriptInObjectStream(filter: "/AHx", asciiHex)
        #expect(refusal(PDFBuilder.check(short)) == .activeContent(["JavaScript", "automatic action"]))
    }

    @Test func finding3_javaScriptBehindASCII85IsRefused() {
        let pdf = scriptInObjectStream(filter: "/ASCII85Decode", ascii85)
        #expect(refusal(PDFBuilder.check(pdf)) == .activeContent(["JavaScript", "automatic action"]))
        let short = scriptInObjectStream(filter: "/A85", ascii85)
        #expect(refusal(PDFBuilder.check(short)) == .activeContent(["JavaScript", "automatic action"]))
    }

    @Test func finding3_javaScriptBehindDoubleFlateIsRefused() {
        let pdf = scriptInObjectStream(filter: "[/FlateDecode /FlateDecode]") { flate(flate($0)) }
        #expect(refusal(PDFBuilder.check(pdf)) == .activeContent(["JavaScript", "automatic action"]))
        let mixed = scriptInObjectStream(filter: "[/AHx /Fl]") { asciiHex(flate($0)) }
        #expect(refusal(PDFBuilder.check(mixed)) == .activeContent(["JavaScript", "automatic action"]))
    }

    @Test func finding3_javaScriptBehindLZWIsRefused() {
        let pdf = scriptInObjectStream(filter: "/LZWDecode", lzw)
        #expect(refusal(PDFBuilder.check(pdf)) == .activeContent(["JavaScript", "automatic action"]))
    }

    @Test func finding3_javaScriptBehindRunLengthIsRefused() {
        let pdf = scriptInObjectStream(filter: "/RunLengthDecode", runLength)
        #expect(refusal(PDFBuilder.check(pdf)) == .activeContent(["JavaScript", "automatic action"]))
    }

    @Test func finding3_escapedNamesInADecodedStreamAreRefused() {
        var pdf = PDFBuilder()
        pdf.addPage(catalog: "/OpenAction 6 0 R")
        let stream = objectStream([(6, "<< /S /J#61vaScript /J#53 (app.alert(1)) >>")])
        pdf.addStream("\(stream.entries) /Filter /ASCIIHexDecode", asciiHex(stream.data))
        #expect(refusal(PDFBuilder.check(pdf.build())) == .activeContent(["JavaScript", "automatic action"]))
    }

    @Test func finding3_corruptAdlerFailsClosed() {
        let pdf = scriptInObjectStream(filter: "/FlateDecode", onOpen: false) { data in
            var packed = flate(data)
            packed[packed.count - 1] ^= 0x5A  // the Adler-32 checksum's last byte
            return packed
        }
        #expect(isDamaged(refusal(PDFBuilder.check(pdf))))
    }

    @Test func finding3_truncatedFlateFailsClosed() {
        let pdf = scriptInObjectStream(filter: "/FlateDecode", onOpen: false) { Array(flate($0).dropLast(6)) }
        #expect(isDamaged(refusal(PDFBuilder.check(pdf))))
        let trailing = scriptInObjectStream(filter: "/FlateDecode", onOpen: false) { flate($0) + bytes("garbage") }
        #expect(isDamaged(refusal(PDFBuilder.check(trailing))))
    }

    @Test func finding3_literalEndstreamInsideCompressedData() {
        // zlib data whose first block is stored (its bytes appear as they are, `endstream`
        // included) and whose second block, compressed, holds the script.
        let stream = objectStream([script])
        let split = stream.data.firstIndex(of: UInt8(ascii: "<"))! + 2
        let visible = Array(stream.data[..<split]) + bytes(" /Note (endstream\nendobj) ")
        let hidden = Array(stream.data[split...])
        var packed: [UInt8] = [0x78, 0x01]
        let count = visible.count
        packed += [0x00, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)] + visible
        let rest = flate(hidden)
        packed += rest[2..<(rest.count - 4)]
        let adler = Inflate.adler32(visible + hidden)
        packed += [UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF), UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF)]
        var pdf = PDFBuilder()
        pdf.addPage(catalog: "/OpenAction 6 0 R")
        pdf.addStream("\(stream.entries) /Filter /FlateDecode", packed)
        let file = pdf.build()
        #expect(contains(file, "endstream\nendobj) "))
        #expect(!contains(file, "JavaScript"))
        #expect(refusal(PDFBuilder.check(file)) == .activeContent(["JavaScript", "automatic action"]))
    }

    @Test func finding3_streamLengthMustBeRightOrTheFileIsRefused() {
        let content = bytes("BT /F1 18 Tf 72 720 Td (Hello) Tj ET")
        for length in ["", "10", "\(content.count + 5)", "99999", "-1", "/Foo", "9 0 R"] {
            var pdf = PDFBuilder()
            pdf.addPage()
            pdf.addStream("", content, length: length)
            #expect(isDamaged(refusal(PDFBuilder.check(pdf.build()))), "/Length \(length)")
        }
        // A stream that runs to the end of the file, without endstream.
        let cut = Data(bytes("%PDF-1.7\n1 0 obj\n<< /Length 500 >>\nstream\n") + content + bytes("\n%%EOF\n"))
        #expect(isDamaged(refusal(PDFBuilder.check(cut))))
    }

    @Test func finding3_unknownFilterFailsClosed() {
        var pdf = PDFBuilder()
        pdf.addPage(contentEntries: "/Filter /JBIG3Decode", content: bytes("/JavaScript"))
        #expect(refusal(PDFBuilder.check(pdf.build())) == .damaged("unsupported stream filter /JBIG3Decode"))
        var indirect = PDFBuilder()
        indirect.addPage(contentEntries: "/Filter 9 0 R")
        #expect(isDamaged(refusal(PDFBuilder.check(indirect.build()))))
    }

    @Test func finding3_imageDataOnlyLastAndNotScanned() {
        let noise = bytes("\u{FF}\u{D8} /JS /Launch ") + [UInt8](repeating: 0x80, count: 64)
        var picture = PDFBuilder()
        picture.addPage()
        picture.addStream("/Type /XObject /Subtype /Image /Width 8 /Height 8 /Filter /DCTDecode", noise)
        picture.addStream("/Type /XObject /Subtype /Image /Width 8 /Height 8 /Filter [/FlateDecode /DCT]", flate(noise))
        // Pixels are not PDF syntax either, whatever their bytes happen to spell.
        picture.addStream("/Type /XObject /Subtype /Image /Width 8 /Height 8 /BitsPerComponent 8 /Filter /FlateDecode", flate(noise))
        #expect(throws: Never.self) { try PDFBuilder.check(picture.build()).get() }
        var first = PDFBuilder()
        first.addPage()
        first.addStream("/Filter [/DCTDecode /FlateDecode]", flate(noise))
        #expect(isDamaged(refusal(PDFBuilder.check(first.build()))))
    }

    @Test func finding3_encryptionIsRefusedAsEncrypted() {
        var crypt = PDFBuilder()
        crypt.addPage(contentEntries: "/Filter [/Crypt /FlateDecode]", content: [1, 2, 3, 4])
        #expect(refusal(PDFBuilder.check(crypt.build())) == .encryptedPDF)
        // Encrypted streams do not inflate: still "encrypted", not "damaged".
        var trailer = PDFBuilder()
        trailer.addPage(contentEntries: "/Filter /FlateDecode", content: [0x9C, 0x11, 0x42, 0x07, 0xE1])
        trailer.add("<< /Filter /Standard /V 2 /R 3 /O (x) /U (y) /P -4 >>")
        #expect(refusal(PDFBuilder.check(trailer.build(trailer: "/Encrypt 6 0 R "))) == .encryptedPDF)
    }

    @Test func finding3_automaticActionsAreRefused() {
        var openURI = PDFBuilder()
        openURI.addPage(catalog: "/OpenAction << /S /URI /URI (https://tracker.example/open) >>")
        #expect(refusal(PDFBuilder.check(openURI.build())) == .activeContent(["automatic action"]))

        var pageAction = PDFBuilder()
        pageAction.addPage(page: "/AA << /O << /S /GoTo /D [3 0 R /Fit] >> >>")
        #expect(refusal(PDFBuilder.check(pageAction.build())) == .activeContent(["automatic action"]))

        // The same, inside a compressed object stream.
        var packed = PDFBuilder()
        packed.addPage(catalog: "/Names 6 0 R")
        let stream = objectStream([(6, "<< /Dests 7 0 R /OpenAction\n<< /S /URI /URI (https://tracker.example/) >> >>")])
        packed.addStream("\(stream.entries) /Filter /FlateDecode", flate(stream.data))
        #expect(refusal(PDFBuilder.check(packed.build())) == .activeContent(["automatic action"]))

        // Opening on a page is no action.
        var destination = PDFBuilder()
        destination.addPage(catalog: "/OpenAction [3 0 R /Fit]")
        #expect(throws: Never.self) { try PDFBuilder.check(destination.build()).get() }
    }

    @Test func finding3_ordinaryCompressedPDFsAreAccepted() throws {
        let text = bytes("BT /F1 12 Tf 72 720 Td (Bulletin de salaire - mars) Tj ET\n")
        // A Flate content stream, and the same through each other filter.
        for (filter, encoded) in [
            ("/FlateDecode", flate(text)), ("/Fl", flate(text)), ("[/FlateDecode /FlateDecode]", flate(flate(text))),
            ("/ASCIIHexDecode", asciiHex(text)), ("/ASCII85Decode", ascii85(text)), ("[/A85 /Fl]", ascii85(flate(text))),
            ("/LZWDecode", lzw(text)), ("/RunLengthDecode", runLength(text)),
            ("/FlateDecode /DecodeParms << /Predictor 12 /Columns 4 >>", flate(pngUp(text, columns: 4))),
            ("/FlateDecode /DecodeParms << /Predictor 2 /Colors 3 /Columns 5 >>", flate(tiff(text, colors: 3, columns: 5))),
            ("/LZWDecode /DecodeParms << /EarlyChange 1 >>", lzw(text)),
        ] {
            var pdf = PDFBuilder()
            pdf.addPage(contentEntries: "/Filter \(filter)", content: encoded)
            let file = pdf.build()
            let accepted = try PDFBuilder.check(file).get()
            #expect(accepted.bytes == file, "\(filter)")
        }
    }

    @Test func finding3_objectStreamOfPlainObjectsIsAccepted() throws {
        let pdf = pagesInAnObjectStream()
        // Compressed objects are found through a cross-reference stream.
        #expect(throws: Never.self) { try PDFBuilder.check(pdf.buildWithXRefStream(compressed: [4: 2, 5: 2, 6: 2])).get() }
        // A classic table that does not list them: qpdf would have to repair the file.
        #expect(isDamaged(refusal(PDFBuilder.check(pdf.build()))))
    }

    @Test func finding3_indirectLengthIsAccepted() throws {
        let content = flate(bytes("BT /F1 18 Tf 72 720 Td (Attestation) Tj ET"))
        // The length object after the stream, as most writers put it…
        var later = PDFBuilder()
        later.addPage(contentEntries: "/Filter /FlateDecode", content: [])
        later.objects[3] = bytes("<< /Filter /FlateDecode /Length 6 0 R >>\nstream\n") + content + bytes("\nendstream")
        later.add("\(content.count)")
        #expect(throws: Never.self) { try PDFBuilder.check(later.build()).get() }
        // …or before it.
        var earlier = PDFBuilder()
        earlier.add("<< /Type /Catalog /Pages 3 0 R >>")
        earlier.add("  \(content.count) ")
        earlier.add("<< /Type /Pages /Kids [4 0 R] /Count 1 >>")
        earlier.add("<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] /Contents 5 0 R >>")
        earlier.add(bytes("<< /Length 2 0 R /Filter /FlateDecode >>\nstream\n") + content + bytes("\nendstream"))
        #expect(throws: Never.self) { try PDFBuilder.check(earlier.build()).get() }
        // A wrong indirect length is no better than a wrong direct one.
        var wrong = PDFBuilder()
        wrong.addPage(contentEntries: "/Filter /FlateDecode", content: [])
        wrong.objects[3] = bytes("<< /Filter /FlateDecode /Length 6 0 R >>\nstream\n") + content + bytes("\nendstream")
        wrong.add("\(content.count - 3)")
        #expect(isDamaged(refusal(PDFBuilder.check(wrong.build()))))
    }

    @Test func finding3_ambiguousLengthsFailClosed() {
        let content = bytes("BT /F1 18 Tf 72 720 Td (Attestation) Tj ET")
        // The length object defined twice, with two values (say, once in an update).
        var twice = PDFBuilder()
        twice.addPage(content: [])
        twice.objects[3] = bytes("<< /Length 6 0 R >>\nstream\n") + content + bytes("\nendstream")
        twice.add("\(content.count)")
        let file = twice.build() + Data("6 0 obj\n\(content.count + 9)\nendobj\n%%EOF\n".utf8)
        #expect(isDamaged(refusal(PDFBuilder.check(file))))
        // A key given twice: readers differ on which one counts.
        for entries in ["/Length 10 /Length \(content.count)", "/Length \(content.count) /Filter /AHx /Filter /FlateDecode"] {
            var pdf = PDFBuilder()
            pdf.addPage(content: [])
            pdf.objects[3] = bytes("<< \(entries) >>\nstream\n") + content + bytes("\nendstream")
            #expect(isDamaged(refusal(PDFBuilder.check(pdf.build()))), "\(entries)")
        }
        // A stream measured by an indirect length must not hold `endstream` itself.
        var holding = PDFBuilder()
        holding.add("<< /Type /Catalog /Pages 3 0 R >>")
        let quoted = bytes("BT /F1 18 Tf 72 720 Td (endstream) Tj ET")
        holding.add("\(quoted.count)")
        holding.add("<< /Type /Pages /Kids [4 0 R] /Count 1 >>")
        holding.add("<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] /Contents 5 0 R >>")
        holding.add(bytes("<< /Length 2 0 R >>\nstream\n") + quoted + bytes("\nendstream"))
        #expect(refusal(PDFBuilder.check(holding.build())) == .damaged("a stream with an indirect /Length holds endstream"))
    }

    @Test func finding3_lengthHiddenBehindAStringFailsClosed() {
        // A reader takes object 6 (the real length) from the cross-reference table. A linear
        // reader that trusted the first `endstream` would meet a decoy `6 0 obj` inside the
        // stream, then a string swallowing the real one: it would read the stream short, and
        // the rest of the hexadecimal data, which the reader decodes, would escape it.
        let decoy = asciiHex(bytes("BT (Hello) Tj ET")).dropLast()  // no `>`: the data goes on
        let rest = asciiHex(bytes(" /S /JavaScript /JS (app.alert(1))"))
        let data = Array(decoy) + bytes("\nendstream\n6 0 obj \(decoy.count) endobj\n(") + rest
        var pdf = PDFBuilder()
        pdf.addPage(content: [])
        pdf.objects[3] = bytes("<< /Length 6 0 R /Filter /ASCIIHexDecode >>\nstream\n") + data + bytes("\nendstream")
        pdf.add("\(data.count)")
        pdf.add("<< /Title (x)) >>")
        #expect(isDamaged(refusal(PDFBuilder.check(pdf.build()))))
    }
}

/// An image XObject's raw data, `data` between two line ends.
private let imageEntries = "/Type /XObject /Subtype /Image /Width 1 /Height 1 /BitsPerComponent 8 /ColorSpace /DeviceGray"

/// A script action kept where a linear reading does not look: inside image data.
private let hiddenScript = "7 0 obj\n<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>\nendobj"

/// A link over the whole page that runs object 7: no dangerous name in sight.
private let linkTo7 = "/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 612 792] /A 7 0 R >>]"

/// Objects 1 to 5 (`catalog`, `page` added), then object 6, an image whose data is `data`.
private func pageWithImage(catalog: String = "", page: String = "", data: String) -> PDFBuilder {
    var pdf = PDFBuilder()
    pdf.addPage(catalog: catalog, page: page)
    pdf.addStream(imageEntries, bytes("\n" + data + "\n"))
    return pdf
}

@Suite("Second review: what a reader reads, the scan reads")
struct PDFSecondReviewTests {
    @Test func review_objectHiddenInImageDataIsRefused() {
        // The reviewer's file: the catalog opens object 7, which the table places inside the image.
        let opened = pageWithImage(catalog: "/OpenAction 7 0 R", data: hiddenScript).build(pointing: [7: "7 0 obj"])
        #expect(refusal(PDFBuilder.check(opened)) == .activeContent(["automatic action"]))
        // The same script run by a link: the object header in the image data gives it away.
        let linked = pageWithImage(page: linkTo7, data: hiddenScript)
        #expect(refusal(PDFBuilder.check(linked.build(pointing: [7: "7 0 obj"]))) == .damaged("an object hidden in stream data"))
        // Without a table entry (a reader rebuilding the table would find it): the same.
        #expect(refusal(PDFBuilder.check(linked.build())) == .damaged("an object hidden in stream data"))
        // A header no rebuilding reader would take for one (`x7 0 obj`), but the table points there.
        let glued = pageWithImage(page: linkTo7, data: "x" + hiddenScript)
        #expect(throws: Never.self) { try PDFBuilder.check(glued.build()).get() }
        #expect(refusal(PDFBuilder.check(glued.build(pointing: [7: "7 0 obj"]))) == .damaged("the cross-reference table points inside stream data"))
        // The same through a cross-reference stream.
        #expect(refusal(PDFBuilder.check(glued.buildWithXRefStream(pointing: [7: "7 0 obj"]))) == .damaged("the cross-reference table points inside stream data"))
        // A trailer hidden in image data (with /Encrypt, say) is refused the same way.
        for hidden in ["trailer\n<< /Size 8 /Root 1 0 R /Encrypt 7 0 R >>", "<trailer % x\n<</Root 1 0 R>>", "7\u{0B}0\u{0B}obj.", "<7 0 obj"] {
            #expect(refusal(PDFBuilder.check(pageWithImage(data: hidden).build())) == .damaged("an object hidden in stream data"), "\(hidden)")
        }
        // Look-alikes are not objects.
        for text in ["x7 0 obj", "7 0 objects", "7 x obj", "trailers <<", "trailer >>"] {
            #expect(throws: Never.self, "\(text)") { try PDFBuilder.check(pageWithImage(data: text).build()).get() }
        }
        // Compressed image data is checked too (its raw bytes, not its pixels).
        var packed = PDFBuilder()
        packed.addPage(page: linkTo7)
        packed.addStream("\(imageEntries) /Filter /ASCIIHexDecode", bytes("00 >\n" + hiddenScript))
        #expect(refusal(PDFBuilder.check(packed.build(pointing: [7: "7 0 obj"]))) == .damaged("an object hidden in stream data"))
    }

    @Test func review_crossReferenceEntriesMustPointAtObjectHeaders() throws {
        var pdf = PDFBuilder()
        pdf.addPage()
        // An offset on white space just before the header is the header.
        #expect(throws: Never.self) { try PDFBuilder.check(pdf.build(pointing: [5: "\n5 0 obj"])).get() }
        // An offset anywhere else is not.
        #expect(refusal(PDFBuilder.check(pdf.build(pointing: [5: "/Helvetica"]))) == .damaged("the cross-reference table points at no object"))
        #expect(refusal(PDFBuilder.check(pdf.build(pointing: [5: "Avis d'imposition"]))) == .damaged("the cross-reference table points inside stream data"))
        // `startxref` must lead to a cross-reference section too.
        let file = pdf.build()
        let moved = file.range(of: Data("startxref\n".utf8))!
        var wrong = file.prefix(upTo: moved.upperBound) + Data("15\n%%EOF\n".utf8)
        #expect(refusal(PDFBuilder.check(wrong)) == .damaged("a cross-reference offset points at no cross-reference section"))
        wrong = file.prefix(upTo: moved.upperBound) + Data("16\n%%EOF\n".utf8)
        #expect(refusal(PDFBuilder.check(wrong)) == .damaged("a cross-reference offset points at no cross-reference section"))
        // A file without any cross-reference data needs repairing: refused.
        let bare = file.prefix(upTo: file.range(of: Data("xref\n".utf8))!.lowerBound) + Data("%%EOF\n".utf8)
        #expect(isDamaged(refusal(PDFBuilder.check(bare))))
    }

    @Test func review_everyIncrementalUpdateIsChecked() throws {
        let base = pageWithImage(page: linkTo7, data: "x" + hiddenScript).build()
        let baseXref = base.range(of: Data("xref\n".utf8))!.lowerBound
        let hidden = base.range(of: Data("7 0 obj".utf8))!.lowerBound
        func update(_ body: String, entry: (Int) -> Int) -> Data {
            var file = base + Data(body.utf8)
            let object = base.count
            let xref = file.count
            file += Data("xref\n0 1\n0000000000 65535 f \n7 1\n\(tenDigits(entry(object))) 00000 n \ntrailer\n<< /Size 8 /Root 1 0 R /Prev \(baseXref) >>\nstartxref\n\(xref)\n%%EOF\n".utf8)
            return file
        }
        // An update that adds object 7 for real (a harmless link action) is fine…
        let good = update("7 0 obj\n<< /S /URI /URI (https://example.org/) >>\nendobj\n") { $0 }
        #expect(throws: Never.self) { try PDFBuilder.check(good).get() }
        // …one that points it into the image data of the first version is not.
        let bad = update("") { _ in hidden }
        #expect(refusal(PDFBuilder.check(bad)) == .damaged("the cross-reference table points inside stream data"))
        // Nor is a /Prev that leads nowhere.
        let lost = Data(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "/Prev \(baseXref)", with: "/Prev \(baseXref + 3)").utf8)
        #expect(lost.count == good.count + String(baseXref + 3).count - String(baseXref).count)
        #expect(refusal(PDFBuilder.check(lost)) == .damaged("a cross-reference offset points at no cross-reference section"))
    }

    @Test func review_crossReferenceStreamsAndObjectStreamsAreAccepted() throws {
        let pdf = pagesInAnObjectStream()
        let file = pdf.buildWithXRefStream(compressed: [4: 2, 5: 2, 6: 2])
        #expect(contains(file, "/Type /XRef"))
        #expect(throws: Never.self) { try PDFBuilder.check(file).get() }
        // An object said to be in a stream that is not there, or not an object stream: refused.
        let missing = pdf.buildWithXRefStream(compressed: [4: 2, 5: 2, 6: 2, 7: 9])
        #expect(refusal(PDFBuilder.check(missing)) == .damaged("the cross-reference table takes objects from a stream that is not an object stream"))
        let content = pdf.buildWithXRefStream(compressed: [4: 2, 5: 2, 6: 3])
        #expect(refusal(PDFBuilder.check(content)) == .damaged("the cross-reference table takes objects from a stream that is not an object stream"))
    }

    @Test func review_objectStreamDisguisedAsImageIsRefused() {
        let stream = objectStream([
            (4, "<< /Type /Pages /Kids [5 0 R] /Count 1 >>"),
            (5, "<< /Type /Page /Parent 4 0 R /MediaBox [0 0 612 792] /Contents 3 0 R \(linkTo7.replacingOccurrences(of: "7 0 R", with: "6 0 R")) >>"),
            script,
        ])
        func file(_ entries: String) -> Data {
            var pdf = PDFBuilder()
            pdf.add("<< /Type /Catalog /Pages 4 0 R >>")
            pdf.addStream("\(entries) /Filter /FlateDecode", flate(stream.data))
            pdf.addStream("/Filter /FlateDecode", flate(bytes("BT ET")))
            return pdf.buildWithXRefStream(compressed: [4: 2, 5: 2, 6: 2])
        }
        // As an object stream, its script is found…
        #expect(refusal(PDFBuilder.check(file(stream.entries))) == .activeContent(["JavaScript"]))
        // …as an image (never read as syntax), the cross-reference stream gives it away.
        let disguised = file(stream.entries.replacingOccurrences(of: "/Type /ObjStm", with: imageEntries))
        #expect(!contains(disguised, "/ObjStm"))
        #expect(refusal(PDFBuilder.check(disguised)) == .damaged("the cross-reference table takes objects from a stream that is not an object stream"))
    }

    @Test func review_openActionToADestinationOrGoToIsAccepted() throws {
        // A destination, given here or by reference (as PDF writers do).
        var destination = PDFBuilder()
        destination.addPage(catalog: "/OpenAction % the first page\n[3 0 R /Fit]")
        #expect(throws: Never.self) { try PDFBuilder.check(destination.build()).get() }
        var array = PDFBuilder()
        array.addPage(catalog: "/OpenAction 6 0 R")
        array.add("[3 0 R /Fit]")
        #expect(throws: Never.self) { try PDFBuilder.check(array.build()).get() }
        #expect(throws: Never.self) { try PDFBuilder.check(array.buildWithXRefStream()).get() }
        // A /GoTo action by reference, as LaTeX (hyperref) writes it, or given here.
        var goTo = PDFBuilder()
        goTo.addPage(catalog: "/OpenAction 6 0 R")
        goTo.add("<< /Type /Action /S /GoTo /D [3 0 R /Fit] >>")
        #expect(throws: Never.self) { try PDFBuilder.check(goTo.build()).get() }
        for direct in ["/OpenAction<</S/GoTo/D[3 0 R/Fit]>>", "/OpenAction << /S /Go#54o /D (chapter.1) >> /PageMode /UseOutlines"] {
            var pdf = PDFBuilder()
            pdf.addPage(catalog: direct)
            #expect(throws: Never.self, "\(direct)") { try PDFBuilder.check(pdf.build()).get() }
        }
        // A /GoTo action in an object stream, the catalog there too or not.
        let objects = [
            (4, "<< /Type /Pages /Kids [5 0 R] /Count 1 >>"),
            (5, "<< /Type /Page /Parent 4 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>"),
            (6, "<< /Type /Catalog /Pages 4 0 R /OpenAction 7 0 R >>"),
            (7, "<< /S /GoTo /D [5 0 R /XYZ null null null] >>"),
        ]
        for catalog in ["<< /Type /Catalog /Pages 4 0 R /OpenAction 7 0 R >>", "<< /Type /Catalog /Pages 4 0 R >>"] {
            var packed = PDFBuilder()
            packed.add(catalog)
            let stream = objectStream(objects)
            packed.addStream("\(stream.entries) /Filter /FlateDecode", flate(stream.data))
            packed.addStream("/Filter /FlateDecode", flate(bytes("BT ET")))
            let file = packed.buildWithXRefStream(compressed: [4: 2, 5: 2, 6: 2, 7: 2])
            #expect(throws: Never.self, "\(catalog)") { try PDFBuilder.check(file).get() }
        }
        // An update that opens another page: either page is harmless.
        let moved = goTo.build()
        let update = moved + Data("6 0 obj\n[3 0 R /FitH 400]\nendobj\n%%EOF\n".utf8)
        #expect(throws: Never.self) { try PDFBuilder.check(update).get() }
    }

    @Test func review_openActionToAnythingElseIsRefused() throws {
        let automatic = FileInspector.Refusal.activeContent(["automatic action"])
        // A script in an object stream.
        #expect(refusal(PDFBuilder.check(scriptInObjectStream(filter: "/FlateDecode", flate))) == .activeContent(["JavaScript", "automatic action"]))
        // Other actions by reference: a web address called on opening, a /GoTo that goes on
        // (/Next), a launch, a named action, a reference to a reference, a stream.
        for (object, found) in [
            ("<< /Type /Action /S /URI /URI (https://tracker.example/open) >>", ["automatic action"]),
            ("<< /S /GoTo /D [3 0 R /Fit] /Next << /S /URI /URI (https://tracker.example/) >> >>", ["automatic action"]),
            ("<< /S /GoTo /D [3 0 R /Fit] /Next null >>", ["automatic action"]),
            ("<< /S /Launch /F (calc.exe) >>", ["automatic action", "launch action"]),
            ("<< /S /Named /N /Print >>", ["automatic action"]),
            ("<< /S /GoTo /S /URI /D [3 0 R /Fit] >>", ["automatic action"]),
            ("7 0 R", ["automatic action"]),
            ("null", ["automatic action"]),
            ("<< /S /GoTo /D [3 0 R /Fit] /Length 5 >>\nstream\nBT ET\nendstream", ["automatic action"]),
        ] {
            var pdf = PDFBuilder()
            pdf.addPage(catalog: "/OpenAction 6 0 R")
            pdf.add(object)
            pdf.add("<< /S /GoTo /D [3 0 R /Fit] >>")
            #expect(refusal(PDFBuilder.check(pdf.build())) == .activeContent(found), "\(object)")
        }
        // Given here, anything but a /GoTo that goes nowhere else.
        for direct in ["<< /S /URI /URI (https://tracker.example/) >>", "<< /S /GoTo /D [3 0 R /Fit] /Next 6 0 R >>", "<< /D [3 0 R /Fit] >>", "6", "/GoTo"] {
            var pdf = PDFBuilder()
            pdf.addPage(catalog: "/OpenAction \(direct)")
            pdf.add("[3 0 R /Fit]")
            #expect(refusal(PDFBuilder.check(pdf.build())) == automatic, "\(direct)")
        }
        // A missing object.
        var missing = PDFBuilder()
        missing.addPage(catalog: "/OpenAction 9 0 R")
        #expect(refusal(PDFBuilder.check(missing.build())) == automatic)
        // Two definitions, one of them an action: an update…
        var twice = PDFBuilder()
        twice.addPage(catalog: "/OpenAction 6 0 R")
        twice.add("[3 0 R /Fit]")
        let updated = twice.build() + Data("6 0 obj\n<< /S /URI /URI (https://tracker.example/) >>\nendobj\n%%EOF\n".utf8)
        #expect(refusal(PDFBuilder.check(updated)) == automatic)
        // …or the same number in an object stream.
        let stream = objectStream([(6, "<< /S /URI /URI (https://tracker.example/) >>")])
        twice.addStream("\(stream.entries) /Filter /FlateDecode", flate(stream.data))
        #expect(refusal(PDFBuilder.check(twice.build())) == automatic)
        // A compressed entry names an object stream's object by its index: that one counts.
        let uri = (number: 8, body: "<< /S /URI /URI (https://tracker.example/) >>")
        let goTo = (number: 7, body: "<< /S /GoTo /D [3 0 R /Fit] >>")
        func byIndex(_ objects: [(number: Int, body: String)]) -> Data {
            let stream = objectStream(objects)
            var pdf = PDFBuilder()
            pdf.addPage(catalog: "/OpenAction 7 0 R")
            pdf.addStream("\(stream.entries) /Filter /FlateDecode", flate(stream.data))
            return pdf.buildWithXRefStream(compressed: [7: 6])  // index 0
        }
        #expect(refusal(PDFBuilder.check(byIndex([uri, goTo]))) == automatic)
        #expect(throws: Never.self) { try PDFBuilder.check(byIndex([goTo, uri])).get() }
        // Offsets that do not grow: its objects cannot be told apart.
        var shuffled = PDFBuilder()
        shuffled.addPage(catalog: "/OpenAction 7 0 R")
        shuffled.addStream("/Type /ObjStm /N 2 /First 10 /Filter /FlateDecode", flate(bytes("7 0 7 0   " + goTo.body)))
        #expect(refusal(PDFBuilder.check(shuffled.buildWithXRefStream(compressed: [7: 6]))) == automatic)
        shuffled.objects.removeLast()  // (one object, its offset right: accepted)
        shuffled.addStream("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", flate(bytes("7 0 " + goTo.body)))
        #expect(throws: Never.self) { try PDFBuilder.check(shuffled.buildWithXRefStream(compressed: [7: 6])).get() }
        // A table entry that lands on another object's header.
        var elsewhere = PDFBuilder()
        elsewhere.addPage(catalog: "/OpenAction 6 0 R")
        elsewhere.add("[3 0 R /Fit]")
        elsewhere.add("<< /S /URI /URI (https://tracker.example/) >>")
        #expect(refusal(PDFBuilder.check(elsewhere.build(pointing: [6: "7 0 obj"]))) == automatic)
        #expect(throws: Never.self) { try PDFBuilder.check(elsewhere.build()).get() }
        // What a reader rebuilding the table would take for its header, in a string of a page.
        for (number, refused) in [(6, true), (8, false)] {
            var lookalike = PDFBuilder()
            lookalike.addPage(catalog: "/OpenAction 6 0 R", content: bytes("BT (\(number) 0 obj << /S /URI /URI (https://tracker.example/) >> endobj) Tj ET"))
            lookalike.add("[3 0 R /Fit]")
            if refused {
                #expect(refusal(PDFBuilder.check(lookalike.build())) == automatic)
            } else {
                #expect(throws: Never.self) { try PDFBuilder.check(lookalike.build()).get() }
            }
        }
        // The reviewer's file: the action's only header hides in image data.
        let hidden = pageWithImage(catalog: "/OpenAction 7 0 R", data: "7 0 obj\n<< /S /URI /URI (https://tracker.example/) >>\nendobj")
        #expect(refusal(PDFBuilder.check(hidden.build(pointing: [7: "7 0 obj"]))) == automatic)
        // And /AA stays refused, even for a /GoTo.
        var additional = PDFBuilder()
        additional.addPage(page: "/AA << /O 6 0 R >>")
        additional.add("<< /S /GoTo /D [3 0 R /Fit] >>")
        #expect(refusal(PDFBuilder.check(additional.build())) == automatic)
    }

    @Test func review_remoteLinksMultimediaAnd3DAreRefused() throws {
        for (entry, found) in [
            ("/Annots [<< /Subtype /Link /Rect [0 0 9 9] /A << /S /GoToR /F (other.pdf) /D [0 /Fit] >> >>]", "remote document link"),
            ("/Annots [<< /Subtype /3D /Rect [0 0 9 9] /3DD 6 0 R /3DA << /A /PO >> >>]", "3D content"),
            ("/Annots [<< /Subtype /Screen /Rect [0 0 9 9] /A << /S /Rendition /OP 0 >> >>]", "multimedia"),
            ("/Annots [<< /Subtype /Sound /Rect [0 0 9 9] /Sound 6 0 R >>]", "multimedia"),
            ("/Annots [<< /Subtype /Movie /Rect [0 0 9 9] /Movie << /F (clip.mov) >> >>]", "multimedia"),
            ("/Annots [<< /Subtype /FileAttachment /Rect [0 0 9 9] /FS << /F (x.exe) /EF << /F 6 0 R >> >> >>]", "embedded file"),
        ] {
            var pdf = PDFBuilder()
            pdf.addPage(page: entry)
            pdf.addStream("", bytes("x"))
            #expect(refusal(PDFBuilder.check(pdf.build())) == .activeContent([found]), "\(entry)")
        }
        // The 3D stream's own JavaScript hook, in a compressed stream.
        var hook = PDFBuilder()
        hook.addPage(page: "/Annots [<< /Subtype /3D /Rect [0 0 9 9] /3DD 6 0 R >>]")
        hook.addStream("/Type /3D /Subtype /U3D /Filter /FlateDecode", flate(bytes("<< /OnInstantiate 7 0 R >>")))
        #expect(refusal(PDFBuilder.check(hook.build())) == .activeContent(["3D content"]))
        // An ordinary web link is no reason to refuse.
        var link = PDFBuilder()
        link.addPage(page: "/Annots [<< /Subtype /Link /Rect [0 0 9 9] /A << /S /URI /URI (https://example.org/) >> >>]")
        #expect(throws: Never.self) { try PDFBuilder.check(link.build()).get() }
    }

    @Test func review_predictorsCannotHideNames() {
        // Under a predictor, the filter's output is differences: the names appear once undone.
        let stream = objectStream([script])
        let encoded = flate(pngUp(stream.data, columns: 8))
        var pdf = PDFBuilder()
        pdf.addPage(page: linkTo7.replacingOccurrences(of: "7 0 R", with: "6 0 R"))
        pdf.addStream("\(stream.entries) /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 8 >>", encoded)
        #expect(refusal(PDFBuilder.check(pdf.build())) == .activeContent(["JavaScript"]))
        var sideways = PDFBuilder()
        sideways.addPage(page: linkTo7.replacingOccurrences(of: "7 0 R", with: "6 0 R"))
        sideways.addStream("\(stream.entries) /Filter /FlateDecode /DecodeParms << /Predictor 2 /Colors 2 /Columns 9 >>", flate(tiff(stream.data, colors: 2, columns: 9)))
        #expect(refusal(PDFBuilder.check(sideways.build())) == .activeContent(["JavaScript"]))
        // Parameters we cannot read (kept in another object) or a predictor we cannot undo: refused.
        var indirect = PDFBuilder()
        indirect.addPage()
        indirect.addStream("\(stream.entries) /Filter /FlateDecode /DecodeParms 7 0 R", encoded)
        indirect.add("<< /Predictor 12 /Columns 8 >>")
        #expect(refusal(PDFBuilder.check(indirect.build())) == .damaged("stream filter parameters that are not a dictionary"))
        var unknown = PDFBuilder()
        unknown.addPage()
        unknown.addStream("\(stream.entries) /Filter /FlateDecode /DecodeParms << /Predictor 7 >>", encoded)
        #expect(refusal(PDFBuilder.check(unknown.build())) == .damaged("unsupported predictor 7"))
        var badRow = PDFBuilder()
        badRow.addPage()
        badRow.addStream("/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 8 >>", flate([9] + bytes("BT ET   ")))
        #expect(isDamaged(refusal(PDFBuilder.check(badRow.build()))))
    }
}

@Suite("Finding 5: the PDF scan is linear and bounded")
struct PDFBudgetFindingTests {
    @Test func finding5_hundredThousandTinyStreamsRefusedAsTooComplex() {
        var pdf = PDFBuilder()
        pdf.addPage()
        for _ in 0..<100_000 { pdf.addStream("", bytes("q Q")) }
        let refused = refusal(PDFBuilder.check(pdf.build()))
        #expect(isTooComplex(refused))
        #expect(refused?.message(.en).hasPrefix("This PDF is too complex to check") == true)
        #expect(refused?.message(.fr).hasPrefix("Ce PDF est trop complexe") == true)
    }

    @Test func finding5_tooManyObjectsRefusedAsTooComplex() {
        var pdf = PDFBuilder()
        pdf.addPage()
        for _ in 0..<60_000 { pdf.add("<< >>") }
        #expect(isTooComplex(refusal(PDFBuilder.check(pdf.build()))))
    }

    @Test func finding5_zipBombRefusedAsTooComplex() {
        let bomb = Inflate.deflatedZeros(count: 100_000_000)
        #expect(bomb.count < 1_000_000)
        var pdf = PDFBuilder()
        pdf.addPage(contentEntries: "/Filter /FlateDecode", content: bomb)
        #expect(isTooComplex(refusal(PDFBuilder.check(pdf.build()))))
        // Many smaller ones add up.
        let small = Inflate.deflatedZeros(count: 10_000_000)
        var many = PDFBuilder()
        many.addPage()
        for _ in 0..<8 { many.addStream("/Filter /FlateDecode", small) }
        #expect(isTooComplex(refusal(PDFBuilder.check(many.build()))))
    }

    @Test func finding5_deepNestingRefusedAsTooComplex() {
        var pdf = PDFBuilder()
        pdf.addPage()
        pdf.add(String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000))
        #expect(isTooComplex(refusal(PDFBuilder.check(pdf.build()))))
    }
}

/// JPEG segments: marker and body, the length computed.
private func segment(_ marker: UInt8, _ body: [UInt8]) -> [UInt8] {
    [0xFF, marker, UInt8((body.count + 2) >> 8), UInt8((body.count + 2) & 0xFF)] + body
}

/// A real 64 × 48 photo (it carries EXIF with a maker and a model), segments inserted after SOI.
private func photo(inserting extra: [[UInt8]] = []) throws -> [UInt8] {
    let original = [UInt8](try fixture("photo-with-gps.jpg"))
    return Array(original.prefix(2)) + extra.flatMap { $0 } + Array(original.dropFirst(2))
}

private let exif = segment(0xE1, bytes("Exif\0\0MM\0*GPS 48.8566N 2.3522E SECRET"))

private func inspectJPEG(_ file: [UInt8]) -> Result<FileInspector.Accepted, FileInspector.Refusal> {
    FileInspector.inspect(Data(file), fileName: "photo.jpg", declaredType: "image/jpeg")
}

/// Width and height from a JPEG's frame header (SOF0 or SOF2).
private func jpegSize(_ data: Data) -> (width: Int, height: Int)? {
    let b = [UInt8](data)
    var index = 2
    while index + 9 < b.count, b[index] == 0xFF {
        let marker = b[index + 1]
        let length = Int(b[index + 2]) << 8 | Int(b[index + 3])
        if marker == 0xC0 || marker == 0xC2 {
            return (Int(b[index + 7]) << 8 | Int(b[index + 8]), Int(b[index + 5]) << 8 | Int(b[index + 6]))
        }
        index += 2 + length
    }
    return nil
}

@Suite("Pictures are decoded and re-encoded by libvips: upright, without metadata")
struct ImagePolicyTests {
    @Test func everyMetadataBlockGoesWithTheReencoding() throws {
        let vendor = segment(0xEB, bytes("VENDOR SECRET serial 1234"))
        let notJFIF = segment(0xE0, bytes("AVI1 SECRET"))
        let comment = segment(0xFE, bytes("SECRET comment"))
        let xmp = segment(0xE1, bytes("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>SECRET</x:xmpmeta>"))
        let accepted = try inspectJPEG(try photo(inserting: [vendor, notJFIF, comment, exif, xmp])).get()
        for secret in ["SECRET", "Exif", "PhoneMaker", "48.8566", "xmpmeta"] {
            #expect(!contains(accepted.bytes, secret), "\(secret)")
        }
        #expect(accepted.removedMetadata.contains("EXIF"))
        #expect(jpegSize(accepted.bytes)! == (64, 48))
        // What comes out is clean: inspecting it again finds nothing to remove.
        #expect(try inspectJPEG([UInt8](accepted.bytes)).get().removedMetadata.isEmpty)
    }

    @Test func aPortraitWithOrientation6ComesBackUprightWithoutEXIF() throws {
        let original = try fixture("portrait-exif6.jpg")
        #expect(jpegSize(original)! == (60, 40))
        #expect(contains(original, "Exif"))
        let accepted = try FileInspector.inspect(original, fileName: "portrait.jpg", declaredType: "image/jpeg").get()
        #expect(jpegSize(accepted.bytes)! == (40, 60))
        #expect(!contains(accepted.bytes, "Exif"))
        #expect(accepted.bytes.range(of: Data([0xFF, 0xE1])) == nil)
        #expect(accepted.removedMetadata.contains("orientation 6, applied to the pixels"))
    }

    @Test func aSecondPictureAfterTheEndIsRefused() throws {
        let first = try photo()
        let riding = try photo(inserting: [exif])
        #expect(refusal(inspectJPEG(first + riding)) == .hiddenData)
        #expect(refusal(inspectJPEG(first + bytes("<?php system($_GET['c']); ?>"))) == .hiddenData)
        // Padding after the end is no file.
        #expect(throws: Never.self) { try inspectJPEG(first + [0, 0, 0, 0xFF, 0xFF]).get() }
    }

    @Test func secondaryPicturesTheMPFIndexDeclaresAreDropped() throws {
        // A phone's HDR gain map: declared in APP2 "MPF", stored after the first picture's end.
        let mpf = segment(0xE2, bytes("MPF\0MM\0*index"))
        let accepted = try inspectJPEG(try photo(inserting: [mpf]) + (try photo(inserting: [exif]))).get()
        #expect(!contains(accepted.bytes, "SECRET"))
        #expect(!contains(accepted.bytes, "MPF"))
        #expect(accepted.removedMetadata.contains("secondary pictures (MPF)"))
    }

    @Test func aWebPLosesItsEXIFAndXMPToo() throws {
        // libvips 8.14.1 (Debian 12) ignores `strip` when saving WebP (and writes EXIF of its
        // own): a WebP is kept as a JPEG, and what is written is read back for metadata.
        let original = try fixture("webp-with-gps.webp")
        #expect(contains(original, "GPSSECRET"))
        let accepted = try FileInspector.inspect(original, fileName: "photo.webp", declaredType: "image/webp").get()
        // Kept as a JPEG: libvips 8.14.1 writes an EXIF block into any WebP it saves.
        #expect(accepted.kind == .jpeg)
        #expect(jpegSize(accepted.bytes)! == (48, 32))
        for secret in ["GPSSECRET", "EXIF", "XMP ", "Exif", "xmpmeta"] {
            #expect(!contains(accepted.bytes, secret), "\(secret)")
        }
        #expect(Set(accepted.removedMetadata).isSuperset(of: ["EXIF", "XMP"]))
    }

    @Test func pngTextAndEXIFChunksGo() throws {
        let original = try fixture("scan-with-text.png")
        #expect(contains(original, "Jane Doe"))
        let accepted = try FileInspector.inspect(original, fileName: "scan.png", declaredType: "image/png").get()
        #expect(accepted.kind == .png)
        #expect(!contains(accepted.bytes, "Jane Doe"))
        #expect(!contains(accepted.bytes, "48.8566"))
        #expect(accepted.removedMetadata.contains("text"))
    }

    @Test func aPNGWithDataAfterIENDIsRefused() throws {
        let original = [UInt8](try fixture("scan-with-text.png"))
        #expect(refusal(FileInspector.inspect(Data(original + bytes("PK\u{3}\u{4}payload")), fileName: nil, declaredType: nil)) == .hiddenData)
    }

    @Test func picturesThatDoNotDecodeAreRefused() throws {
        // Cut short, or with a pixel chunk whose checksum is wrong.
        let jpeg = try fixture("photo-with-gps.jpg")
        #expect(isDamaged(refusal(FileInspector.inspect(jpeg.prefix(jpeg.count * 2 / 3), fileName: nil, declaredType: nil))))
        var png = [UInt8](try fixture("scan-with-text.png"))
        let idat = png.indices.first { png[$0..<min($0 + 4, png.count)].elementsEqual(bytes("IDAT")) }!
        png[idat + 6] ^= 0x55
        #expect(isDamaged(refusal(FileInspector.inspect(Data(png), fileName: nil, declaredType: nil))))
        // Only a JPEG's header and frame, no scan.
        #expect(isDamaged(refusal(inspectJPEG([0xFF, 0xD8] + segment(0xC0, [8, 0, 1, 0, 1, 1, 1, 0x11, 0]) + [0xFF, 0xD9]))))
    }

    @Test func aPixelBombIsRefusedBeforeDecoding() throws {
        // A PNG header declaring 50,000 × 50,000, which is all that is read.
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let count = UInt32(data.count)
            let crc = Inflate.crc32(bytes(type) + data)
            return [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)] + bytes(type) + data
                + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
        }
        let side: [UInt8] = [0, 0, 0xC3, 0x50]
        let png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", side + side + [1, 0, 0, 0, 0])
            + chunk("IDAT", Inflate.deflate([UInt8](repeating: 0, count: 6251))) + chunk("IEND", [])
        #expect(refusal(FileInspector.inspect(Data(png), fileName: "bomb.png", declaredType: "image/png")) == .tooManyPixels("50000 × 50000 pixels"))
    }

    @Test func htmlInsideAPictureIsRefusedAsAPolyglot() throws {
        let page = segment(0xFE, bytes("<HTML><body><script>alert(document.cookie)</script>"))
        #expect(refusal(inspectJPEG(try photo(inserting: [page]))) == .polyglot("HTML"))
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
