import Crypto
import DossierCore
import Foundation
import MultipartKit
import Vapor
#if canImport(Glibc)
import Glibc
#endif

/// A multipart request's fields and files, read without trusting any file name as a path.
///
/// The body is read as it arrives. Each file is sealed as it comes (`SealedStream`, under a
/// random key that lives in this process's memory only) into a private file of its own in the
/// scratch directory (mode 0600, a random name): memory holds one network read and a few
/// buffers whatever the size of the upload, and no file's plaintext reaches the disk until it
/// is inspected, one at a time (`FilePart.open`). The files are deleted on every path, answered
/// or not (`receive`); a server stopped mid-upload empties the scratch directory when it starts
/// again, and what it held cannot be read without the key that died with the process.
struct MultipartUpload {
    struct FilePart: Sendable {
        var fileName: String?
        var contentType: String?
        /// The received bytes, sealed, in the scratch directory.
        var file: URL
        /// Bytes of plaintext.
        var size: Int
        let key: SymmetricKey

        static let context = "upload-spool"

        /// The plaintext written to `destination`, a new private file (mode 0600).
        func open(to destination: URL) throws {
            let reader = try FileHandle(forReadingFrom: file)
            defer { try? reader.close() }
            try PrivateFile.writeNew(destination) { write in
                var buffer = Data()
                try SealedStream.open(key: key, context: Self.context, read: { try reader.read(upToCount: $0) ?? Data() }, write: { piece in
                    buffer.append(piece)
                    if buffer.count >= MultipartUpload.writeSize {
                        try write(buffer)
                        buffer.removeAll(keepingCapacity: true)
                    }
                })
                try write(buffer)
            }
        }
    }

    var fields: [String: String] = [:]
    var files: [FilePart] = []

    /// Refuses (422) a field not in `allowed`: a misspelt field is never silently ignored.
    func requireKnownFields(_ allowed: Set<String>, language: Language) throws {
        let unknown = Set(fields.keys).subtracting(allowed).subtracting(["file"])
        guard unknown.isEmpty else {
            throw ValidationFailure(problems: unknown.sorted().map { FieldProblem(field: $0, message: ProfileWording(language).unknownField) })
        }
    }

    /// The optional `guarantor` field: nil when absent or empty, else an id (400 if it is not one).
    func guarantorID() throws -> UUID? {
        guard let raw = fields["guarantor"], !raw.isEmpty else { return nil }
        guard let id = UUID(uuidString: raw) else { throw Abort(.badRequest, reason: "'guarantor' must be a guarantor id.") }
        return id
    }

    /// Bytes gathered before a write to disk.
    static let writeSize = 256 * 1024
    /// What a part's headers may take, and how many a part may have.
    static let headerBytesPerPart = 16 * 1024
    static let headersPerPart = 16

    /// Deletes the received files.
    func discard() {
        for part in files { unlink(part.file.path) }
    }

    /// Reads the form, runs `body` with it, then deletes its files whatever happened.
    static func receive<T>(_ request: Request, maximumBytes: Int, maximumFiles: Int, language: Language,
                           _ body: (MultipartUpload) async throws -> T) async throws -> T {
        let form = try await read(request, maximumBytes: maximumBytes, maximumFiles: maximumFiles, language: language)
        do {
            let result = try await body(form)
            form.discard()
            return result
        } catch {
            form.discard()
            throw error
        }
    }

