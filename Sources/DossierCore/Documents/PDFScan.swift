import Foundation

/// Looks for what makes a PDF act: scripts, launch actions, embedded files, forms that send
/// data, actions run on opening or on events.
///
/// The file is read once, linearly, as PDF tokens (plus one lenient pass first when a
/// `/Length` is an indirect reference, to collect the integer objects `12 0 obj 1234 endobj`).
/// Each stream's extent comes from its `/Length`, never from a search for `endstream`; each
/// stream is decoded through its whole filter chain. PDF names (`#xx` escapes decoded) are
/// looked for in the bytes outside streams and in every decoded stream (image data excepted).
/// Anything that cannot be read that way is refused: a file we cannot read entirely is a file
/// we cannot vouch for. Budgets keep the work linear and bounded.
///
/// What we read must be what a reader reads: every cross-reference entry (tables and streams,
/// every section) must point at an object header the pass met outside stream data, objects
/// said to be compressed must sit in an object stream, and the raw bytes of streams we do not
/// read as they are (image data, encoded data) must not hold what a reader rebuilding a
/// damaged file's table would take for an object (`N G obj`) or a trailer.
enum PDFScan {
    static let maximumObjects = 50_000
    static let maximumStreams = 20_000
    /// Decoded bytes for the whole file: a page of text inflates to a few hundred kilobytes.
    static let decodedBudget = 64 * 1024 * 1024
    /// Arrays and dictionaries within each other.
    static let maximumNesting = 100
    /// In-use cross-reference entries, every section together (each is checked after the pass).
    static let maximumReferences = 4 * maximumObjects
    /// Objects `/OpenAction` entries refer to (a file has one, or one per update).
    static let maximumOpenActionTargets = 64

    static let dangerous: [String: String] = [
        "JavaScript": "JavaScript", "JS": "JavaScript", "Launch": "launch action",
        "EmbeddedFile": "embedded file", "EmbeddedFiles": "embedded file", "RichMedia": "rich media",
        "XFA": "XFA form", "SubmitForm": "form submission", "ImportData": "data import", "GoToE": "embedded document link",
        "FileAttachment": "embedded file", "GoToR": "remote document link",
        // A file specification's embedded stream (/EF), also when attached by /AF without a /Type.
        "EF": "embedded file",
        "Movie": multimedia, "Sound": multimedia, "Rendition": multimedia,
        "3DD": threeD, "3DA": threeD, "OnInstantiate": threeD,
        "AA": automaticAction,
    ]
    static let automaticAction = "automatic action"
    static let multimedia = "multimedia"
    static let threeD = "3D content"

