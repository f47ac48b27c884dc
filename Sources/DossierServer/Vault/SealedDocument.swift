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
        var hash = SHA256()
        let size = try PrivateFile.writeNew(output) { write in
            try SealedStream.seal(key: key, context: context, read: { try reader.read(upToCount: $0) ?? Data() }, write: { sealed in
                hash.update(data: sealed)
                try write(sealed)
            })
        }
        return Written(size: size, digest: Digest.hex(hash.finalize()))
    }

    enum Check: Equatable {
        case intact
        /// The bytes are not the ones written.
        case altered
        /// The bytes are the ones written, but do not open with this key and context.
        case doesNotOpen
    }

    /// Reads a stored file through once, hashing every byte and opening every chunk; nothing is
    /// kept.
    static func check(_ blob: any BlobReader, key: SymmetricKey, context: String, digest: String) throws -> Check {
        defer { blob.close() }
        var hash = SHA256()
        let read = { (count: Int) throws -> Data in
            let piece = try blob.read(upTo: count)
            hash.update(data: piece)
            return piece
        }
        var opens = true
        do {
            try SealedStream.open(key: key, context: context, read: read, write: { _ in })
        } catch is SealedStream.Failure {
            opens = false
        }
        // Opening stops at the first bad chunk: the digest covers the rest too.
        while try !read(1 << 20).isEmpty {}
        guard Digest.hex(hash.finalize()) == digest else { return .altered }
        return opens ? .intact : .doesNotOpen
    }
}

/// One stored file opened for reading, a chunk at a time. The first chunk is opened when it
/// is made, so that a wrong key, a swapped blob or a damaged start fails before any byte is
/// sent; a later damaged chunk ends the stream with an error (the client sees a cut answer,
/// never altered bytes).
final class OpenedDocument: @unchecked Sendable {
    private let blob: (any BlobReader)?
    private var stream: SealedStream.Reader?
    private var pending: Data?
    /// Bytes of plaintext in all.
    let size: Int

    /// A format-3 file (a stream of chunks).
    init(streaming blob: any BlobReader, key: SymmetricKey, context: String, size: Int) throws {
        self.blob = blob
        self.size = size
        do {
            var stream = try SealedStream.Reader(key: key, context: context, read: { try blob.read(upTo: $0) })
            pending = try stream.next()
            self.stream = stream
        } catch {
            blob.close()
            throw error
        }
    }

    /// A file sealed whole (formats 1 and 2), already opened.
    init(whole plaintext: Data) {
        blob = nil
        pending = plaintext
        size = plaintext.count
    }

    /// The next piece of plaintext, or nil at the end.
    func next() throws -> Data? {
        if let piece = pending {
            pending = nil
            return piece
        }
        guard var stream else { return nil }
        do {
            guard let piece = try stream.next() else {
                close()
                return nil
            }
            self.stream = stream
            return piece
        } catch {
            close()
            throw error
        }
    }

    func close() {
        stream = nil
        blob?.close()
    }
}