    /// Reads `multipart/form-data` as it arrives (the route takes its body as a stream, so
    /// nothing is read before the caller was authenticated and admitted), at most `maximumBytes`
    /// in all: text fields by name, every part with a file name (or named `file` / `file[]`) as a
    /// file, at most `maximumFiles` files of `FileInspector.maximumSize` each. Text fields are
    /// capped at 4 KiB, a part's headers at 16 KiB and 16 lines, and at most 64 parts are
    /// accepted. The caller deletes the files (`discard`); on an error, none is left.
    static func read(_ request: Request, maximumBytes: Int, maximumFiles: Int, language: Language = .en) async throws -> MultipartUpload {
        guard let type = request.headers.contentType, type.type == "multipart", type.subType == "form-data",
              let boundary = type.parameters["boundary"], !boundary.isEmpty, boundary.utf8.count <= 200 else {
            throw Abort(.unsupportedMediaType, reason: "Send the file as multipart/form-data with fields 'type' and 'file'.")
        }
        if let length = request.headers.first(name: .contentLength).flatMap(Int.init), length > maximumBytes {
            throw Abort(.payloadTooLarge, reason: "The request is larger than \(maximumBytes / 1024 / 1024) MB.")
        }
        let collector = Collector(spool: request.dossier.inspector.scratch, maximumFiles: maximumFiles, language: language)
        let parser = MultipartParser(boundary: boundary)
        // What would stop the process in the parser is refused before it (`MultipartHeaderGuard`).
        guard var guarding = MultipartHeaderGuard(boundary: boundary) else {
            throw Abort(.unsupportedMediaType, reason: "Send the file as multipart/form-data with fields 'type' and 'file'.")
        }
        parser.onHeader = { name, value in collector.header(name, value) }
        parser.onBody = { buffer in collector.body(buffer) }
        parser.onPartComplete = { collector.complete() }
        var received = 0
        // The last bytes received: a complete body ends with the closing delimiter. A client that
        // goes away mid-upload ends the body early without an error, and what it sent must not
        // be stored as if it were all.
        var tail = [UInt8]()
        let closing = Array("--\(boundary)--".utf8)
        // A body trickled in to hold an upload slot is cut off: the connection's idle timeout
        // ends a silent one, and this deadline a slow one.
        let deadline = ContinuousClock.now + Self.bodyDeadline
        var chunks = request.body.makeAsyncIterator()
        do {
            while let chunk = try await chunks.next() {
                guard ContinuousClock.now < deadline else {
                    throw Abort(.requestTimeout, reason: "The upload took longer than \(Self.bodyDeadline): try again on a faster connection.")
                }
                received += chunk.readableBytes
                guard received <= maximumBytes else {
                    throw Abort(.payloadTooLarge, reason: "The request is larger than \(maximumBytes / 1024 / 1024) MB.")
                }
                guard guarding.admits(chunk) else { throw Abort(.badRequest, reason: "The multipart body is malformed.") }
                do {
                    try parser.execute(chunk)
                } catch {
                    throw Abort(.badRequest, reason: "The multipart body is malformed.")
                }
                if let problem = collector.problem { throw problem }
                // What is not body is boundaries and headers, which the parser gathers in memory
                // until they end: bounded per part, so a megabyte-long header or millions of
                // them are refused as they come.
                guard received - collector.bodyBytes <= (collector.parts + 1) * (Self.headerBytesPerPart + closing.count + 8) else {
                    throw Abort(.badRequest, reason: "The headers of a part of the form are too long.")
                }
                tail.append(contentsOf: chunk.readableBytesView.suffix(closing.count + 64))
                if tail.count > closing.count + 64 { tail.removeFirst(tail.count - closing.count - 64) }
            }
            let declared = request.headers.first(name: .contentLength).flatMap(Int.init)
            guard declared.map({ $0 == received }) ?? true, Self.endsWithClosingDelimiter(tail, closing), collector.isBetweenParts else {
                throw Abort(.badRequest, reason: "The upload was cut off before its end: send it again.")
            }
            guard collector.parts > 0 else { throw Abort(.badRequest, reason: "The multipart body is empty or malformed.") }
            return collector.upload
        } catch {
            // Cut off, refused or malformed: nothing received stays on disk.
            collector.abandon()
            await Self.drain(&chunks, until: deadline)
            throw error
        }
    }

