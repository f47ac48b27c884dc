@testable import DossierServer
import Foundation
import MultipartKit
import NIOCore
import Testing
import VaporTesting

/// MultipartKit 4.7.1 stops the process on a byte from 0x80 up in a part's header name, and on
/// an empty boundary; the guard refuses both before it, wherever the chunks are cut.
@Suite struct MultipartGuardTests {
    static let boundary = "----WebKitFormBoundary7MA4YWxk"

    static func body(headerName: String = "Content-Disposition", fileName: String = "fiche de paie été.pdf") -> [UInt8] {
        let text = "--\(boundary)\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\ntax-notice\r\n"
            + "--\(boundary)\r\n\(headerName): form-data; name=\"file\"; filename=\"\(fileName)\"\r\nContent-Type: application/pdf\r\n\r\n"
            + "%PDF-1.4 -- ---- \(boundary.dropLast()) \r\n\r\n"
            + "\r\n--\(boundary)--\r\n"
        return Array(text.utf8)
    }

    /// Whether the guard admits `bytes` cut into chunks at `cuts`.
    static func admits(_ bytes: [UInt8], boundary: String = boundary, cuts: [Int]) -> Bool {
        guard var guarding = MultipartHeaderGuard(boundary: boundary) else { return false }
        var start = 0
        for cut in cuts + [bytes.count] where cut >= start {
            guard guarding.admits(ByteBuffer(bytes: bytes[start..<cut])) else { return false }
            start = cut
        }
        return true
    }

    @Test func aFormWithAFileNameInUTF8IsAdmittedHoweverItIsCut() {
        let bytes = Self.body()
        #expect(Self.admits(bytes, cuts: []))
        for cut in 0...bytes.count {
            #expect(Self.admits(bytes, cuts: [cut]), "cut at \(cut)")
        }
        #expect(Self.admits(bytes, cuts: Array(0..<bytes.count)))
    }

    @Test func aHeaderNameBeyondASCIIIsRefusedHoweverItIsCut() {
        for name in ["Cont\u{e9}nt-Disposition", "\u{1F600}", "X-\u{80}"] {
            let bytes = Self.body(headerName: name)
            #expect(!Self.admits(bytes, cuts: []), "\(name)")
            for cut in 0...bytes.count {
                #expect(!Self.admits(bytes, cuts: [cut]), "\(name), cut at \(cut)")
            }
            #expect(!Self.admits(bytes, cuts: Array(0..<bytes.count)), "\(name), byte by byte")
        }
        // Where the parser finds a part that a search for `--boundary` would place elsewhere (a
        // `--abc` line inside a body; its preamble matcher missing an occurrence after a lone
        // CR; a boundary that overlaps itself): the parser's own reading decides.
        for (boundary, text) in [("abc", "--abc\r\n\r\n--abc\r\n--abc\r\n\u{80}:"), ("abc", "\r--abc\r\n--abc\r\n\u{80}:"),
                                 ("x--", "\r--x--x--\r\n\u{80}:"), ("abc", "\r\n--abc\r\n\u{e9}: x\r\n\r\n")] {
            let bytes = Array(text.utf8)
            for cut in 0...bytes.count {
                #expect(!Self.admits(bytes, boundary: boundary, cuts: [cut]), "\(text.debugDescription), cut at \(cut)")
            }
        }
        #expect(MultipartHeaderGuard(boundary: "") == nil)
    }

    /// Random bodies from the pieces a header block is made of, cut at random: the guard says
    /// the same whatever the cuts, and every body it admits goes through MultipartKit's parser
    /// itself (were the guard wrong, the parser would stop this test process).
    @Test func whatTheGuardAdmitsNeverStopsTheParser() throws {
        // Seeded, and the seed printed first: were the parser to stop the process, the output
        // would still say how to replay it (MULTIPART_FUZZ_SEED).
        let seed = ProcessInfo.processInfo.environment["MULTIPART_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        print("multipart guard fuzz: seed \(seed) (replay with MULTIPART_FUZZ_SEED=\(seed))")
        var generator = SplitMix64(seed: seed)
        let pieces = ["\r\n", "\r", "\n", "--", "-", "--abc", "abc", "a", ":", "X", "x: y", "\u{80}", "\u{e9}", " "]
        var admitted = 0
        for _ in 0..<4000 {
            let text = (0..<Int.random(in: 1...14, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let bytes = Array(text.utf8)
            let whole = Self.admits(bytes, boundary: "abc", cuts: [])
            let cuts = (0..<3).map { _ in Int.random(in: 0...bytes.count, using: &generator) }.sorted()
            #expect(Self.admits(bytes, boundary: "abc", cuts: cuts) == whole, "\(text.debugDescription) cut at \(cuts)")
            guard whole else { continue }
            admitted += 1
            let parser = MultipartParser(boundary: "abc")
            do { try parser.execute(bytes) } catch {}
            // And in the pieces the guard was given.
            let chunked = MultipartParser(boundary: "abc")
            var start = 0
            do {
                for cut in cuts + [bytes.count] where cut >= start {
                    try chunked.execute(ByteBuffer(bytes: bytes[start..<cut]))
                    start = cut
                }
            } catch {}
        }
        #expect(admitted > 1000)
    }

    @Test(arguments: TestDatabase.all)
    func neitherAnUploadNorADecodedFormStopsTheServer(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp(verified: true)
            let token = try await app.signIn()
            var headers: HTTPHeaders = ["Authorization": "Bearer \(token)"]
            headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(Self.boundary)")
            let hostile = ByteBuffer(bytes: Self.body(headerName: "Cont\u{e9}nt-Disposition"))
            // The sign-in form's double-submitted CSRF token, so that the form's body is decoded.
            let csrf = String(repeating: "c", count: 43)
            headers.replaceOrAdd(name: CSRFMiddleware.header, value: csrf)
            headers.cookie = HTTPCookies(dictionaryLiteral: (WebCookie.csrf, HTTPCookies.Value(string: csrf)))
            // The streamed upload, and a web form, which decodes its body as content.
            try await app.testing().test(.POST, "api/v1/me/documents", headers: headers, body: hostile) { res in
                #expect(res.status == .badRequest, "\(res.body.string)")
            }
            try await app.testing().test(.POST, "signin", headers: headers, body: hostile) { res in
                #expect(res.status == .badRequest, "\(res.body.string)")
            }
            // An empty boundary.
            headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=")
            try await app.testing().test(.POST, "api/v1/me/documents", headers: headers, body: ByteBuffer(bytes: Self.body())) { res in
                #expect(res.status == .unsupportedMediaType, "\(res.body.string)")
            }
            try await app.testing().test(.POST, "signin", headers: headers, body: ByteBuffer(bytes: Self.body())) { res in
                #expect(res.status == .unsupportedMediaType, "\(res.body.string)")
            }
            // The guarantors' JSON API takes JSON only.
            try await app.testing().test(.POST, "api/v1/me/guarantors", headers: headers, body: hostile) { res in
                #expect(res.status == .unsupportedMediaType)
            }
            try await app.testing().test(.GET, "health") { res in #expect(res.status == .ok) }
            #expect(try await Document.query(on: app.db).count() == 0)
            #expect(try await Guarantor.query(on: app.db).count() == 0)
        }
    }
}

/// A small seeded generator (SplitMix64), for replayable random tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
