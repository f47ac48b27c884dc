import CZlib

/// Why a stream filter stopped.
enum DecodeFailure: Error {
    /// The data is not a whole, valid encoding (bad checksum, truncated, stray bytes).
    case invalid
    /// The output would pass the bytes still allowed.
    case overBudget
}

/// Strict zlib (FlateDecode) decompression with a ceiling. One instance inflates any number of
/// streams, reusing one zlib state and one 64 KiB buffer.
final class Inflater {
    private static let chunk = 64 * 1024
    private let stream: UnsafeMutablePointer<z_stream>
    private let buffer: UnsafeMutablePointer<UInt8>
    private let ready: Bool

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        buffer = .allocate(capacity: Self.chunk)
        ready = inflateInit_(stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
    }

    deinit {
        if ready { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        buffer.deallocate()
    }

    /// The whole decompressed stream: it must reach its end and pass zlib's Adler-32 check; only
    /// white space may follow it. Empty (or all white) input decodes to nothing.
    func decode(_ input: UnsafeRawBufferPointer, limit: Int) throws(DecodeFailure) -> [UInt8] {
        if PDFBytes.isAllWhitespace(input, from: 0) { return [] }
        guard ready, inflateReset(stream) == Z_OK, let base = input.baseAddress else { throw .invalid }
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, max(input.count * 4, 1024)))
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        var status: Int32
        repeat {
            stream.pointee.next_out = buffer
            stream.pointee.avail_out = uInt(Self.chunk)
            status = inflate(stream, Z_NO_FLUSH)
            let produced = Self.chunk - Int(stream.pointee.avail_out)
            if produced > limit - output.count { throw .overBudget }
            output.append(contentsOf: UnsafeBufferPointer(start: buffer, count: produced))
        } while status == Z_OK
        guard status == Z_STREAM_END else { throw .invalid }
        let consumed = input.count - Int(stream.pointee.avail_in)
        guard PDFBytes.isAllWhitespace(input, from: consumed) else { throw .invalid }
        return output
    }
}

/// zlib helpers for building test files (not used to inspect uploads).
public enum Inflate {
    /// `data` compressed in zlib format.
    public static func deflate(_ data: [UInt8], level: Int32 = 9) -> [UInt8] {
        var size = compressBound(uLong(data.count))
        var output = [UInt8](repeating: 0, count: Int(size))
        let status = data.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                compress2(out.baseAddress, &size, input.baseAddress, uLong(input.count), level)
            }
        }
        precondition(status == Z_OK, "compress2 failed")
        return Array(output.prefix(Int(size)))
    }

    /// `count` zero bytes compressed in zlib format, without holding them in memory.
    public static func deflatedZeros(count: Int) -> [UInt8] {
        var stream = z_stream()
        precondition(deflateInit_(&stream, Z_BEST_COMPRESSION, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { deflateEnd(&stream) }
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var out = [UInt8](repeating: 0, count: 1 << 16)
        var result: [UInt8] = []
        var left = count
        var status: Int32 = Z_OK
        zeros.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { buffer in
                repeat {
                    let take = min(left, input.count)
                    left -= take
                    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                    stream.avail_in = uInt(take)
                    let flush = left == 0 ? Z_FINISH : Z_NO_FLUSH
                    repeat {
                        stream.next_out = buffer.baseAddress
                        stream.avail_out = uInt(buffer.count)
                        status = CZlib.deflate(&stream, flush)
                        result.append(contentsOf: buffer.prefix(buffer.count - Int(stream.avail_out)))
                    } while stream.avail_out == 0
                } while left > 0
            }
        }
        precondition(status == Z_STREAM_END, "deflate did not finish")
        return result
    }

    /// Adler-32 of `data`, as zlib computes it.
    public static func adler32(_ data: [UInt8]) -> UInt32 {
        data.withUnsafeBufferPointer { UInt32(CZlib.adler32(1, $0.baseAddress, uInt($0.count))) }
    }

    /// CRC-32 of `data`, as PNG uses it.
    public static func crc32(_ data: [UInt8]) -> UInt32 {
        data.withUnsafeBytes { PNGCRC.checksum($0) }
    }
}

/// The CRC-32 of PNG chunks and ZIP entries (zlib's).
enum PNGCRC {
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let pointer = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self)
        return UInt32(crc32(0, pointer, uInt(bytes.count)))
    }
}