    /// What a refused upload may still send, read and dropped before the answer. Vapor leaves
    /// a body stream that its reader stopped reading undrained: the connection then stops
    /// reading, and the client's next request on it (a retry of the upload, typically) waits
    /// for the idle timeout, holding the account's upload slot for a minute (found by the
    /// hostile-input tests).
    static let drainLimit = 8 * 1024 * 1024

    static func drain(_ chunks: inout Request.Body.AsyncIterator, until deadline: ContinuousClock.Instant) async {
        var drained = 0
        while drained <= drainLimit, ContinuousClock.now < deadline, let chunk = try? await chunks.next() {
            drained += chunk.readableBytes
        }
    }

    /// Gathers the parts as the parser hands them over (on the request's task, one at a time).
    private final class Collector: @unchecked Sendable {
        var upload = MultipartUpload()
        var headers: [String: String] = [:]
        var headerCount = 0
        var content = Data()
        var parts = 0
        /// Bytes of body handed over, of every part.
        var bodyBytes = 0
        var problem: (any Error)?
        let spool: URL
        let maximumFiles: Int
        let language: Language

        /// The file of the part under way, while it is written.
        final class Spool {
            let url: URL
            let fd: Int32
            let key = SymmetricKey(size: .bits256)
            var sealer: SealedStream.Sealer
            var size = 0
            /// Plaintext not yet sealed (less than a chunk, or a chunk kept back: the last one
            /// is sealed as the last).
            var plain = ByteBuffer()
            /// Sealed bytes not yet written.
            var sealed = Data()

            init(url: URL, fd: Int32) {
                self.url = url
                self.fd = fd
                sealer = SealedStream.Sealer(key: key, context: FilePart.context)
                sealed.append(sealer.header)
            }

            func add(_ buffer: ByteBuffer) throws {
                size += buffer.readableBytes
                plain.writeImmutableBuffer(buffer)
                while plain.readableBytes > SealedStream.chunkSize {
                    let chunk = plain.readData(length: SealedStream.chunkSize)!
                    sealed.append(try sealer.seal(chunk, final: false))
                    if sealed.count >= MultipartUpload.writeSize { try flush() }
                }
                plain.discardReadBytes()
            }

            func finish() throws {
                let rest = plain.readData(length: plain.readableBytes) ?? Data()
                sealed.append(try sealer.seal(rest, final: true))
                try flush()
            }

            func flush() throws {
                try PrivateFile.writeAll(sealed, to: fd, path: url.path)
                sealed.removeAll(keepingCapacity: true)
            }
        }

        var current: Spool?

        init(spool: URL, maximumFiles: Int, language: Language) {
            self.spool = spool
            self.maximumFiles = maximumFiles
            self.language = language
        }

        /// No part is under way: its headers started, its body not ended.
        var isBetweenParts: Bool { current == nil && headers.isEmpty && content.isEmpty && headerCount == 0 }

        func header(_ name: String, _ value: String) {
            headerCount += 1
            guard headerCount <= MultipartUpload.headersPerPart else {
                problem = Abort(.badRequest, reason: "A part of the form has too many headers.")
                return
            }
            // Only these two matter; the others are counted, not kept.
            let key = name.lowercased()
            if key == "content-disposition" || key == "content-type" { headers[key] = value }
        }

        /// Whether the part under way is a file, decided at its first piece of body (the parser
        /// hands a part's body over in many small pieces: parsing its headers again for each
        /// piece took three quarters of an upload's time, profiled).
        var partIsFile: Bool?

        var isFile: Bool {
            if let known = partIsFile { return known }
            let disposition = headers["content-disposition"] ?? ""
            let isFile = MultipartUpload.parameter("filename", in: disposition) != nil
                || ["file", "file[]"].contains(MultipartUpload.parameter("name", in: disposition) ?? "")
            partIsFile = isFile
            return isFile
        }

