import Crypto
import Foundation

/// Documents sealed in chunks, so that a 20 MB file is written and read 64 KiB at a time and
/// never held whole in memory (vault format 3).
///
/// `3 ‖ salt(32)` then chunks of `ciphertext(≤ 64 KiB) ‖ tag(16)`. Each file gets a key of its
/// own, derived from the subject's key with HKDF over a random salt and the context; chunk `i`
/// is sealed with AES-256-GCM under the nonce `i ‖ final-flag` (the STREAM construction of
/// Hoang, Reyhanitabar, Rogaway and Vizár), the context authenticated with each. Chunks cannot
/// be reordered (the index), dropped from the end (the last must carry the final flag) or
/// appended (a chunk after the final one is refused), and a file cannot be moved onto another
/// context: the derived key differs.
public enum SealedStream {
    public static let version: UInt8 = 3
    public static let chunkSize = 64 * 1024
    static let saltSize = 32
    static let tagSize = 16
    public static let headerSize = 1 + saltSize
    public static var sealedChunkSize: Int { chunkSize + tagSize }

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// The size of a sealed file from its plaintext size (an empty file is one empty chunk).
    public static func sealedSize(ofPlaintext count: Int) -> Int {
        let chunks = max(1, (count + chunkSize - 1) / chunkSize)
        return headerSize + count + chunks * tagSize
    }

