import Foundation
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Where encrypted document bytes live, by key. Behind a protocol so that an S3-compatible
/// store can take the filesystem's place.
protocol BlobStore: Sendable {
    func put(_ data: Data, key: String) async throws
    /// Moves a finished file of sealed bytes into the store under `key` (the file is gone after).
    func put(fileAt file: URL, key: String) async throws
    func get(_ key: String) async throws -> Data
    /// The blob piece by piece, never whole in memory.
    func reader(_ key: String) async throws -> any BlobReader
    func delete(_ key: String) async throws
    /// Several at once (an erasure's): one trip to the store's thread, not one per blob.
    func delete(_ keys: [String]) async throws
    func exists(_ key: String) async throws -> Bool
    /// Whether the store can be written to now (`GET /health/ready`).
    func isReady() async -> Bool
}

/// Blobs as files under a directory, fanned out by key prefix. A write goes to a temporary
/// file, is flushed to disk, then renamed into place (and the directory flushed): after a
/// crash there is either the whole blob or none, never a partial file.
///
/// Every file operation runs on a thread pool, never on the caller's thread: requests run on
/// NIO's event loops, and an fsync there would stall every connection of that loop.
struct FileBlobStore: BlobStore {
    let directory: URL
    var pool: NIOThreadPool = .singleton

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
        try await pool.runIfActive {
            let folder = target.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try PrivateFile.writeAtomically(data, to: target)
            PrivateFile.flushDirectory(folder)
        }
    }

    func put(fileAt file: URL, key: String) async throws {
        let target = try url(for: key)
        try await pool.runIfActive { try Self.move(file, to: target) }
    }

    private static func move(_ file: URL, to target: URL) throws {
        let folder = target.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // On disk before its name is: after a crash, the whole blob or none.
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "cannot open \(file.lastPathComponent) (errno \(errno))") }
        let flushed = fsync(fd) == 0
        close(fd)
        guard flushed else { throw Failure(description: "cannot flush \(file.lastPathComponent) (errno \(errno))") }
        if rename(file.path, target.path) != 0 {
            guard errno == EXDEV else { throw Failure(description: "cannot move a blob into place (errno \(errno))") }
            // The scratch directory is on another file system: copied, then the copy renamed.
            try PrivateFile.copyAtomically(file, to: target)
            unlink(file.path)
        }
        PrivateFile.flushDirectory(folder)
    }

    func get(_ key: String) async throws -> Data {
        let target = try url(for: key)
        return try await pool.runIfActive { try Data(contentsOf: target) }
    }

    func reader(_ key: String) async throws -> any BlobReader {
        let target = try url(for: key)
        return try await pool.runIfActive { try FileBlobReader(url: target) }
    }

    func delete(_ key: String) async throws {
        let target = try url(for: key)
        try await pool.runIfActive {
            if FileManager.default.fileExists(atPath: target.path) {
                try FileManager.default.removeItem(at: target)
            }
        }
    }

    func delete(_ keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        let targets = try keys.map { try url(for: $0) }
        // unlink(2) itself (a blob is a file, never a directory): FileManager's removal looks the
        // path up several times first, a measurable part of an erasure (`scripts/bench`). One
        // already gone is fine; one that cannot go does not keep the others (the journal names
        // it for the next attempt).
        try await pool.runIfActive {
            var failures: [String] = []
            for (key, target) in zip(keys, targets) where unlink(target.path) != 0 && errno != ENOENT {
                failures.append("\(key): \(String(cString: strerror(errno)))")
            }
            if !failures.isEmpty {
                throw Failure(description: "\(failures.count) blob(s) not deleted, the first \(failures[0])")
            }
        }
    }

    /// The directory is there, is one, and this process may write in it (a mount gone, or made
    /// read-only, is not).
    func isReady() async -> Bool {
        let path = directory.path
        return (try? await pool.runIfActive {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
                && access(path, W_OK | X_OK) == 0
        }) ?? false
    }

    func exists(_ key: String) async throws -> Bool {
        let target = try url(for: key)
        return try await pool.runIfActive { FileManager.default.fileExists(atPath: target.path) }
    }
}

/// Reads a blob a piece at a time.
protocol BlobReader: AnyObject, Sendable {
    /// Up to `count` bytes; fewer only at the end, none after it.
    func read(upTo count: Int) throws -> Data
    func close()
}

final class FileBlobReader: BlobReader, @unchecked Sendable {
    private let handle: FileHandle

    init(url: URL) throws {
        handle = try FileHandle(forReadingFrom: url)
    }

    /// A file already open (an object spooled to an unlinked scratch file), read from where it is.
    init(handle: FileHandle) {
        self.handle = handle
    }

    func read(upTo count: Int) throws -> Data {
        try handle.read(upToCount: count) ?? Data()
    }

    func close() {
        try? handle.close()
    }

    deinit {
        try? handle.close()
    }
}
