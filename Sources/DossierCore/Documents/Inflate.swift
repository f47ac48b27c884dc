import CZlib
import Foundation

/// zlib/deflate decompression with a ceiling, so that a small stream cannot expand without end.
enum Inflate {
    enum Outcome {
        case data(Data)
        case tooLarge
        case invalid
    }

    static func decompress(_ input: Data, limit: Int) -> Outcome {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return .invalid }
        defer { inflateEnd(&stream) }
        var output = Data()
        let chunk = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: chunk)
        var status: Int32 = Z_OK
        input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: raw.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(raw.count)
            repeat {
                buffer.withUnsafeMutableBytes { out in
                    stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
                    stream.avail_out = uInt(chunk)
                    status = inflate(&stream, Z_NO_FLUSH)
                    output.append(out.bindMemory(to: UInt8.self).baseAddress!, count: chunk - Int(stream.avail_out))
                }
            } while status == Z_OK && output.count <= limit && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        if output.count > limit { return .tooLarge }
        return status == Z_STREAM_END || status == Z_OK || status == Z_BUF_ERROR ? .data(output) : .invalid
    }
}
