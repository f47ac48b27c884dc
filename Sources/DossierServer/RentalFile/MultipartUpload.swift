import Foundation
import MultipartKit
import Vapor

/// A multipart request's fields and files, read without trusting any file name as a path.
struct MultipartUpload {
    struct FilePart {
        var fileName: String?
        var contentType: String?
        var data: Data
    }

    var fields: [String: String] = [:]
    var files: [FilePart] = []

    /// Reads `multipart/form-data` as it arrives (the route takes its body as a stream, so
    /// nothing is read before the caller was authenticated and admitted), at most `maximumBytes`
    /// in all: text fields by name, every part with a file name (or named `file` / `file[]`) as a
    /// file. Text fields are capped at 4 KiB, and at most 64 parts are accepted.
    static func read(_ request: Request, maximumBytes: Int) async throws -> MultipartUpload {
        guard let type = request.headers.contentType, type.type == "multipart", type.subType == "form-data",
              let boundary = type.parameters["boundary"], !boundary.isEmpty, boundary.utf8.count <= 200 else {
            throw Abort(.unsupportedMediaType, reason: "Send the file as multipart/form-data with fields 'type' and 'file'.")
        }
        if let length = request.headers.first(name: .contentLength).flatMap(Int.init), length > maximumBytes {
            throw Abort(.payloadTooLarge, reason: "The request is larger than \(maximumBytes / 1024 / 1024) MB.")
        }
        let collector = Collector()
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in collector.header(name, value) }
        parser.onBody = { buffer in collector.body(buffer) }
        parser.onPartComplete = { collector.complete() }
        var received = 0
        // A body trickled in to hold an upload slot is cut off: the connection's idle timeout
        // ends a silent one, and this deadline a slow one.
        let deadline = ContinuousClock.now + Self.bodyDeadline
        for try await chunk in request.body {
            guard ContinuousClock.now < deadline else {
                throw Abort(.requestTimeout, reason: "The upload took longer than \(Self.bodyDeadline): try again on a faster connection.")
            }
            received += chunk.readableBytes
            guard received <= maximumBytes else {
                throw Abort(.payloadTooLarge, reason: "The request is larger than \(maximumBytes / 1024 / 1024) MB.")
            }
            do {
                try parser.execute(chunk)
            } catch {
                throw Abort(.badRequest, reason: "The multipart body is malformed.")
            }
            if let problem = collector.problem { throw Abort(.badRequest, reason: problem) }
        }
        guard collector.parts > 0 else { throw Abort(.badRequest, reason: "The multipart body is empty or malformed.") }
        return collector.upload
    }

    /// Gathers the parts as the parser hands them over (on the request's task, one at a time).
    private final class Collector: @unchecked Sendable {
        var upload = MultipartUpload()
        var headers: [String: String] = [:]
        var content = Data()
        var parts = 0
        var problem: String?

        func header(_ name: String, _ value: String) {
            headers[name.lowercased()] = value
        }

        /// Whether the part under way is a file, decided at its first piece of body (the parser
        /// hands a part's body over in many small pieces: parsing its headers again for each
        /// piece took three quarters of an upload's time, profiled).
        var partIsFile: Bool?

        func body(_ buffer: ByteBuffer) {
            content.append(contentsOf: buffer.readableBytesView)
            let isFile: Bool
            if let known = partIsFile {
                isFile = known
            } else {
                let disposition = headers["content-disposition"] ?? ""
                isFile = MultipartUpload.parameter("filename", in: disposition) != nil
                    || ["file", "file[]"].contains(MultipartUpload.parameter("name", in: disposition) ?? "")
                partIsFile = isFile
            }
            if !isFile, content.count > 4096 { problem = "A text field of the form is longer than 4 KiB." }
        }

        func complete() {
            parts += 1
            if parts > 64 { problem = "The form has too many parts." }
            let disposition = headers["content-disposition"] ?? ""
            let name = MultipartUpload.parameter("name", in: disposition)
            let fileName = MultipartUpload.parameter("filename", in: disposition)
            if fileName != nil || name == "file" || name == "file[]" {
                upload.files.append(FilePart(fileName: fileName, contentType: headers["content-type"], data: content))
            } else if let name {
                guard let text = String(data: content, encoding: .utf8) else {
                    problem = "The form field '\(String(name.prefix(40)))' is not valid UTF-8."
                    return
                }
                upload.fields[name] = text
            }
            headers = [:]
            content = Data()
            partIsFile = nil
        }
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
