import DossierCore
import Foundation
import SQLKit

/// A document as it is listed, with its files and reviews: plain values, read straight from the
/// rows of one joined query (`RentalFileService.documents(of:)`). The list is the most frequent
/// read; making a Fluent model of each document, file and review (their property wrappers
/// allocated, filled through `Decodable`, released) was a fifth of it, profiled.
struct DocumentListing: Sendable {
    struct File: Sendable {
        var id: UUID
        var position: Int
        var blobKey: String
        var kind: String
        var size: Int
        var sealedName: Data
        var aeadVersion: Int
    }

    struct Review: Sendable {
        var id: UUID
        var decision: Document.Status
        var reasons: String
        var comment: String?
        var createdAt: Date

        var reasonIDs: [String] { reasons.split(separator: ",").map(String.init) }
    }

    var id: UUID
    var guarantorID: UUID?
    var subject: String
    var type: String
    var category: String
    var status: Document.Status
    var source: Document.Source
    var receivedAt: Date?
    var createdAt: Date
    var files: [File]
    var reviews: [Review]

    func nameContext(of file: File) -> String {
        DocumentFile.nameContext(document: id, position: file.position, blobKey: file.blobKey, version: file.aeadVersion)
    }

    /// From a document model whose files and reviews are loaded.
    init(_ document: Document) throws {
        id = try document.requireID()
        guarantorID = document.$guarantor.id
        subject = document.subject
        type = document.type
        category = document.category
        status = document.status
        source = document.source
        receivedAt = document.receivedAt
        createdAt = document.createdAt
        files = try document.files.map {
            File(id: try $0.requireID(), position: $0.position, blobKey: $0.blobKey, kind: $0.kind, size: $0.size,
                 sealedName: $0.sealedName, aeadVersion: $0.aeadVersion)
        }
        reviews = try document.reviews.map {
            Review(id: try $0.requireID(), decision: $0.decision, reasons: $0.reasons, comment: $0.comment, createdAt: $0.createdAt)
        }
    }

    /// The columns `init(row:)` reads, as the query names them.
    static let columns = """
        d."id" AS d_id, d."guarantor_id" AS d_guarantor_id, d."subject" AS d_subject, d."type" AS d_type, \
        d."category" AS d_category, d."status" AS d_status, d."source" AS d_source, d."received_at" AS d_received_at, \
        d."created_at" AS d_created_at, f."id" AS f_id, f."position" AS f_position, f."blob_key" AS f_blob_key, \
        f."kind" AS f_kind, f."size" AS f_size, f."sealed_name" AS f_sealed_name, f."aead_version" AS f_aead_version, \
        r."id" AS r_id, r."decision" AS r_decision, r."reasons" AS r_reasons, r."comment" AS r_comment, r."created_at" AS r_created_at
        """

    /// Adds a row of documents joined with their files and reviews (in document order: the rows
    /// of one document follow each other) to `documents`.
    static func collect(_ row: any SQLRow, into documents: inout [DocumentListing]) throws {
        let id = try row.decode(column: "d_id", as: UUID.self)
        if documents.last?.id != id { documents.append(try DocumentListing(row: row)) }
        let last = documents.count - 1
        if let file = try file(of: row), !documents[last].files.contains(where: { $0.id == file.id }) {
            documents[last].files.append(file)
        }
        if let review = try review(of: row), !documents[last].reviews.contains(where: { $0.id == review.id }) {
            documents[last].reviews.append(review)
        }
    }

    /// The document of a row (its files and reviews empty).
    init(row: any SQLRow) throws {
        id = try row.decode(column: "d_id", as: UUID.self)
        guarantorID = try Self.optional(row, "d_guarantor_id", UUID.self)
        subject = try row.decode(column: "d_subject", as: String.self)
        type = try row.decode(column: "d_type", as: String.self)
        category = try row.decode(column: "d_category", as: String.self)
        status = try Self.value(row, "d_status")
        source = try Self.value(row, "d_source")
        receivedAt = try Self.optional(row, "d_received_at", Date.self)
        createdAt = try row.decode(column: "d_created_at", as: Date.self)
        files = []
        reviews = []
    }

    /// The row's file, if it has one.
    static func file(of row: any SQLRow) throws -> File? {
        guard let id = try optional(row, "f_id", UUID.self) else { return nil }
        return File(id: id, position: try row.decode(column: "f_position", as: Int.self), blobKey: try row.decode(column: "f_blob_key", as: String.self),
                    kind: try row.decode(column: "f_kind", as: String.self), size: try row.decode(column: "f_size", as: Int.self),
                    sealedName: try row.decode(column: "f_sealed_name", as: Data.self), aeadVersion: try row.decode(column: "f_aead_version", as: Int.self))
    }

    /// The row's review, if it has one.
    static func review(of row: any SQLRow) throws -> Review? {
        guard let id = try optional(row, "r_id", UUID.self) else { return nil }
        return Review(id: id, decision: try value(row, "r_decision"), reasons: try row.decode(column: "r_reasons", as: String.self),
                      comment: try optional(row, "r_comment", String.self), createdAt: try row.decode(column: "r_created_at", as: Date.self))
    }

    static func optional<T: Decodable>(_ row: any SQLRow, _ column: String, _ type: T.Type) throws -> T? {
        try row.decodeNil(column: column) ? nil : row.decode(column: column, as: T.self)
    }

    static func value<T: RawRepresentable>(_ row: any SQLRow, _ column: String) throws -> T where T.RawValue == String {
        let raw = try row.decode(column: column, as: String.self)
        guard let value = T(rawValue: raw) else { throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(column): unknown value \(raw)")) }
        return value
    }
}
