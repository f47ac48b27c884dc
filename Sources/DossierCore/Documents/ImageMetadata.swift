import Foundation

/// Rebuilds a JPEG from the segments decoding needs, and nothing else: an allow-list, so that
/// what we do not know (EXIF and XMP in APP1, IPTC in APP13, MPF and its second pictures,
/// comments, vendor APPn) goes, and so does everything after the first end of image. A JFIF
/// header is kept bare, its thumbnail size zero; JFXX (thumbnail) segments go: a thumbnail can
/// show what a crop removed.
enum JPEGMetadata {
    static func strip(_ bytes: Data) -> Result<(bytes: Data, removed: [String]), FileInspector.Refusal> {
        bytes.withUnsafeBytes { strip($0) }
    }

    static func strip(_ input: UnsafeRawBufferPointer) -> Result<(bytes: Data, removed: [String]), FileInspector.Refusal> {
        let count = input.count
        guard count >= 4, input[0] == 0xFF, input[1] == 0xD8, let base = input.baseAddress else {
            return .failure(.damaged("no JPEG start marker"))
        }
        var output = Data([0xFF, 0xD8])
        output.reserveCapacity(count)
        var removed: [String] = []
        func remove(_ what: String) {
            if !removed.contains(what) { removed.append(what) }
        }
        var sawFrame = false
        var sawScan = false
        var index = 2
        while true {
            guard index < count else { return .failure(.damaged("truncated JPEG")) }
            guard input[index] == 0xFF else { return .failure(.damaged("bad JPEG segment")) }
            while index < count, input[index] == 0xFF { index += 1 }  // fill bytes
            guard index < count else { return .failure(.damaged("truncated JPEG")) }
            let marker = input[index]
            index += 1
            switch marker {
            case 0xD9:  // EOI: the end; whatever follows is not this picture
                guard sawFrame, sawScan else { return .failure(.damaged("no image data in the JPEG")) }
                output.append(contentsOf: [0xFF, 0xD9])
                if index < count { remove("data after the end of the image") }
                return .success((output, removed))
            case 0x00, 0xD8:
                return .failure(.damaged("bad JPEG marker"))
            case 0x01, 0xD0...0xD7:  // TEM and restart markers stand alone; outside a scan they mean nothing
                continue
            default:
                break
            }
            guard index + 2 <= count else { return .failure(.damaged("truncated JPEG segment")) }
            let length = Int(input[index]) << 8 | Int(input[index + 1])
            guard length >= 2, index + length <= count else { return .failure(.damaged("truncated JPEG segment")) }
            let segment = UnsafeRawBufferPointer(rebasing: input[index..<(index + length)])
            let body = UnsafeRawBufferPointer(rebasing: input[(index + 2)..<(index + length)])
            func starts(_ signature: String) -> Bool {
                let signature = Array(signature.utf8)
                return body.count >= signature.count && body.prefix(signature.count).elementsEqual(signature)
            }
            var keep = false
            var label = ""
            /// What is kept instead of the segment, if anything.
            var replacement: [UInt8]?
            switch marker {
            case 0xE0:
                label = starts("JFXX\0") ? "APP0 (JFXX thumbnail)" : "APP0"
                if starts("JFIF\0"), body.count >= 14 {
                    // Identifier, version, units, densities: 12 bytes; then no thumbnail (0 × 0).
                    let header = [UInt8](body.prefix(12)) + [0, 0]
                    replacement = [0xFF, 0xE0, 0x00, 0x10] + header
                    label = body.elementsEqual(header) ? "" : "APP0 (JFIF thumbnail)"
                }
            case 0xE1:
                label = "APP1 (EXIF/XMP)"
            case 0xE2:
                keep = starts("ICC_PROFILE\0")
                label = starts("MPF\0") ? "APP2 (MPF)" : "APP2"
            case 0xED:
                label = "APP13 (IPTC)"
            case 0xEE:
                keep = starts("Adobe")
                label = "APP14"
            case 0xE3...0xEF:
                label = "APP\(marker - 0xE0)"
            case 0xFE:
                label = "COM (comment)"
            case 0xDB, 0xC4, 0xCC, 0xDD, 0xDC:  // DQT, DHT, DAC, DRI, DNL
                keep = true
            case 0xC0...0xCF where marker != 0xC8:  // SOF0…SOF15 (C4 and CC are caught above)
                keep = true
                sawFrame = true
            case 0xDA:  // SOS
                guard sawFrame else { return .failure(.damaged("JPEG scan before its frame header")) }
                keep = true
            default:
                label = "JPEG marker 0x" + String(marker, radix: 16, uppercase: true)
            }
            if keep {
                output.append(contentsOf: [0xFF, marker])
                output.append(contentsOf: segment)
            } else if let replacement {
                output.append(contentsOf: replacement)
                if !label.isEmpty { remove(label) }
            } else {
                remove(label)
            }
            index += length
            guard marker == 0xDA else { continue }
            // The entropy-coded data, up to the next marker that is not stuffing (FF 00), a
            // restart (FF D0…D7) or fill (FF FF).
            let start = index
            while true {
                guard index < count, let found = memchr(base + index, 0xFF, count - index) else {
                    return .failure(.damaged("truncated JPEG image data"))
                }
                index = base.distance(to: UnsafeRawPointer(found))
                guard index + 1 < count else { return .failure(.damaged("truncated JPEG image data")) }
                let next = input[index + 1]
                if next == 0x00 || (0xD0...0xD7).contains(next) {
                    index += 2
                } else if next == 0xFF {
                    index += 1
                } else {
                    break
                }
            }
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[start..<index]))
            sawScan = true
        }
    }
}

