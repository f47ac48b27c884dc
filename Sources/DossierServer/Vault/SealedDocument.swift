import Crypto
import DossierCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Document files sealed and opened as streams (vault format 3, `SealedStream`), 64 KiB at a
/// time: a 20 MB file never sits whole in the server's memory, on its way in or out.
enum SealedDocument {
    struct Written: Sendable {
        /// Bytes of plaintext.
        var size: Int
        /// SHA-256 of the sealed bytes, as stored.
        var digest: String
    }

    /// Seals the plaintext file `input` into `output`, a new private file (mode 0600).
    static func seal(_ input: URL, to output: URL, key: SymmetricKey, context: String) throws -> Written {
        let reader = try FileHandle(forReadingFrom: input)
        defer { try? reader.close() }
        let fd = open(output.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PrivateFile.Failure(description: "cannot create \(output.lastPathComponent) (errno \(errno))") }
        var hash = SHA256()
        do {
            let size = try SealedStream.seal(key: key, context: context, read: { try reader.read(upToCount: $0) ?? Data() }, write: { sealed in
                hash.update(data: sealed)
                try PrivateFile.writeAll(sealed, to: fd, path: output.path)
            })
            close(fd)
            return Written(size: size, digest: Digest.hex(hash.finalize()))
        } catch {
            close(fd)
            unlink(output.path)
            throw error
        }
    }

    enum Check: Equatable {
        case intact
        /// The bytes are not the ones written.
        case altered
        /// The bytes are the ones written, but do not open with this key and context.
        case doesNotOpen
    }

    /// Reads a stored file through twice (its digest, then every chunk); nothing is kept.
    static func check(_ blob: () async throws -> any BlobReader, key: SymmetricKey, context: String, digest: String) async throws -> Check {
        let first = try await blob()
        defer { first.close() }
        var hash = SHA256()
        while true {
            let piece = try first.read(upTo: 1 << 20)
            if piece.isEmpty { break }
            hash.update(data: piece)
        }
        guard Digest.hex(hash.finalize()) == digest else { return .altered }
        let second = try await blob()
        defer { second.close() }
        do {
            _ = try SealedStream.open(key: key, context: context, read: { try second.read(upTo: $0) }, write: { _ in })
            return .intact
        } catch is SealedStream.Failure {
            return .doesNotOpen
        }
    }
}

/// One stored file opened for reading, a chunk at a time. The first chunk is opened when it
/// is made, so that a wrong key, a swapped blob or a damaged start fails before any byte is
/// sent; a later damaged chunk ends the stream with an error (the client sees a cut answer,
/// never altered bytes).
final class OpenedDocument: @unchecked Sendable {
    private let reader: (any BlobReader)?
    private var opener: SealedStream.Opener?
    private var pending: Data?
    private var nextSealed = Data()
    private var done = false
    /// Bytes of plaintext in all.
    let size: Int

    /// A format-3 file (a stream of chunks).
    init(streaming reader: any BlobReader, key: SymmetricKey, context: String, size: Int) throws {
        self.reader = reader
        self.size = size
        do {
            var opener = try SealedStream.Opener(key: key, context: context, header: try Self.fill(reader, SealedStream.headerSize))
            let first = try Self.fill(reader, SealedStream.sealedChunkSize)
            nextSealed = first.count == SealedStream.sealedChunkSize ? try Self.fill(reader, SealedStream.sealedChunkSize) : Data()
            pending = try opener.open(first, final: nextSealed.isEmpty)
            done = nextSealed.isEmpty
            self.opener = opener
        } catch {
            reader.close()
            throw error
        }
        if done { reader.close() }
    }

    /// A file sealed whole (formats 1 and 2), already opened.
    init(whole plaintext: Data) {
        reader = nil
        pending = plaintext
        done = true
        size = plaintext.count
    }

    /// The next piece of plaintext, or nil at the end.
    func next() throws -> Data? {
        if let piece = pending {
            pending = nil
            return piece
        }
        guard !done, let reader, var opener = opener else { return nil }
        do {
            let current = nextSealed
            nextSealed = current.count == SealedStream.sealedChunkSize ? try Self.fill(reader, SealedStream.sealedChunkSize) : Data()
            let final = nextSealed.isEmpty
            let piece = try opener.open(current, final: final)
            self.opener = opener
            if final {
                done = true
                reader.close()
            }
            return piece
        } catch {
            done = true
            reader.close()
            throw error
        }
    }

    /// Everything, for callers that need the bytes whole (a small file, a test).
    func readAll() throws -> Data {
        var data = Data()
        data.reserveCapacity(size)
        while let piece = try next() { data.append(piece) }
        return data
    }

    func close() {
        done = true
        reader?.close()
    }

    private static func fill(_ reader: any BlobReader, _ count: Int) throws -> Data {
        var data = try reader.read(upTo: count)
        while data.count < count {
            let more = try reader.read(upTo: count - data.count)
            if more.isEmpty { break }
            data.append(more)
        }
        return data
    }
}