    static func fileKey(_ key: SymmetricKey, salt: Data, context: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, salt: salt, info: Data("dossier:stream:\(context)".utf8), outputByteCount: 32)
    }

    static func nonce(_ index: UInt64, final: Bool) throws -> AES.GCM.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        withUnsafeBytes(of: index.bigEndian) { bytes.replaceSubrange(3..<11, with: $0) }
        bytes[11] = final ? 1 : 0
        return try AES.GCM.Nonce(data: bytes)
    }

    /// Seals one chunk after the other; every chunk but the last is exactly `chunkSize` long.
    public struct Sealer {
        public let header: Data
        private let key: SymmetricKey
        private let context: Data
        private var index: UInt64 = 0
        private var finished = false

        public init(key: SymmetricKey, context: String) {
            let salt = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            header = Data([SealedStream.version]) + salt
            self.key = SealedStream.fileKey(key, salt: salt, context: context)
            self.context = Data(context.utf8)
        }

        public mutating func seal(_ chunk: Data, final: Bool) throws -> Data {
            guard !finished else { throw Failure(description: "the stream is already sealed to its end") }
            guard final ? chunk.count <= chunkSize : chunk.count == chunkSize else {
                throw Failure(description: "a chunk of \(chunk.count) bytes in the middle of a stream")
            }
            let box = try AES.GCM.seal(chunk, using: key, nonce: try nonce(index, final: final), authenticating: context)
            index += 1
            finished = final
            return box.ciphertext + box.tag
        }
    }

    /// Opens the chunks of one sealed file in order.
    public struct Opener {
        private let key: SymmetricKey
        private let context: Data
        private var index: UInt64 = 0
        private var finished = false

        public init(key: SymmetricKey, context: String, header: Data) throws {
            guard header.count == headerSize, header.first == version else {
                throw Failure(description: "not a document sealed by this vault")
            }
            self.key = SealedStream.fileKey(key, salt: Data(header.dropFirst()), context: context)
            self.context = Data(context.utf8)
        }

        public mutating func open(_ sealedChunk: Data, final: Bool) throws -> Data {
            guard !finished else { throw Failure(description: "bytes after the end of a sealed document") }
            guard sealedChunk.count >= tagSize, sealedChunk.count <= sealedChunkSize,
                  final || sealedChunk.count == sealedChunkSize else {
                throw Failure(description: "the sealed document is cut or altered")
            }
            do {
                let ciphertext = sealedChunk.prefix(sealedChunk.count - tagSize)
                let tag = sealedChunk.suffix(tagSize)
                let box = try AES.GCM.SealedBox(nonce: try nonce(index, final: final), ciphertext: ciphertext, tag: tag)
                let plain = try AES.GCM.open(box, using: key, authenticating: context)
                index += 1
                finished = final
                return plain
            } catch {
                throw Failure(description: "the document cannot be decrypted: wrong key, wrong context, or altered, cut or reordered bytes")
            }
        }
    }

    /// Reads `count` bytes with `read` (which may return fewer), fewer only at the end.
    static func fill(_ count: Int, _ read: (Int) throws -> Data) throws -> Data {
        var data = try read(count)
        while data.count < count {
            let more = try read(count - data.count)
            if more.isEmpty { break }
            data.append(more)
        }
        return data
    }

    /// Seals everything `read` gives (an empty `Data` at the end) and hands the sealed bytes to
    /// `write` as they come, header first. Returns the plaintext's size.
    @discardableResult
    public static func seal(key: SymmetricKey, context: String, read: (Int) throws -> Data, write: (Data) throws -> Void) throws -> Int {
        var sealer = Sealer(key: key, context: context)
        try write(sealer.header)
        var total = 0
        var current = try fill(chunkSize, read)
        while true {
            // One chunk ahead, so that a file whose size is a multiple of the chunk size ends on
            // a full final chunk.
            let next = current.count == chunkSize ? try fill(chunkSize, read) : Data()
            let final = next.isEmpty
            try write(try sealer.seal(current, final: final))
            total += current.count
            if final { return total }
            current = next
        }
    }

    /// Opens a sealed file a chunk at a time as its bytes are pulled with `read`: the header and
    /// the first chunk are read when it is made, then one chunk ahead (only the end of the bytes
    /// tells which chunk is the last).
    public struct Reader {
        private var opener: Opener
        private let read: (Int) throws -> Data
        private var nextSealed: Data
        private var finished = false

        public init(key: SymmetricKey, context: String, read: @escaping (Int) throws -> Data) throws {
            self.read = read
            opener = try Opener(key: key, context: context, header: try fill(headerSize, read))
            nextSealed = try fill(sealedChunkSize, read)
        }

        /// The next chunk of plaintext, or nil after the last. Throws at the first altered,
        /// missing or extra byte.
        public mutating func next() throws -> Data? {
            guard !finished else { return nil }
            let current = nextSealed
            nextSealed = current.count == sealedChunkSize ? try fill(sealedChunkSize, read) : Data()
            let plain = try opener.open(current, final: nextSealed.isEmpty)
            finished = nextSealed.isEmpty
            return plain
        }
    }

    /// Opens a whole sealed file read with `read`, handing the plaintext to `write` chunk by
    /// chunk. Throws at the first altered, missing or extra byte: what was written before it
    /// must then be thrown away.
    @discardableResult
    public static func open(key: SymmetricKey, context: String, read: (Int) throws -> Data, write: (Data) throws -> Void) throws -> Int {
        try withoutActuallyEscaping(read) { read in
            var reader = try Reader(key: key, context: context, read: read)
            var total = 0
            while let plain = try reader.next() {
                try write(plain)
                total += plain.count
            }
            return total
        }
    }

    /// Seals bytes already in memory (tests, small files).
    public static func seal(_ plaintext: Data, key: SymmetricKey, context: String) throws -> Data {
        var sealed = Data()
        try seal(key: key, context: context, read: reading(plaintext), write: { sealed.append($0) })
        return sealed
    }

    public static func open(_ sealed: Data, key: SymmetricKey, context: String) throws -> Data {
        var plain = Data()
        try open(key: key, context: context, read: reading(sealed), write: { plain.append($0) })
        return plain
    }

    /// Reads `data` front to back, up to `count` bytes a call.
    static func reading(_ data: Data) -> (Int) -> Data {
        var offset = data.startIndex
        return { count in
            let end = min(offset + count, data.endIndex)
            defer { offset = end }
            return data[offset..<end]
        }
    }
}
