import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where encrypted document bytes live, by key. Behind a protocol so that an S3-compatible
/// store can take the filesystem's place.
protocol BlobStore: Sendable {
    func put(_ data: Data, key: String) async throws
    func get(_ key: String) async throws -> Data
    func delete(_ key: String) async throws
    func exists(_ key: String) async throws -> Bool
}

/// Blobs as files under a directory, fanned out by key prefix. A write goes to a temporary
/// file, is flushed to disk, then renamed into place (and the directory flushed): after a
/// crash there is either the whole blob or none, never a partial file.
struct FileBlobStore: BlobStore {
    let directory: URL

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func url(for key: String) throws -> URL {
        // Keys are ours (UUIDs); anything else could climb out of the directory.
        guard key.count >= 8, key.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw Failure(description: "invalid blob key")
        }
        let lower = key.lowercased()
        return directory.appendingPathComponent(String(lower.prefix(2)), isDirectory: true)
            .appendingPathComponent(String(lower.dropFirst(2).prefix(2)), isDirectory: true)
            .appendingPathComponent(lower)
    }

    func put(_ data: Data, key: String) async throws {
        let target = try url(for: key)
        let folder = target.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try PrivateFile.writeAtomically(data, to: target)
        PrivateFile.flushDirectory(folder)
    }

    func get(_ key: String) async throws -> Data {
        try Data(contentsOf: try url(for: key))
    }

    func delete(_ key: String) async throws {
        let target = try url(for: key)
        if FileManager.default.fileExists(atPath: target.path) {
            try FileManager.default.removeItem(at: target)
        }
    }

    func exists(_ key: String) async throws -> Bool {
        FileManager.default.fileExists(atPath: try url(for: key).path)
    }
}
