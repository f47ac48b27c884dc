import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files only the server's user may read, written so that a crash leaves the old or the new
/// content, never a mix: a temporary file (mode 0600), flushed, renamed into place.
enum PrivateFile {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func writeAtomically(_ data: Data, to url: URL) throws {
        try replace(url) { write in try write(data) }
    }

    /// Copies `source` to `url` the way `writeAtomically` writes, a piece at a time.
    static func copyAtomically(_ source: URL, to url: URL) throws {
        let input = try FileHandle(forReadingFrom: source)
        defer { try? input.close() }
        try replace(url) { write in
            while let piece = try input.read(upToCount: 1 << 20), !piece.isEmpty { try write(piece) }
        }
    }

    /// `url` replaced by what `produce` writes: a temporary file beside it, flushed, renamed.
    private static func replace(_ url: URL, _ produce: (_ write: (Data) throws -> Void) throws -> Void) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        try writeNew(temporary, flush: true, produce)
        guard rename(temporary.path, url.path) == 0 else {
            unlink(temporary.path)
            throw Failure(description: "cannot move \(url.lastPathComponent) into place (errno \(errno))")
        }
    }

    /// A new private file (mode 0600, never an existing one), open for writing.
    static func createNew(_ url: URL) throws -> Int32 {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot create \(url.path) (errno \(errno))") }
        return fd
    }

    /// A new private file filled by `produce`, which is handed a function writing to it (and
    /// flushed to disk when `flush`). If anything fails, the file is removed.
    @discardableResult
    static func writeNew<T>(_ url: URL, flush: Bool = false, _ produce: (_ write: (Data) throws -> Void) throws -> T) throws -> T {
        let fd = try createNew(url)
        do {
            let result = try produce { try writeAll($0, to: fd, path: url.path) }
            if flush, fsync(fd) != 0 { throw Failure(description: "cannot flush \(url.path) (errno \(errno))") }
            close(fd)
            return result
        } catch {
            close(fd)
            unlink(url.path)
            throw error
        }
    }

    /// Every byte of `data` to `fd` (`write` may take fewer than asked).
    static func writeAll(_ data: Data, to fd: Int32, path: String) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                guard written > 0 else { throw Failure(description: "cannot write \(path) (errno \(errno))") }
                offset += written
            }
        }
    }

    /// Makes the names in `directory` durable (a rename or a new link is on disk once its
    /// directory is flushed).
    static func flushDirectory(_ directory: URL) {
        let fd = open(directory.path, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    struct Exists: Error {}

    /// Writes a new file, never replacing one: if `url` exists (another process made it first),
    /// throws `Exists` and leaves it as it is.
    static func createExclusively(_ data: Data, at url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        try writeAtomically(data, to: temporary)
        defer { unlink(temporary.path) }
        guard link(temporary.path, url.path) == 0 else {
            if errno == EEXIST { throw Exists() }
            throw Failure(description: "cannot create \(url.path) (errno \(errno))")
        }
        // A key file must survive a power cut that follows it.
        flushDirectory(url.deletingLastPathComponent())
    }

    /// Refuses a file or directory that others than its owner may read or write.
    static func requirePrivate(_ url: URL, what: String) throws {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
              let mode = attributes[.posixPermissions] as? Int else { return }
        if mode & 0o077 != 0 {
            throw ConfigurationError("\(what) \(url.path) is open to other users (mode \(String(mode, radix: 8))): chmod \(attributes[.type] as? FileAttributeType == .typeDirectory ? "700" : "600") it")
        }
    }
}
