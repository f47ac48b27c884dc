import Foundation

/// A ZIP archive of stored (uncompressed) entries, written in memory: what a recipient downloads
/// holds PDFs, already compressed. Names are UTF-8 (flag bit 11); sizes below 4 GiB (no ZIP64).
public struct ZipArchive: Sendable {
    private var body = Data()
    private var directory = Data()
    private var count = 0

    public init() {}

    public enum Failure: Error, Equatable {
        case tooLarge
        case badName
    }

    /// Adds a file `name` (a relative path, no "..") with `contents`, dated `date`.
    public mutating func add(_ name: String, _ contents: Data, date: Date) throws(Failure) {
        let nameBytes = Array(name.utf8)
        guard !nameBytes.isEmpty, nameBytes.count < 0xFFFF, !name.hasPrefix("/"),
              !name.split(separator: "/").contains(".."), !nameBytes.contains(0) else { throw .badName }
        guard contents.count < 0xFFFF_FFFF, body.count + contents.count < 0xFFFF_FFFF, count < 0xFFFF else { throw .tooLarge }
        let crc = contents.withUnsafeBytes { PNGCRC.checksum($0) }
        let (time, day) = Self.dosDate(date)
        let offset = UInt32(body.count)
        var local = Data()
        local.append(le32: 0x0403_4B50)
        local.append(le16: 20)          // version needed
        local.append(le16: 0x0800)      // UTF-8 names
        local.append(le16: 0)           // stored
        local.append(le16: time)
        local.append(le16: day)
        local.append(le32: crc)
        local.append(le32: UInt32(contents.count))
        local.append(le32: UInt32(contents.count))
        local.append(le16: UInt16(nameBytes.count))
        local.append(le16: 0)
        local.append(contentsOf: nameBytes)
        body.append(local)
        body.append(contents)

        directory.append(le32: 0x0201_4B50)
        directory.append(le16: 0x0314)  // made by: Unix, 2.0
        directory.append(le16: 20)
        directory.append(le16: 0x0800)
        directory.append(le16: 0)
        directory.append(le16: time)
        directory.append(le16: day)
        directory.append(le32: crc)
        directory.append(le32: UInt32(contents.count))
        directory.append(le32: UInt32(contents.count))
        directory.append(le16: UInt16(nameBytes.count))
        directory.append(le16: 0)       // extra
        directory.append(le16: 0)       // comment
        directory.append(le16: 0)       // disk
        directory.append(le16: 0)       // internal attributes
        directory.append(le32: 0o100644 << 16) // -rw-r--r--
        directory.append(le32: offset)
        directory.append(contentsOf: nameBytes)
        count += 1
    }

    /// The archive's bytes.
    public func finished() throws(Failure) -> Data {
        guard body.count + directory.count < 0xFFFF_FFFF else { throw .tooLarge }
        var out = body
        out.append(directory)
        out.append(le32: 0x0605_4B50)
        out.append(le16: 0)
        out.append(le16: 0)
        out.append(le16: UInt16(count))
        out.append(le16: UInt16(count))
        out.append(le32: UInt32(directory.count))
        out.append(le32: UInt32(body.count))
        out.append(le16: 0)
        return out
    }

    /// MS-DOS time and date, in UTC (1980 at the earliest).
    static func dosDate(_ date: Date) -> (UInt16, UInt16) {
        let calendar = Calendar.utcGregorian
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let year = max(1980, min(2107, c.year ?? 1980))
        let time = UInt16((c.hour ?? 0) << 11 | (c.minute ?? 0) << 5 | (c.second ?? 0) / 2)
        let day = UInt16((year - 1980) << 9 | (c.month ?? 1) << 5 | (c.day ?? 1))
        return (time, day)
    }
}

extension Data {
    mutating func append(le16 value: UInt16) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func append(le32 value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