    static func check(_ bytes: Data) -> Result<Void, FileInspector.Refusal> {
        bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard hasEndMarker(raw) else { return .failure(.damaged("no end-of-file marker")) }
            let parser = PDFParser(raw, collecting: false)
            var stop: PDFParser.Stop?
            do throws(PDFParser.Stop) {
                try parser.run()
            } catch {
                stop = error
            }
            parser.resolveOpenActions()
            if parser.findings.encrypted { return .failure(.encryptedPDF) }
            if !parser.findings.active.isEmpty { return .failure(.activeContent(parser.findings.active.sorted())) }
            switch stop {
            case .encrypted?: return .failure(.encryptedPDF)
            case let .damaged(what)?: return .failure(.damaged(what))
            case let .tooComplex(what)?: return .failure(.tooComplex(what))
            case nil: break
            }
            if let what = parser.crossReferenceProblem() { return .failure(.damaged(what)) }
            if let what = parser.undecodable { return .failure(.damaged(what)) }
            return .success(())
        }
    }

    /// `%%EOF` somewhere in the file.
    static func hasEndMarker(_ raw: UnsafeRawBufferPointer) -> Bool {
        var index = raw.count - 5
        while index >= 0 {
            if raw[index] == 0x25, raw[index + 1] == 0x25, raw[index + 2] == 0x45, raw[index + 3] == 0x4F, raw[index + 4] == 0x46 {
                return true
            }
            index -= 1
        }
        return false
    }

    /// What the name scan found.
    struct Findings {
        var active = Set<String>()
        var encrypted = false
        /// What `/OpenAction` entries refer to (resolved after the pass).
        var openActionTargets = Set<PDFParser.ObjectID>()
    }

    /// Visits every PDF name in `bytes` (every `/` starts one, even inside strings: better a
    /// false alarm than a miss), `#xx` escapes decoded, and notes the dangerous ones.
    static func scanNames(_ bytes: UnsafeRawBufferPointer, into findings: inout Findings) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        let classes = PDFBytes.classes, hex = PDFBytes.hexValues
        let count = bytes.count
        // Long enough for every name we look for; longer names are not ours.
        var name = [UInt8](repeating: 0, count: 16)
        var index = 0
        var parsedUpTo = 0
        while index < count {
            guard let slash = memchr(base + index, 0x2F, count - index) else { return }
            index = base.distance(to: UnsafeRawPointer(slash)) + 1
            var length = 0
            while index < count, classes[Int(bytes[index])] == PDFBytes.regular {
                var byte = bytes[index]
                if byte == 0x23, index + 2 < count, hex[Int(bytes[index + 1])] != 0xFF, hex[Int(bytes[index + 2])] != 0xFF {
                    byte = hex[Int(bytes[index + 1])] << 4 | hex[Int(bytes[index + 2])]
                    index += 3
                } else {
                    index += 1
                }
                if length < name.count { name[length] = byte }
                length += 1
            }
            guard length > 0, length < name.count else { continue }
            let text = String(decoding: name[0..<length], as: UTF8.self)
            if let what = dangerous[text] {
                findings.active.insert(what)
            } else if text == "Encrypt" {
                findings.encrypted = true
            } else if text == "OpenAction", !findings.active.contains(automaticAction) {
                noteOpenAction(bytes, at: index, parsedUpTo: &parsedUpTo, into: &findings)
            }
        }
    }

    /// What `/OpenAction` (its name ending at `start`) runs on opening. A destination (an
    /// array) or a `/GoTo` action without `/Next` only opens a page; a reference is resolved
    /// after the pass; anything else may be, or lead to, an action. Linear: what a value
    /// accepted here spans is read once (an `/OpenAction` inside it is refused), and after a
    /// refusal no value is read any more.
    static func noteOpenAction(_ bytes: UnsafeRawBufferPointer, at start: Int, parsedUpTo: inout Int, into findings: inout Findings) {
        guard start >= parsedUpTo else {
            findings.active.insert(automaticAction)
            return
        }
        // An array after white space and comments: a destination (the common case, read cheaply).
        let classes = PDFBytes.classes
        var index = start
        while index < bytes.count {
            if classes[Int(bytes[index])] == PDFBytes.white {
                index += 1
            } else if bytes[index] == 0x25 {
                while index < bytes.count, bytes[index] != 0x0A, bytes[index] != 0x0D { index += 1 }
            } else {
                break
            }
        }
        if index < bytes.count, bytes[index] == 0x5B {
            parsedUpTo = index + 1
            return
        }
        let parser = PDFParser(bytes, collecting: true)
        parser.position = start
        parser.extraKeys = PDFParser.actionKeys
        defer { parsedUpTo = max(parsedUpTo, parser.position) }
        do throws(PDFParser.Stop) {
            switch try parser.next() {
            case .dictionaryOpen:
                if PDFParser.opensOnly(try parser.dictionary(depth: 1, build: true)) { return }
            case let .integer(integer):
                if case let .reference(number, generation) = try parser.value(.integer(integer), depth: 0, build: false) {
                    let target = PDFParser.ObjectID(number: number, generation: generation)
                    guard findings.openActionTargets.count < maximumOpenActionTargets || findings.openActionTargets.contains(target) else { break }
                    findings.openActionTargets.insert(target)
                    return
                }
            default:
                break
            }
        } catch {}
        findings.active.insert(automaticAction)
    }

    /// Whether `data`, stream data we do not read as PDF syntax, holds what a reader rebuilding
    /// a damaged file's cross-reference table would take for an object (`N G obj` after white
    /// space or a delimiter) or a trailer (`trailer <<`): the way to hide an object from a linear
    /// reading. In image or compressed data, that is next to impossible by chance. A little wider
    /// than PDF syntax, as rebuilding readers are (white space as a regular expression's `\s`,
    /// `obj` ended by anything but a letter, digit or `_`, comments before `<<`). Linear: each
    /// match looks back or ahead only over bytes no other match looks at.
    static func hidesObject(_ data: UnsafeRawBufferPointer) -> Bool {
        var found = false
        forEachObjectHeader(in: data) { _, _ in
            found = true
            return false
        }
        if found { return true }
        return hidesTrailer(data)
    }

    /// What a reader rebuilding a damaged file's cross-reference table would take for object
    /// headers in `data` (as `hidesObject` says): where each one's number starts, and the
    /// number (leading zeros ignored, very large ones clamped), until `body` returns false.
    static func forEachObjectHeader(in data: UnsafeRawBufferPointer, _ body: (_ offset: Int, _ number: Int) -> Bool) {
        guard let base = data.baseAddress, data.count >= 3 else { return }
        let classes = PDFBytes.classes
        let count = data.count
        func regular(_ index: Int) -> Bool { classes[Int(data[index])] == PDFBytes.regular }
        func white(_ index: Int) -> Bool { classes[Int(data[index])] == PDFBytes.white || data[index] == 0x0B || data[index] == 0xA0 }
        func digit(_ index: Int) -> Bool { data[index] >= 0x30 && data[index] <= 0x39 }
        func word(_ index: Int) -> Bool {
            let byte = data[index] | 0x20
            return digit(index) || (byte >= 0x61 && byte <= 0x7A) || data[index] == 0x5F
        }
        var index = 0
        while index + 3 <= count, let found = memchr(base + index, 0x6F, count - index - 2) {  // o
            let at = base.distance(to: UnsafeRawPointer(found))
            index = at + 1
            guard data[at + 1] == 0x62, data[at + 2] == 0x6A, at + 3 == count || !word(at + 3) else { continue }  // bj
            // Backwards: white space, digits, white space, digits, then white space, a delimiter or the start.
            var back = at - 1
            var matched = true
            for test in [white, digit, white, digit] {
                let from = back
                while back >= 0, test(back) { back -= 1 }
                if back == from {
                    matched = false
                    break
                }
            }
            if matched, back < 0 || !regular(back) || white(back) {
                var number = 0
                var digitIndex = back + 1
                while digit(digitIndex) {
                    number = min(number * 10 + Int(data[digitIndex] - 0x30), 1 << 53)
                    digitIndex += 1
                }
                if !body(back + 1, number) { return }
            }
        }
    }

    /// Whether `data` holds what a rebuilding reader would take for a trailer (see `hidesObject`).
    static func hidesTrailer(_ data: UnsafeRawBufferPointer) -> Bool {
        let classes = PDFBytes.classes
        let count = data.count
        func regular(_ index: Int) -> Bool { classes[Int(data[index])] == PDFBytes.regular }
        func white(_ index: Int) -> Bool { classes[Int(data[index])] == PDFBytes.white || data[index] == 0x0B || data[index] == 0xA0 }
        let trailer = Array("trailer".utf8)
        var index = 0
        while let at = PDFParser.find(trailer, in: data, from: index) {
            index = at + 1
            guard at == 0 || !regular(at - 1) || white(at - 1) else { continue }
            // Then white space and comments, then a dictionary.
            var ahead = at + trailer.count
            while ahead < count {
                if white(ahead) {
                    ahead += 1
                } else if data[ahead] == 0x25 {
                    while ahead < count, data[ahead] != 0x0A, data[ahead] != 0x0D { ahead += 1 }
                } else {
                    break
                }
            }
            if ahead + 1 < count, data[ahead] == 0x3C, data[ahead + 1] == 0x3C { return true }
        }
        return false
    }

    /// The offset after the last `startxref` in the file, where readers start, if one is there.
    static func lastStartxref(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let keyword = Array("startxref".utf8)
        var index = bytes.count - keyword.count
        while index >= 0 {
            if bytes[index] == keyword[0], keyword.indices.allSatisfy({ bytes[index + $0] == keyword[$0] }) { break }
            index -= 1
        }
        guard index >= 0 else { return nil }
        var at = index + keyword.count
        while at < bytes.count, PDFBytes.classes[Int(bytes[at])] == PDFBytes.white { at += 1 }
        var value = 0
        var digits = 0
        while at < bytes.count, bytes[at] >= 0x30, bytes[at] <= 0x39, digits < 18 {
            value = value * 10 + Int(bytes[at] - 0x30)
            digits += 1
            at += 1
        }
        return digits > 0 ? value : nil
    }
}

/// A PDF file read as tokens, once, front to back.
///
/// The checking parser (`collecting: false`) refuses anything it cannot read. When a stream's
/// `/Length` is a reference, a collecting parser first reads the whole file leniently to find
/// the integer objects (`12 0 obj 1234 endobj`), skipping the streams it cannot measure yet.
final class PDFParser {
    enum Stop: Error {
        case damaged(String)
        case tooComplex(String)
        case encrypted
    }

    enum Keyword: Equatable {
        case obj, endobj, stream, endstream, reference, null, xref, trailer, startxref, other
    }