/// Rebuilds a PNG from the chunks that draw the picture: an allow-list, each chunk's CRC
/// checked; other ancillary chunks (text, EXIF, time, vendor data) go, an unknown critical
/// chunk is refused, and nothing after IEND is kept.
enum PNGMetadata {
    static let kept: Set<String> = ["IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT", "bKGD", "pHYs"]

    static func strip(_ bytes: Data) -> Result<(bytes: Data, removed: [String]), FileInspector.Refusal> {
        bytes.withUnsafeBytes { strip($0) }
    }

    static func strip(_ input: UnsafeRawBufferPointer) -> Result<(bytes: Data, removed: [String]), FileInspector.Refusal> {
        let count = input.count
        guard count >= 8 else { return .failure(.damaged("truncated PNG")) }
        var output = Data(UnsafeRawBufferPointer(rebasing: input[0..<8]))
        output.reserveCapacity(count)
        var removed: [String] = []
        var sawHeader = false
        var sawData = false
        var index = 8
        while true {
            guard index + 12 <= count else { return .failure(.damaged(sawHeader ? "no end chunk in the PNG" : "truncated PNG")) }
            let length = Int(input[index]) << 24 | Int(input[index + 1]) << 16 | Int(input[index + 2]) << 8 | Int(input[index + 3])
            guard length <= 0x7FFF_FFFF, length <= count - index - 12 else { return .failure(.damaged("truncated PNG chunk")) }
            let typeBytes = UnsafeRawBufferPointer(rebasing: input[(index + 4)..<(index + 8)])
            guard typeBytes.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
                return .failure(.damaged("bad PNG chunk type"))
            }
            let type = String(decoding: typeBytes, as: UTF8.self)
            let end = index + 12 + length
            let stored = UInt32(input[end - 4]) << 24 | UInt32(input[end - 3]) << 16 | UInt32(input[end - 2]) << 8 | UInt32(input[end - 1])
            guard PNGCRC.checksum(UnsafeRawBufferPointer(rebasing: input[(index + 4)..<(end - 4)])) == stored else {
                return .failure(.damaged("bad checksum in PNG chunk \(type)"))
            }
            if !sawHeader, type != "IHDR" { return .failure(.damaged("PNG without a header chunk first")) }
            if sawHeader, type == "IHDR" { return .failure(.damaged("PNG with two header chunks")) }
            if kept.contains(type) {
                if type == "IEND" {
                    guard sawData else { return .failure(.damaged("PNG without image data")) }
                    output.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<end]))
                    if end < count { removed.append("data after IEND") }
                    return .success((output, removed))
                }
                if type == "IHDR" {
                    guard length == 13 else { return .failure(.damaged("bad PNG header chunk")) }
                    sawHeader = true
                }
                if type == "IDAT" { sawData = true }
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<end]))
            } else if typeBytes[0] & 0x20 == 0 {
                return .failure(.damaged("unknown critical PNG chunk \(type)"))
            } else if !removed.contains(type) {
                removed.append(type)
            }
            index = end
        }
    }
}
