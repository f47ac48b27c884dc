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

    /// Parses `multipart/form-data`: text fields by name, every part with a file name (or named
    /// `file` / `file[]`) as a file.
    static func parse(_ request: Request) throws -> MultipartUpload {
        guard let type = request.headers.contentType, type.type == "multipart", type.subType == "form-data",
              let boundary = type.parameters["boundary"] else {
            throw Abort(.unsupportedMediaType, reason: "Send the file as multipart/form-data with fields 'type' and 'file'.")
        }
        guard let body = request.body.data else {
            throw Abort(.badRequest, reason: "The request has no body.")
        }
        var upload = MultipartUpload()
        var headers: [String: String] = [:]
        var content = Data()
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in headers[name.lowercased()] = value }
        parser.onBody = { buffer in content.append(contentsOf: buffer.readableBytesView) }
        parser.onPartComplete = {
            let disposition = headers["content-disposition"] ?? ""
            let name = Self.parameter("name", in: disposition)
            let fileName = Self.parameter("filename", in: disposition)
            if fileName != nil || name == "file" || name == "file[]" {
                upload.files.append(FilePart(fileName: fileName, contentType: headers["content-type"], data: content))
            } else if let name {
                upload.fields[name] = String(decoding: content, as: UTF8.self)
            }
            headers = [:]
            content = Data()
        }
        do {
            try parser.execute(body)
        } catch {
            throw Abort(.badRequest, reason: "The multipart body is malformed.")
        }
        return upload
    }

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