    enum Token: Equatable {
        case integer(Int)
        case real
        /// The bytes after the slash.
        case name(Range<Int>)
        case string
        case dictionaryOpen, dictionaryClose, arrayOpen, arrayClose, stray
        case keyword(Keyword)
        case end
    }

    indirect enum Value {
        case integer(Int)
        case name(String)
        case reference(Int, Int)
        case array([Value])
        case dictionary([String: Value])
        case keyword(Keyword)
        /// Anything whose content does not matter here (also unbuilt arrays and dictionaries).
        case other
    }

    struct ObjectID: Hashable {
        var number: Int
        var generation: Int
    }

    /// Dictionary entries worth keeping: what says how to read a stream.
    static let wanted: Set<String> = [
        "Length", "Filter", "DecodeParms", "DP", "EarlyChange", "Predictor", "Colors", "BitsPerComponent", "Columns",
        "N", "First", "Type", "Subtype",
    ]
    /// What a cross-reference stream's dictionary says besides (read again for those only).
    static let crossReferenceKeys: Set<String> = ["W", "Index", "Size", "Prev"]
    /// What a trailer says of the other sections.
    static let trailerKeys: Set<String> = ["Prev", "XRefStm"]
    /// What tells an action that only opens a page (read again for those only).
    static let actionKeys: Set<String> = ["S", "Next"]
    static let goTo = Array("GoTo".utf8)

    /// An object header (`N G obj`) the pass met, outside stream data, and where its value starts.
    struct Header {
        var number: Int
        var objectStream: Bool
        var body: Int
    }

    /// An object stream the pass decoded: its number (when it has a header), its objects'
    /// numbers, and which of them only open a page (see `opensOnly`).
    struct ObjectStream {
        var number: Int?
        var objects: [Int]
        var opensOnly: [Bool]
    }

    let bytes: UnsafeRawBufferPointer
    let collecting: Bool
    let classes = PDFBytes.classes
    var position = 0

    // Budgets.
    var objects = 0
    var streams = 0
    var decodedLeft = PDFScan.decodedBudget

    // What was found.
    var findings = PDFScan.Findings()
    /// The first stream that could not be decoded (reported after the rest, so that an encrypted
    /// file, whose streams cannot be decoded, is reported as encrypted).
    var undecodable: String?
    /// Integer objects: read as we go when collecting, else from a collecting pass.
    var integers: [ObjectID: Int] = [:]
    var collected: [ObjectID: Int]?
    /// Integer objects defined twice with different values (when collecting).
    var conflicting = Set<ObjectID>()
    /// Where the bytes not yet name-scanned start (stream data excluded).
    var scannedUpTo = 0
    lazy var inflater = Inflater()
    /// Where the token `next()` returned last starts.
    var tokenStart = 0
    /// Keys kept in dictionaries besides the wanted ones, while reading a trailer or a
    /// cross-reference stream's dictionary.
    var extraKeys: Set<String> = []

    // The cross-reference data, checked after the pass (checking parser only).
    /// Object headers by offset (that of the object number).
    var headers: [Int: Header] = [:]
    /// Numbers of objects that are object streams, and of the others.
    var objectStreamNumbers = Set<Int>()
    var otherNumbers = Set<Int>()
    /// Where the `xref` keywords of cross-reference tables are.
    var tables = Set<Int>()
    /// Cross-reference sections named by trailers (`/Prev`, `/XRefStm`).
    var sections: [Int] = []
    /// In-use entries (type 1, `n`), and the object streams compressed entries (type 2) name.
    var inUse: [(number: Int, offset: Int)] = []
    var containers = Set<Int>()
    var references = 0
    /// Whether the file has cross-reference data (then readers start where `startxref` says).
    var sawCrossReference = false
    /// Stream data, in file order (for the message only).
    var streamData: [Range<Int>] = []
    /// Compressed entries (type 2): the object, its object stream, its index there.
    var compressed: [(number: Int, container: Int, index: Int)] = []

    // What an `/OpenAction` by reference may lead to, resolved after the pass.
    var objectStreams: [ObjectStream] = []
    /// An object stream whose objects could not be told apart (its `/N` pairs, `/First`).
    var unreadObjectStream = false

    init(_ bytes: UnsafeRawBufferPointer, collecting: Bool) {
        self.bytes = bytes
        self.collecting = collecting
    }

    // MARK: - The file

    func run() throws(Stop) {
        var previous: Value?
        var beforePrevious: Value?
        var previousStart = 0
        var beforePreviousStart = 0
        while true {
            let token = try next()
            let start = tokenStart
            if token == .end { break }
            var value: Value
            switch token {
            case .keyword(.obj):
                guard case let .integer(number)? = beforePrevious, case let .integer(generation)? = previous,
                      number >= 0, generation >= 0 else {
                    try damaged("an object without a number")
                    beforePrevious = nil
                    previous = nil
                    continue
                }
                try readObject(ObjectID(number: number, generation: generation), at: beforePreviousStart)
                beforePrevious = nil
                previous = nil
                continue
            case .keyword(.stream):
                guard case let .dictionary(dictionary)? = previous else {
                    try damaged("a stream without a dictionary")
                    continue
                }
                try readStream(dictionary, at: previousStart)
                beforePrevious = nil
                previous = nil
                continue
            case .keyword(.xref) where !collecting:
                try readTable(at: start)
                beforePrevious = nil
                previous = nil
                continue
            case .keyword(.trailer) where !collecting:
                try readTrailer()
                beforePrevious = nil
                previous = nil
                continue
            case .keyword(.endstream):
                try damaged("a stream end without a stream")
                continue
            case .dictionaryOpen:
                value = try dictionary(depth: 1, build: true)
            default:
                value = try self.value(token, depth: 0, build: false)
            }
            beforePrevious = previous
            beforePreviousStart = previousStart
            previous = value
            previousStart = start
        }
        if !collecting { scanRaw(upTo: bytes.count) }
    }

