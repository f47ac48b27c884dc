import DossierCore
import Fluent
import Foundation

/// One file of a document: its sealed bytes are in the blob store under `blobKey`.
final class DocumentFile: Model, @unchecked Sendable {
    static let schema = "document_files"

    @ID(key: .id) var id: UUID?
    @Parent(key: "document_id") var document: Document
    @Field(key: "position") var position: Int
    @Field(key: "blob_key") var blobKey: String
    @Field(key: "kind") var kind: String
    /// Bytes of plaintext (of the stored file: a picture as re-encoded).
    @Field(key: "size") var size: Int
    /// SHA-256 of the sealed bytes as stored: integrity of the blob (checked by `dossier verify`;
    /// a stream's chunks are authenticated one by one as they are read).
    @Field(key: "digest") var digest: String
    /// The original file name, sealed (it is personal data too).
    @Field(key: "sealed_name") var sealedName: Data
    @Field(key: "created_at") var createdAt: Date
    /// 1: sealed under "document-file:KEY"; 2: also bound to the document and the file's position,
    /// so a blob cannot be swapped onto another document or position of the same person;
    /// 3: the content sealed as a stream of 64 KiB chunks (`SealedStream`), with the context of 2.
    @Field(key: "aead_version") var aeadVersion: Int

    /// Listed, not found by reflection: Fluent reflects on the type for every row it reads
    /// otherwise (a fifth of an authenticated read, profiled). `ModelPropertiesTests` keeps
    /// the list equal to the declarations above.
    var properties: [any AnyProperty] { [$id, $document, $position, $blobKey, $kind, $size, $digest, $sealedName, $createdAt, $aeadVersion] }

    init() {}

    init(documentID: UUID, position: Int, blobKey: String, kind: FileInspector.Kind, size: Int, digest: String,
         sealedName: Data, now: Date) {
        $document.id = documentID
        self.position = position
        self.blobKey = blobKey
        self.kind = kind.rawValue
        self.size = size
        self.digest = digest
        self.sealedName = sealedName
        createdAt = now
        aeadVersion = Self.currentAEADVersion
    }

    static let currentAEADVersion = 3

    /// What the file's bytes are authenticated as, besides their subject.
    var contentContext: String { Self.contentContext(document: $document.id, position: position, blobKey: blobKey, version: aeadVersion) }
    var nameContext: String { Self.nameContext(document: $document.id, position: position, blobKey: blobKey, version: aeadVersion) }

    static func contentContext(document: UUID, position: Int, blobKey: String, version: Int = currentAEADVersion) -> String {
        version >= 2 ? "document-file:\(document.uuidString.lowercased()):\(position):\(blobKey)" : "document-file:\(blobKey)"
    }

    static func nameContext(document: UUID, position: Int, blobKey: String, version: Int = currentAEADVersion) -> String {
        version >= 2 ? "document-name:\(document.uuidString.lowercased()):\(position):\(blobKey)" : "document-name:\(blobKey)"
    }
}
