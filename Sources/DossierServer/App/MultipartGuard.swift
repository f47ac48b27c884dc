import Foundation
import MultipartKit
import NIOCore
import Vapor

/// What MultipartKit (4.7.1, the version this machine has) must never be handed: its parser
/// looks each byte of a part's header name up in a table of 128 entries, so a byte from 0x80 up
/// in a header name traps, and the whole server stops (found by schemathesis: a generated upload
/// with such a header took the server down); and it stops the process on an empty boundary.
///
/// `MultipartHeaderGuard` follows a `multipart/form-data` body as it arrives, chunk by chunk,
/// finds every place the parser could take for the start of a part (each `--boundary`: a
/// superset of the parser's, which also wants the CRLF before it) and the header names that
/// follow, and refuses a byte from 0x80 up in one before the parser sees it. Header values
/// (a file name in UTF-8) are not its business, nor bodies, which it skips with `memchr`.
struct MultipartHeaderGuard {
    /// `--` and the boundary.
    private let delimiter: [UInt8]
    /// For each length of a partial match, the longest proper prefix of the delimiter that is
    /// also a suffix of it (Knuth-Morris-Pratt): a match cut by a chunk's end resumes in the next.
    private let fallback: [Int]

    private enum State {
        /// Looking for the delimiter, `matched` bytes of it matched so far.
        case scanning(matched: Int)
        /// Just after a delimiter: a CR starts the part's headers (a `-`, the end).
        case afterDelimiter
        /// The LF of the CRLF after a delimiter, or after a header's value.
        case lineFeed
        /// In a header's name (empty: at the start of a line, where a CR ends the headers).
        case name(empty: Bool)
        case value
    }

    private var state = State.scanning(matched: 0)

    init?(boundary: String) {
        let bytes = Array(boundary.utf8)
        guard !bytes.isEmpty else { return nil }
        delimiter = Array("--".utf8) + bytes
        var fallback = [0, 0]
        var length = 0
        for index in 1..<delimiter.count {
            while length > 0, delimiter[index] != delimiter[length] { length = fallback[length] }
            if delimiter[index] == delimiter[length] { length += 1 }
            fallback.append(length)
        }
        self.fallback = fallback
    }

    /// Follows `buffer`'s readable bytes; false when one of them may not be handed to the parser
    /// (the body is then refused: the parser would have stopped the process).
    mutating func admits(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { admits($0) }
    }

    mutating func admits(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var index = 0
        let count = bytes.count
        while index < count {
            switch state {
            case .scanning(matched: 0):
                // Bodies: skipped at memchr's speed.
                if let found = find(in: base, from: index, to: count) {
                    index = found + delimiter.count
                    state = .afterDelimiter
                } else {
                    // The chunk's last bytes may start a delimiter that the next one ends.
                    var matched = 0
                    for position in max(index, count - delimiter.count + 1)..<count {
                        matched = step(matched, bytes[position])
                    }
                    state = .scanning(matched: matched)
                    index = count
                }
            case let .scanning(matched):
                let next = step(matched, bytes[index])
                index += 1
                state = next == delimiter.count ? .afterDelimiter : .scanning(matched: next)
            case .afterDelimiter:
                state = bytes[index] == 13 ? .lineFeed : .scanning(matched: 0)
                index += 1
            case .lineFeed:
                state = bytes[index] == 10 ? .name(empty: true) : .scanning(matched: 0)
                index += 1
            case let .name(empty):
                let byte = bytes[index]
                index += 1
                if byte >= 0x80 { return false }
                switch byte {
                case 58 where !empty: state = .value  // ':'
                case 13 where empty: state = .scanning(matched: 0)  // the blank line: the body follows
                case 33...126: state = .name(empty: false)
                default: state = .scanning(matched: 0)  // the parser refuses it itself
                }
            case .value:
                if bytes[index] == 13 { state = .lineFeed }
                index += 1
            }
        }
        return true
    }

    /// Where the delimiter first starts whole in `base[start..<end]`: each `-` found by `memchr`,
    /// compared with `memcmp`.
    private func find(in base: UnsafeRawPointer, from start: Int, to end: Int) -> Int? {
        var position = start
        while end - position >= delimiter.count, let dash = memchr(base + position, 45, end - position - delimiter.count + 1) {
            let offset = base.distance(to: UnsafeRawPointer(dash))
            if delimiter.withUnsafeBytes({ memcmp(base + offset, $0.baseAddress!, delimiter.count) }) == 0 { return offset }
            position = offset + 1
        }
        return nil
    }

    /// The delimiter's partial match after `byte`, from `matched` bytes matched.
    private func step(_ matched: Int, _ byte: UInt8) -> Int {
        var length = matched == delimiter.count ? fallback[matched] : matched
        while length > 0, delimiter[length] != byte { length = fallback[length] }
        return delimiter[length] == byte ? length + 1 : 0
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