    /// `N G obj` has been read (its number at `header`): its value, then its stream if any,
    /// then `endobj`.
    func readObject(_ id: ObjectID, at header: Int) throws(Stop) {
        objects += 1
        if objects > PDFScan.maximumObjects {
            throw .tooComplex("more than \(PDFScan.maximumObjects) objects")
        }
        var objectStream = false
        var bodyStart = -1
        defer {
            if !collecting {
                headers[header] = Header(number: id.number, objectStream: objectStream, body: bodyStart)
                if objectStream {
                    objectStreamNumbers.insert(id.number)
                } else {
                    otherNumbers.insert(id.number)
                }
            }
        }
        let token = try next()
        bodyStart = tokenStart
        if token == .keyword(.endobj) { return }
        let body = try value(token, depth: 0, build: token == .dictionaryOpen)
        if case let .keyword(keyword) = body, keyword != .null, keyword != .other {
            try damaged("object \(id.number) has no value")
            return
        }
        let mark = position
        switch try next() {
        case .keyword(.stream):
            guard case let .dictionary(dictionary) = body else {
                try damaged("object \(id.number) has a stream without a dictionary")
                return
            }
            objectStream = isObjectStream(dictionary)
            try readStream(dictionary, at: bodyStart, object: id.number)
            let after = position
            if try next() != .keyword(.endobj) { position = after }
        case .keyword(.endobj):
            if collecting, case let .integer(integer) = body {
                // Two different values for one object: which one a reader takes is anyone's guess.
                if let known = integers[id], known != integer { conflicting.insert(id) }
                integers[id] = integer
            }
        default:
            position = mark  // `endobj` missing: tolerated, the next token is read as usual
        }
    }