        func body(_ buffer: ByteBuffer) {
            guard problem == nil else { return }
            bodyBytes += buffer.readableBytes
            guard isFile else {
                content.append(contentsOf: buffer.readableBytesView)
                if content.count > 4096 { problem = Abort(.badRequest, reason: "A text field of the form is longer than 4 KiB.") }
                return
            }
            do {
                let file = try current ?? startFile()
                current = file
                guard file.size + buffer.readableBytes <= FileInspector.maximumSize else {
                    let name = MultipartUpload.parameter("filename", in: headers["content-disposition"] ?? "").map { "\($0): " } ?? ""
                    problem = Abort(.payloadTooLarge, reason: name + FileInspector.Refusal.tooLarge.message(language))
                    return
                }
                // Gathered, sealed a chunk at a time and written 256 KiB at a time: the parser
                // hands a body over in pieces as small as a few bytes (at every CR that might
                // start a boundary), and a write for each took two fifths of an upload's time
                // (profiled).
                try file.add(buffer)
            } catch {
                problem = error
            }
        }

        /// A new private file for the part under way.
        func startFile() throws -> Spool {
            // A file under another name than `file` is a field no route reads: refused, not stored.
            let name = MultipartUpload.parameter("name", in: headers["content-disposition"] ?? "") ?? ""
            guard ["file", "file[]"].contains(name) else {
                throw ValidationFailure(problems: [FieldProblem(field: String(name.prefix(40)), message: ProfileWording(language).unknownField)])
            }
            guard upload.files.count < maximumFiles else {
                throw Abort(.payloadTooLarge, reason: language == .fr ? "\(maximumFiles) fichiers au plus par pièce." : "At most \(maximumFiles) files per document.")
            }
            let url = spool.appendingPathComponent("upload-\(UUID().uuidString.lowercased()).part")
            return Spool(url: url, fd: try PrivateFile.createNew(url))
        }

        func complete() {
            guard problem == nil else { return }
            parts += 1
            if parts > 64 {
                problem = Abort(.badRequest, reason: "The form has too many parts.")
                return
            }
            let disposition = headers["content-disposition"] ?? ""
            let name = MultipartUpload.parameter("name", in: disposition)
            let fileName = MultipartUpload.parameter("filename", in: disposition)
            if isFile {
                do {
                    // An empty file part has had no body: its file is made here.
                    let file = try current ?? startFile()
                    current = nil
                    do {
                        try file.finish()
                    } catch {
                        close(file.fd)
                        unlink(file.url.path)
                        throw error
                    }
                    close(file.fd)
                    upload.files.append(FilePart(fileName: fileName, contentType: headers["content-type"], file: file.url, size: file.size, key: file.key))
                } catch {
                    problem = error
                }
            } else if let name {
                guard let text = String(data: content, encoding: .utf8) else {
                    problem = Abort(.badRequest, reason: "The form field '\(String(name.prefix(40)))' is not valid UTF-8.")
                    return
                }
                upload.fields[name] = text
            }
            headers = [:]
            headerCount = 0
            content = Data()
            partIsFile = nil
        }

        /// Deletes everything received.
        func abandon() {
            if let file = current {
                close(file.fd)
                unlink(file.url.path)
                current = nil
            }
            upload.discard()
            upload.files = []
        }
    }

    /// Whether the body's last bytes are the closing delimiter, then at most blank lines.
    static func endsWithClosingDelimiter(_ tail: [UInt8], _ closing: [UInt8]) -> Bool {
        var end = tail.count
        while end > 0, [UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: " "), UInt8(ascii: "\t")].contains(tail[end - 1]) { end -= 1 }
        return end >= closing.count && Array(tail[(end - closing.count)..<end]) == closing
    }

    /// How long a whole upload body may take to arrive.
    static let bodyDeadline: Duration = .seconds(180)

    /// A parameter of a Content-Disposition value: `name="type"`.
    static func parameter(_ key: String, in header: String) -> String? {
        for part in header.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == key {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }
}
