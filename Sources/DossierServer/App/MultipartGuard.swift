import Foundation
import MultipartKit
import NIOCore
import Vapor

/// What MultipartKit (4.7.1, the version this machine has) must never be handed: its parser
/// looks each byte of a part's header name up in a table of 128 entries, so a byte from 0x80 up
/// in a header name traps, and the whole server stops (found by schemathesis: a generated upload
/// with such a header took the server down); and it stops the process on an empty boundary.
///
/// `MultipartHeaderGuard` runs the parser's own state machine (`MultipartParser.swift`, 4.7.1:
/// its preamble matcher with its quirks, the CRLF before a part's headers, names, values, the
/// blank line, bodies up to each CR, its delimiter matcher) over a body as it arrives, chunk by
/// chunk, and refuses the body at the first byte from 0x80 the parser would look up as a header
/// name's, before the parser sees the chunk. Where the parser stops (the epilogue, a syntax
/// error), so does the guard; an ASCII byte the parser refuses in a name is followed as a name's
/// (the parser would stop there: the guard only looks further). Header values (a file name in
/// UTF-8) pass. The state carries over between chunks, so where a body is cut changes nothing;
/// bodies are skipped to their next CR with `memchr`.
struct MultipartHeaderGuard {
    /// The parser's delimiter: CR LF, `--`, the boundary.
    private let delimiter: [UInt8]

    private enum State {
        /// Before the first delimiter, `matched` bytes of it matched (the parser's own way).
        case preamble(matched: Int)
        /// The CR (then the LF) that starts a part's headers.
        case beforeHeaders(carriageReturn: Bool)
        /// In a header's name (empty: at the start of a line, where a CR ends the headers).
        case name(empty: Bool)
        case value
        /// The LF after a header's value.
        case afterValue
        /// The LF after the blank line that ends the headers.
        case afterHeaders
        case body
        /// Matching the delimiter from a CR in a body, `matched` bytes so far.
        case delimiter(matched: Int)
        /// The epilogue, or a syntax error: the parser reads nothing more.
        case done
    }

    private var state = State.preamble(matched: 0)

    init?(boundary: String) {
        guard !boundary.isEmpty else { return nil }
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    /// Follows `buffer`'s readable bytes; false when the parser would stop the process on one of
    /// them (the body is then refused).
    mutating func admits(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { admits($0) }
    }

    mutating func admits(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        let length = delimiter.count
        var index = 0
        /// Where the next CR is from `index`, if in these bytes.
        func nextCarriageReturn() -> Int? {
            memchr(base + index, 13, count - index).map { base.distance(to: UnsafeRawPointer($0)) }
        }
        while index < count {
            switch state {
            case .done:
                return true
            case var .preamble(matched):
                while matched < length, index < count {
                    let byte = bytes[index]
                    index += 1
                    if matched == 0, byte == delimiter[2] {
                        matched = 3
                    } else if byte == delimiter[matched] {
                        matched += 1
                    } else if matched > 0, byte == delimiter[0] {
                        matched = 1
                    } else {
                        matched = 0
                    }
                }
                state = matched >= length ? .beforeHeaders(carriageReturn: true) : .preamble(matched: matched)
            case let .beforeHeaders(carriageReturn):
                let byte = bytes[index]
                index += 1
                state = carriageReturn ? (byte == 13 ? .beforeHeaders(carriageReturn: false) : .done) : (byte == 10 ? .name(empty: true) : .done)
            case let .name(empty):
                let byte = bytes[index]
                index += 1
                if byte == 58, !empty {  // ':'
                    state = .value
                } else if byte == 13, empty {
                    state = .afterHeaders
                } else if byte >= 0x80 {
                    // The parser's table has 128 entries: this lookup traps.
                    return false
                } else {
                    state = .name(empty: false)
                }
            case .value:
                guard let carriageReturn = nextCarriageReturn() else {
                    index = count
                    continue
                }
                index = carriageReturn + 1
                state = .afterValue
            case .afterValue:
                state = bytes[index] == 10 ? .name(empty: true) : .done
                index += 1
            case .afterHeaders:
                state = bytes[index] == 10 ? .body : .done
                index += 1
            case .body:
                // The CR is the delimiter's first byte: read there, as the parser does.
                guard let carriageReturn = nextCarriageReturn() else {
                    index = count
                    continue
                }
                index = carriageReturn
                state = .delimiter(matched: 0)
            case let .delimiter(matched):
                let byte = bytes[index]
                index += 1
                if matched >= length {
                    // A CR starts the next part's headers; a `-`, the epilogue; else an error.
                    state = byte == 13 ? .beforeHeaders(carriageReturn: false) : .done
                } else if byte == delimiter[matched] {
                    state = .delimiter(matched: matched + 1)
                } else {
                    state = byte == delimiter[0] ? .delimiter(matched: 1) : .body
                }
            }
        }
        return true
    }
}

/// Vapor's decoder of `multipart/form-data` content (which any route decoding its body would
/// use for a request of that type), behind the guard: a body the parser would stop the process
/// on is a 400, and so is an empty boundary.
struct GuardedFormDataDecoder: ContentDecoder {
    let decoder = FormDataDecoder()

    func decode<D: Decodable>(_ decodable: D.Type, from body: ByteBuffer, headers: HTTPHeaders) throws -> D {
        try decode(D.self, from: body, headers: headers, userInfo: [:])
    }

    func decode<D: Decodable>(_ decodable: D.Type, from body: ByteBuffer, headers: HTTPHeaders,
                              userInfo: [CodingUserInfoKey: any Sendable]) throws -> D {
        guard let boundary = headers.contentType?.parameters["boundary"], var guarding = MultipartHeaderGuard(boundary: boundary) else {
            throw Abort(.unsupportedMediaType, reason: "multipart/form-data needs a boundary.")
        }
        guard guarding.admits(body) else { throw Abort(.badRequest, reason: "The multipart body is malformed.") }
        return try decoder.decode(D.self, from: body, headers: headers, userInfo: userInfo)
    }
}