    /// The `stream` keyword has been read: its data, exactly `/Length` bytes, then `endstream`.
    /// Its dictionary starts at `dictionaryStart`.
    func readStream(_ dictionary: [String: Value], at dictionaryStart: Int, object: Int? = nil) throws(Stop) {
        streams += 1
        if streams > PDFScan.maximumStreams {
            throw .tooComplex("more than \(PDFScan.maximumStreams) streams")
        }
        // After `stream`: an end of line (CR LF or LF; a lone CR is tolerated), then the data.
        var start = position
        while start < bytes.count, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        if start + 1 < bytes.count, bytes[start] == 0x0D, bytes[start + 1] == 0x0A {
            start += 2
        } else if start < bytes.count, bytes[start] == 0x0A || bytes[start] == 0x0D {
            start += 1
        } else if !collecting {
            throw .damaged("no line end after a stream keyword")
        }
        let length = try streamLength(dictionary["Length"])
        if let length, length >= 0, length <= bytes.count - start, let after = endstream(after: start + length) {
            if !collecting {
                scanRaw(upTo: start)
                scannedUpTo = start + length
                let data = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])
                // A length found elsewhere in the file is the one thing a reader could find
                // differently (another definition of that object, in an object stream or hidden
                // in a string): then the stream must not hold `endstream` (the reader's end
                // would be inside ours), and its data must end with its end-of-data marker (so
                // that a longer reading decodes no more than ours).
                var indirect = false
                if case .reference? = dictionary["Length"] { indirect = true }
                if indirect, Self.find(Array("endstream".utf8), in: data, from: 0) != nil {
                    throw .damaged("a stream with an indirect /Length holds endstream")
                }
                streamData.append(start..<(start + length))
                if case .name("XRef")? = dictionary["Type"] {
                    try decode(crossReferenceDictionary(at: dictionaryStart), data: data, requireEnd: indirect)
                } else {
                    try decode(dictionary, data: data, requireEnd: indirect, object: object)
                }
            }
            position = after
            return
        }
        guard collecting else {
            if length == nil { throw .damaged("a stream without a usable /Length") }
            throw .damaged("a stream whose /Length does not end at endstream")
        }
        // Collecting only: skip to the next `endstream`, the best guess there is.
        position = Self.find(Array("endstream".utf8), in: bytes, from: start).map { $0 + 9 } ?? bytes.count
    }

    /// The stream length a `/Length` value gives, if any.
    func streamLength(_ value: Value?) throws(Stop) -> Int? {
        switch value {
        case let .integer(length)?:
            return length
        case let .reference(number, generation)?:
            let id = ObjectID(number: number, generation: generation)
            if collecting { return conflicting.contains(id) ? nil : integers[id] }
            if collected == nil {
                let pass = PDFParser(bytes, collecting: true)
                do throws(Stop) {
                    try pass.run()
                    collected = pass.integers.filter { !pass.conflicting.contains($0.key) }
                } catch {
                    if case .tooComplex = error { throw error }
                    // A file the lenient pass cannot read to its end: its integers cannot be
                    // trusted (a string could hide a definition), so no indirect length is.
                    collected = [:]
                }
            }
            return collected?[id]
        default:
            return nil
        }
    }

    /// After `index` and white space, `endstream`: where it ends.
    func endstream(after index: Int) -> Int? {
        var at = index
        while at < bytes.count, classes[Int(bytes[at])] == PDFBytes.white { at += 1 }
        let keyword = Array("endstream".utf8)
        guard at + keyword.count <= bytes.count else { return nil }
        for offset in 0..<keyword.count where bytes[at + offset] != keyword[offset] { return nil }
        let end = at + keyword.count
        guard end == bytes.count || classes[Int(bytes[end])] != PDFBytes.regular else { return nil }
        return end
    }

    /// Where `needle` first occurs in `haystack` from `start`.
    static func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = haystack.baseAddress, let first = needle.first else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            guard let found = memchr(base + index, Int32(first), haystack.count - index - needle.count + 1) else { return nil }
            index = base.distance(to: UnsafeRawPointer(found))
            var offset = 1
            while offset < needle.count, haystack[index + offset] == needle[offset] { offset += 1 }
            if offset == needle.count { return index }
            index += 1
        }
        return nil
    }

    func damaged(_ what: String) throws(Stop) {
        if !collecting { throw .damaged(what) }
    }

    // MARK: - Cross-reference data

    /// `xref` (at `start`) has been read: its subsections, each `first count` then `count`
    /// entries `offset generation n|f`.
    func readTable(at start: Int) throws(Stop) {
        tables.insert(start)
        sawCrossReference = true
        var subsections = 0
        while true {
            let mark = position
            guard case let .integer(first) = try next() else {
                position = mark
                break
            }
            guard case let .integer(count) = try next(), first >= 0, count >= 0 else {
                throw .damaged("a cross-reference subsection without its size")
            }
            subsections += 1
            var number = first
            var index = 0
            while index < count {  // a count larger than the entries ends at the first missing one
                guard case let .integer(offset) = try next(), case let .integer(generation) = try next(),
                      offset >= 0, generation >= 0, try next() == .keyword(.other), position - tokenStart == 1 else {
                    throw .damaged("a cross-reference table entry that cannot be read")
                }
                switch bytes[tokenStart] {
                case 0x6E:  // n
                    try noteInUse(number, at: offset)
                case 0x66:  // f
                    // Readers take a subsection starting at 1 with a free first entry as starting at 0.
                    if index == 0, first == 1 { number = 0 }
                default:
                    throw .damaged("a cross-reference table entry that cannot be read")
                }
                number += 1
                index += 1
            }
        }
        if subsections == 0 { throw .damaged("an empty cross-reference table") }
    }

    /// `trailer` has been read: its dictionary, for the sections it names.
    func readTrailer() throws(Stop) {
        guard try next() == .dictionaryOpen else { throw .damaged("a trailer without a dictionary") }
        extraKeys = Self.trailerKeys
        defer { extraKeys = [] }
        if case let .dictionary(entries) = try dictionary(depth: 1, build: true) {
            try noteSections(entries)
        }
    }

    /// A cross-reference stream's dictionary (at `start`), read again with its own keys.
    func crossReferenceDictionary(at start: Int) throws(Stop) -> [String: Value] {
        let resume = position
        defer {
            position = resume
            extraKeys = []
        }
        position = start
        guard try next() == .dictionaryOpen else { throw .damaged("a cross-reference stream without a dictionary") }
        extraKeys = Self.crossReferenceKeys
        guard case let .dictionary(entries) = try dictionary(depth: 1, build: true) else { return [:] }
        return entries
    }

    /// A cross-reference stream's decoded data: rows of three big-endian fields, `/W` bytes wide,
    /// for the objects `/Index` lists (`[0 /Size]` by default).
    func readCrossReferenceStream(_ dictionary: [String: Value], _ data: UnsafeRawBufferPointer) throws(Stop) {
        sawCrossReference = true
        try noteSections(dictionary)
        guard case let .array(values)? = dictionary["W"], values.count == 3 else {
            throw .damaged("a cross-reference stream without a usable /W")
        }
        var widths: [Int] = []
        for value in values {
            guard case let .integer(width) = value, (0...8).contains(width) else { throw .damaged("a cross-reference stream without a usable /W") }
            widths.append(width)
        }
        let rowWidth = widths[0] + widths[1] + widths[2]
        var ranges: [(first: Int, count: Int)] = []
        switch dictionary["Index"] {
        case nil:
            guard case let .integer(size)? = dictionary["Size"], size >= 0 else { throw .damaged("a cross-reference stream without /Size") }
            ranges = [(0, size)]
        case let .array(values)?:
            guard values.count % 2 == 0 else { throw .damaged("a cross-reference stream without a usable /Index") }
            for pair in stride(from: 0, to: values.count, by: 2) {
                guard case let .integer(first) = values[pair], case let .integer(count) = values[pair + 1], first >= 0, count >= 0 else {
                    throw .damaged("a cross-reference stream without a usable /Index")
                }
                ranges.append((first, count))
            }
        default:
            throw .damaged("a cross-reference stream without a usable /Index")
        }
        var at = 0
        func field(_ width: Int) -> Int {
            var value: UInt64 = 0
            for _ in 0..<width {
                value = value << 8 | UInt64(data[at])
                at += 1
            }
            return Int(clamping: value)
        }
        for range in ranges {
            var number = range.first
            for _ in 0..<range.count {
                guard rowWidth > 0, at + rowWidth <= data.count else {
                    throw .damaged("a cross-reference stream shorter than its /Index")
                }
                let type = widths[0] == 0 ? 1 : field(widths[0])
                let second = field(widths[1])
                let third = field(widths[2])
                switch type {
                case 1: try noteInUse(number, at: second)
                case 2: try noteCompressed(number, in: second, index: third)
                default: break  // free, or a type readers take as a null object
                }
                number += 1
            }
        }
    }

    /// `/Prev` and `/XRefStm`: sections the first one leads to.
    func noteSections(_ entries: [String: Value]) throws(Stop) {
        for key in ["Prev", "XRefStm"] {
            switch entries[key] {
            case nil: continue
            case let .integer(offset)?: sections.append(offset)
            default: throw .damaged("a cross-reference /\(key) that is not an offset")
            }
        }
    }

    func noteInUse(_ number: Int, at offset: Int) throws(Stop) {
        try countReference()
        if number != 0 { inUse.append((number, offset)) }  // object 0 heads the free list, whatever the table says
    }

    func noteCompressed(_ number: Int, in container: Int, index: Int) throws(Stop) {
        try countReference()
        containers.insert(container)
        compressed.append((number, container, index))
    }

    func countReference() throws(Stop) {
        references += 1
        if references > PDFScan.maximumReferences {
            throw .tooComplex("more than \(PDFScan.maximumReferences) cross-reference entries")
        }
    }

    /// After a whole pass: whether the cross-reference data sends a reader anywhere the pass did
    /// not read as objects. (A file without any is read by readers as we did: front to back.)
    func crossReferenceProblem() -> String? {
        func insideStream(_ offset: Int) -> Bool {
            var low = 0, high = streamData.count
            while low < high {
                let middle = (low + high) / 2
                if streamData[middle].upperBound <= offset { low = middle + 1 } else { high = middle }
            }
            return low < streamData.count && streamData[low].contains(offset)
        }
        for entry in inUse {
            guard let header = landing(entry.offset, { headers[$0] }) else {
                return insideStream(entry.offset) ? "the cross-reference table points inside stream data" : "the cross-reference table points at no object"
            }
            if containers.contains(entry.number), !header.objectStream {
                return "the cross-reference table takes objects from a stream that is not an object stream"
            }
        }
        for container in containers where !objectStreamNumbers.contains(container) || otherNumbers.contains(container) {
            return "the cross-reference table takes objects from a stream that is not an object stream"
        }
        if sawCrossReference {
            var starts = sections
            if let last = PDFScan.lastStartxref(bytes) { starts.append(last) }
            for offset in starts where landing(offset, { tables.contains($0) || headers[$0] != nil ? true : nil }) == nil {
                return insideStream(offset) ? "the cross-reference table points inside stream data" : "a cross-reference offset points at no cross-reference section"
            }
        }
        return nil
    }

    /// At `offset`, or after a little white space, the thing sought (where a cross-reference
    /// entry lands).
    func landing<T>(_ offset: Int, _ lookup: (Int) -> T?) -> T? {
        var at = offset
        guard at >= 0 else { return nil }
        for _ in 0...16 {
            if let found = lookup(at) { return found }
            guard at < bytes.count, classes[Int(bytes[at])] == PDFBytes.white else { return nil }
            at += 1
        }
        return nil
    }

    // MARK: - What opens with the file

    /// Whether an action only opens a page: `/S /GoTo` and no `/Next` (which chains any action).
    static func opensOnly(_ action: Value) -> Bool {
        guard case let .dictionary(entries) = action, case .name("GoTo")? = entries["S"], entries["Next"] == nil else { return false }
        return true
    }

    /// Whether the object whose value starts at `start` only opens a page: a destination (an
    /// array), or an action that only opens a page (not a stream). `screened`: `data` is that
    /// object only, and a dictionary is read only if it can name `/GoTo` (which most cannot).
    static func opensOnly(_ data: UnsafeRawBufferPointer, at start: Int, screened: Bool = false) -> Bool {
        guard start >= 0, start <= data.count else { return false }  // (a header whose value was not reached)
        let parser = PDFParser(data, collecting: true)
        parser.position = start
        parser.extraKeys = actionKeys
        do throws(Stop) {
            switch try parser.next() {
            case .arrayOpen:
                return true
            case .dictionaryOpen:
                if screened, find(goTo, in: data, from: parser.position) == nil,
                   find([0x23], in: data, from: parser.position) == nil {  // nor a #xx escape
                    return false
                }
                guard opensOnly(try parser.dictionary(depth: 1, build: true)) else { return false }
                return try parser.next() != .keyword(.stream)
            default:
                return false
            }
        } catch {
            return false
        }
    }

    /// An object stream's decoded `data`: its `/N` pairs `number offset`, each object at
    /// `/First` + offset up to the next one (offsets must grow), and which of them only open a
    /// page, in case `/OpenAction` refers to them. Linear: each object's bytes are read once.
    func noteObjectStream(_ dictionary: [String: Value], _ data: UnsafeRawBufferPointer, number: Int?) {
        guard case let .integer(count)? = dictionary["N"], case let .integer(first)? = dictionary["First"],
              count >= 0, first >= 0, first <= data.count else {
            unreadObjectStream = true
            return
        }
        let pairs = PDFParser(UnsafeRawBufferPointer(rebasing: data[0..<first]), collecting: true)
        var numbers: [Int] = []
        var starts: [Int] = []
        var increasing = true
        for _ in 0..<count {
            guard case let .integer(object)? = try? pairs.next(), case let .integer(offset)? = try? pairs.next(),
                  object >= 0, offset >= 0, offset <= data.count - first else {
                unreadObjectStream = true
                return
            }
            if let last = starts.last, first + offset <= last { increasing = false }
            numbers.append(object)
            starts.append(first + offset)
        }
        var opens: [Bool] = []
        opens.reserveCapacity(count)
        for index in 0..<count {
            let end = index + 1 < count ? starts[index + 1] : data.count
            opens.append(increasing && Self.opensOnly(UnsafeRawBufferPointer(rebasing: data[starts[index]..<end]), at: 0, screened: true))
        }
        objectStreams.append(ObjectStream(number: number, objects: numbers, opensOnly: opens))
    }

    /// After the pass: unless every object an `/OpenAction` refers to only opens a page, an
    /// automatic action.
    func resolveOpenActions() {
        guard !findings.openActionTargets.isEmpty, !findings.active.contains(PDFScan.automaticAction) else { return }
        if !openActionTargetsOnlyOpen(Set(findings.openActionTargets.map(\.number))) {
            findings.active.insert(PDFScan.automaticAction)
        }
    }

    /// Whether the objects numbered `targets` only open a page, wherever a reader may take
    /// them from: every definition counts (at the top level, whatever its generation; in any
    /// object stream, by number; at the index a compressed entry gives), every table entry for
    /// them must land on their own header, and nothing else in the file may look like one of
    /// their headers (a reader rebuilding a damaged file's table would take it). An object
    /// defined nowhere does not only open a page either.
    func openActionTargetsOnlyOpen(_ targets: Set<Int>) -> Bool {
        if unreadObjectStream { return false }
        var found = Set<Int>()
        for header in headers.values where targets.contains(header.number) {
            guard Self.opensOnly(bytes, at: header.body) else { return false }
            found.insert(header.number)
        }
        var streamsByNumber: [Int: [Int]] = [:]
        for (position, stream) in objectStreams.enumerated() {
            if let number = stream.number { streamsByNumber[number, default: []].append(position) }
            for (index, object) in stream.objects.enumerated() where targets.contains(object) {
                guard stream.opensOnly[index] else { return false }
                found.insert(object)
            }
        }
        for entry in compressed where targets.contains(entry.number) {
            // One object stream of that number (two: which one is a reader's guess).
            guard let positions = streamsByNumber[entry.container], positions.count == 1 else { return false }
            let stream = objectStreams[positions[0]]
            guard entry.index >= 0, entry.index < stream.opensOnly.count, stream.opensOnly[entry.index] else { return false }
            found.insert(entry.number)
        }
        for entry in inUse where targets.contains(entry.number) {
            guard landing(entry.offset, { headers[$0] })?.number == entry.number else { return false }
        }
        guard found == targets else { return false }
        var alone = true
        PDFScan.forEachObjectHeader(in: bytes) { offset, number in
            if targets.contains(number), headers[offset] == nil { alone = false }
            return alone
        }
        return alone
    }

    // MARK: - Streams

    enum Filter {
        case flate, asciiHex, ascii85, lzw, runLength, image, crypt
    }

    static let filters: [String: Filter] = [
        "FlateDecode": .flate, "Fl": .flate, "ASCIIHexDecode": .asciiHex, "AHx": .asciiHex,
        "ASCII85Decode": .ascii85, "A85": .ascii85, "LZWDecode": .lzw, "LZW": .lzw, "RunLengthDecode": .runLength, "RL": .runLength,
        "DCTDecode": .image, "DCT": .image, "JPXDecode": .image, "CCITTFaxDecode": .image, "CCF": .image, "JBIG2Decode": .image,
        "Crypt": .crypt,
    ]

    /// Decodes a stream through its filters and scans what comes out (`object`: its number).
    func decode(_ dictionary: [String: Value], data: UnsafeRawBufferPointer, requireEnd: Bool, object: Int? = nil) throws(Stop) {
        if case let .integer(count)? = dictionary["N"], case .name("ObjStm")? = dictionary["Type"], count > 0 {
            objects += count
            if objects > PDFScan.maximumObjects { throw .tooComplex("more than \(PDFScan.maximumObjects) objects") }
        }
        let names: [String]
        switch dictionary["Filter"] {
        case nil, .keyword(.null)?: names = []
        case let .name(name)?: names = [name]
        case let .array(values)?:
            var list: [String] = []
            for value in values {
                guard case let .name(name) = value else { throw .damaged("a stream filter that is not a name") }
                list.append(name)
            }
            names = list
        default: throw .damaged("a stream filter that is not a name")
        }
        var parameters: [Value?] = []
        switch dictionary["DecodeParms"] ?? dictionary["DP"] {
        case let .array(values)?: parameters = values
        case let value?: parameters = [value]
        case nil: break
        }
        let crossReference = isCrossReferenceStream(dictionary)
        // Pixels, or a table of numbers: not PDF syntax, their bytes would only raise false alarms.
        let pixels = !crossReference && isImage(dictionary)
        // Bytes we do not scan as they are must not hide an object from this linear reading.
        if !names.isEmpty || pixels || crossReference, PDFScan.hidesObject(data) {
            throw .damaged("an object hidden in stream data")
        }

        var decoded: [UInt8]?
        var image = false
        for (index, name) in names.enumerated() {
            guard let filter = Self.filters[name] else { throw .damaged("unsupported stream filter /\(name)") }
            if filter == .crypt { throw .encrypted }
            if filter == .image {
                guard index == names.count - 1 else { throw .damaged("image filter /\(name) before another filter") }
                image = true
                break
            }
            var earlyChange = true
            var predictor: Predictor?
            switch index < parameters.count ? parameters[index] : nil {
            case nil, .keyword(.null)?:
                break
            case let .dictionary(entries)?:
                if case let .integer(flag)? = entries["EarlyChange"] { earlyChange = flag != 0 }
                // A predictor changes what the filter's output means: undone, unless for pixels.
                if filter == .flate || filter == .lzw, !pixels { predictor = try Self.predictor(entries) }
            default:
                // Parameters kept elsewhere in the file could change what a reader decodes.
                if !pixels { throw .damaged("stream filter parameters that are not a dictionary") }
            }
            let budget = decodedLeft
            let inflater = self.inflater
            let requireEnd = requireEnd && index == 0  // later filters read all of what we hold
            let result: Result<[UInt8], DecodeFailure>
            if let input = decoded {
                result = input.withUnsafeBytes { raw in
                    Result { () throws(DecodeFailure) in try Self.apply(filter, raw, earlyChange: earlyChange, limit: budget, requireEnd: requireEnd, inflater: inflater) }
                }
            } else {
                result = Result { () throws(DecodeFailure) in try Self.apply(filter, data, earlyChange: earlyChange, limit: budget, requireEnd: requireEnd, inflater: inflater) }
            }
            switch result {
            case let .success(output):
                decodedLeft -= output.count
                decoded = output
                if let predictor {
                    do throws(DecodeFailure) {
                        decoded = try StreamFilters.unpredict(
                            output, predictor: predictor.kind, colors: predictor.colors,
                            bitsPerComponent: predictor.bitsPerComponent, columns: predictor.columns)
                    } catch {
                        if undecodable == nil { undecodable = "a stream cannot be decoded with /\(name) and its predictor" }
                        return
                    }
                }
            case .failure(.overBudget):
                throw .tooComplex("streams expand to more than \(PDFScan.decodedBudget >> 20) MiB")
            case .failure(.invalid):
                if undecodable == nil { undecodable = "a stream cannot be decoded with /\(name)" }
                return
            }
        }
        if crossReference {
            guard !image else { throw .damaged("a cross-reference stream with an image filter") }
            let result: Result<Void, Stop>
            if let decoded {
                result = decoded.withUnsafeBytes { raw in
                    Result { () throws(Stop) in try readCrossReferenceStream(dictionary, raw) }
                }
            } else {
                result = Result { () throws(Stop) in try readCrossReferenceStream(dictionary, data) }
            }
            try result.get()
            return
        }
        if image || pixels { return }
        let objectStream = isObjectStream(dictionary)
        if let decoded {
            decoded.withUnsafeBytes { raw in
                PDFScan.scanNames(raw, into: &self.findings)
                if objectStream { noteObjectStream(dictionary, raw, number: object) }
            }
        } else {
            PDFScan.scanNames(data, into: &findings)
            if objectStream { noteObjectStream(dictionary, data, number: object) }
        }
    }

    func isObjectStream(_ dictionary: [String: Value]) -> Bool {
        if case .name("ObjStm")? = dictionary["Type"] { return true }
        return false
    }

    func isCrossReferenceStream(_ dictionary: [String: Value]) -> Bool {
        if case .name("XRef")? = dictionary["Type"] { return true }
        return false
    }

    /// Image data, unless the stream also says it holds objects.
    func isImage(_ dictionary: [String: Value]) -> Bool {
        if case .name("Image")? = dictionary["Subtype"], !isObjectStream(dictionary) { return true }
        return false
    }

    /// A /Predictor and what it needs (7.4.4.4).
    struct Predictor {
        var kind: Int
        var colors: Int
        var bitsPerComponent: Int
        var columns: Int
    }

    /// The predictor filter parameters ask for, if any; refused if we cannot undo it.
    static func predictor(_ entries: [String: Value]) throws(Stop) -> Predictor? {
        func integer(_ key: String, _ fallback: Int) throws(Stop) -> Int {
            switch entries[key] {
            case nil: return fallback
            case let .integer(value)?: return value
            default: throw .damaged("a /\(key) that is not a number")
            }
        }
        let kind = try integer("Predictor", 1)
        if kind <= 1 { return nil }
        guard kind == 2 || (10...15).contains(kind) else { throw .damaged("unsupported predictor \(kind)") }
        let predictor = Predictor(kind: kind, colors: try integer("Colors", 1), bitsPerComponent: try integer("BitsPerComponent", 8),
                                  columns: try integer("Columns", 1))
        guard (1...32).contains(predictor.colors), [1, 2, 4, 8, 16].contains(predictor.bitsPerComponent),
              (1...(1 << 24)).contains(predictor.columns) else {
            throw .damaged("unsupported predictor parameters")
        }
        return predictor
    }

    static func apply(_ filter: Filter, _ input: UnsafeRawBufferPointer, earlyChange: Bool, limit: Int, requireEnd: Bool, inflater: Inflater) throws(DecodeFailure) -> [UInt8] {
        switch filter {
        case .flate: try inflater.decode(input, limit: limit)
        case .asciiHex: try StreamFilters.asciiHex(input, limit: limit, requireEnd: requireEnd)
        case .ascii85: try StreamFilters.ascii85(input, limit: limit, requireEnd: requireEnd)
        case .lzw: try StreamFilters.lzw(input, earlyChange: earlyChange, limit: limit, requireEnd: requireEnd)
        case .runLength: try StreamFilters.runLength(input, limit: limit, requireEnd: requireEnd)
        case .image, .crypt: throw .invalid
        }
    }

    /// Scans the file's own bytes from where the last scan stopped.
    func scanRaw(upTo end: Int) {
        guard end > scannedUpTo else { return }
        PDFScan.scanNames(UnsafeRawBufferPointer(rebasing: bytes[scannedUpTo..<end]), into: &findings)
        scannedUpTo = end
    }

    // MARK: - Objects

    /// The value that starts with `token`. Arrays and dictionaries are built only when `build`
    /// (and then only their wanted entries): a file's big arrays are read, not kept.
    func value(_ token: Token, depth: Int, build: Bool) throws(Stop) -> Value {
        switch token {
        case let .integer(number):
            // `N G R` is a reference.
            let mark = position
            if number >= 0, case let .integer(generation)? = try? next(), generation >= 0, case .keyword(.reference)? = try? next() {
                return .reference(number, generation)
            }
            position = mark
            return .integer(number)
        case let .name(range):
            return build ? .name(name(range)) : .other
        case .dictionaryOpen:
            return try dictionary(depth: depth + 1, build: build)
        case .arrayOpen:
            return try array(depth: depth + 1, build: build)
        case let .keyword(keyword):
            return .keyword(keyword)
        default:
            return .other
        }
    }

    func dictionary(depth: Int, build: Bool) throws(Stop) -> Value {
        guard depth <= PDFScan.maximumNesting else { throw .tooComplex("arrays and dictionaries nested too deep") }
        var entries: [String: Value] = [:]
        while true {
            let token = try next()
            switch token {
            case .dictionaryClose:
                return build ? .dictionary(entries) : .other
            case .end, .keyword(.obj), .keyword(.endobj), .keyword(.stream), .keyword(.endstream):
                throw .damaged("an unfinished dictionary")
            case let .name(range):
                let key = build ? name(range) : ""
                let valueToken = try next()
                if valueToken == .dictionaryClose { return build ? .dictionary(entries) : .other }
                let keep = build && (Self.wanted.contains(key) || extraKeys.contains(key))
                let value = try value(valueToken, depth: depth, build: keep)
                if case let .keyword(keyword) = value, keyword != .null, keyword != .other, keyword != .reference {
                    throw .damaged("an unfinished dictionary")
                }
                if keep {
                    // Readers differ on which of two entries wins: refuse to guess.
                    guard entries[key] == nil else { throw .damaged("a dictionary with /\(key) twice") }
                    entries[key] = value
                }
            default:
                continue  // not a key: skipped
            }
        }
    }

    func array(depth: Int, build: Bool) throws(Stop) -> Value {
        guard depth <= PDFScan.maximumNesting else { throw .tooComplex("arrays and dictionaries nested too deep") }
        var elements: [Value] = []
        while true {
            let token = try next()
            switch token {
            case .arrayClose:
                return build ? .array(elements) : .other
            case .end, .keyword(.obj), .keyword(.endobj), .keyword(.stream), .keyword(.endstream):
                throw .damaged("an unfinished array")
            default:
                let element = try value(token, depth: depth, build: build)
                if build { elements.append(element) }
            }
        }
    }

    /// A name's bytes, `#xx` escapes decoded.
    func name(_ range: Range<Int>) -> String {
        let hex = PDFBytes.hexValues
        var decoded: [UInt8] = []
        decoded.reserveCapacity(range.count)
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            if byte == 0x23, index + 2 < range.upperBound, hex[Int(bytes[index + 1])] != 0xFF, hex[Int(bytes[index + 2])] != 0xFF {
                decoded.append(hex[Int(bytes[index + 1])] << 4 | hex[Int(bytes[index + 2])])
                index += 3
            } else {
                decoded.append(byte)
                index += 1
            }
        }
        return String(decoding: decoded, as: UTF8.self)
    }

    // MARK: - Tokens

    func next() throws(Stop) -> Token {
        let count = bytes.count
        // White space and comments.
        while position < count {
            let byte = bytes[position]
            if classes[Int(byte)] == PDFBytes.white {
                position += 1
            } else if byte == 0x25 {
                while position < count, bytes[position] != 0x0A, bytes[position] != 0x0D { position += 1 }
            } else {
                break
            }
        }
        tokenStart = position
        guard position < count else { return .end }
        let byte = bytes[position]
        switch byte {
        case 0x28:  // (
            position += 1
            var depth = 1
            while position < count {
                let byte = bytes[position]
                if byte == 0x5C {  // backslash: the next byte is escaped
                    position += 2
                    continue
                }
                position += 1
                if byte == 0x28 {
                    depth += 1
                } else if byte == 0x29 {
                    depth -= 1
                    if depth == 0 { return .string }
                }
            }
            throw .damaged("an unfinished string")
        case 0x3C:  // <
            if position + 1 < count, bytes[position + 1] == 0x3C {
                position += 2
                return .dictionaryOpen
            }
            position += 1
            while position < count, bytes[position] != 0x3E { position += 1 }
            guard position < count else { throw .damaged("an unfinished hexadecimal string") }
            position += 1
            return .string
        case 0x3E:  // >
            if position + 1 < count, bytes[position + 1] == 0x3E {
                position += 2
                return .dictionaryClose
            }
            position += 1
            return .stray
        case 0x5B:
            position += 1
            return .arrayOpen
        case 0x5D:
            position += 1
            return .arrayClose
        case 0x2F:  // /
            position += 1
            let start = position
            while position < count, classes[Int(bytes[position])] == PDFBytes.regular { position += 1 }
            return .name(start..<position)
        case 0x29, 0x7B, 0x7D:  // ) { }
            position += 1
            return .stray
        default:
            let start = position
            while position < count, classes[Int(bytes[position])] == PDFBytes.regular { position += 1 }
            return word(start..<position)
        }
    }

    /// A number or a keyword.
    func word(_ range: Range<Int>) -> Token {
        var index = range.lowerBound
        var negative = false
        if bytes[index] == 0x2B || bytes[index] == 0x2D {
            negative = bytes[index] == 0x2D
            index += 1
        }
        var digits = 0
        var value = 0
        var dot = false
        var numeric = index < range.upperBound
        while index < range.upperBound {
            let byte = bytes[index]
            if byte >= 0x30, byte <= 0x39 {
                if digits < 18 { value = value * 10 + Int(byte - 0x30) }
                digits += 1
            } else if byte == 0x2E, !dot {
                dot = true
            } else {
                numeric = false
                break
            }
            index += 1
        }
        if numeric {
            if dot || digits > 18 || digits == 0 { return .real }
            return .integer(negative ? -value : value)
        }
        return .keyword(keyword(range))
    }

    func keyword(_ range: Range<Int>) -> Keyword {
        func matches(_ text: StaticString) -> Bool {
            guard text.utf8CodeUnitCount == range.count else { return false }
            let pointer = text.utf8Start
            for offset in 0..<range.count where bytes[range.lowerBound + offset] != pointer[offset] { return false }
            return true
        }
        switch range.count {
        case 1: return matches("R") ? .reference : .other
        case 3: return matches("obj") ? .obj : .other
        case 4: return matches("null") ? .null : matches("xref") ? .xref : .other
        case 6: return matches("endobj") ? .endobj : matches("stream") ? .stream : .other
        case 7: return matches("trailer") ? .trailer : .other
        case 9: return matches("endstream") ? .endstream : matches("startxref") ? .startxref : .other
        default: return .other
        }
    }
}
