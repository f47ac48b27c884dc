import Foundation
import ImageProbe

/// Pictures decoded for real (libvips, ImageProbe): refused when they do not decode or hold
/// more pixels than the budget; kept as their pixels only, turned upright by their EXIF
/// orientation and re-encoded (in the same format; a WebP as JPEG, or PNG when transparent), so
/// that no metadata block (EXIF, GPS, XMP,
/// IPTC, ICC, comments, thumbnails, a second picture) survives.
enum ImagePolicy {
    /// 40 megapixels: a phone's full-resolution photo, not a decompression bomb.
    static let maximumPixels: UInt64 = 40_000_000

    static func reencode(fileAt url: URL, kind: FileInspector.Kind) -> Result<FileInspector.Accepted, FileInspector.Refusal> {
        let format: dossier_image_format
        switch kind {
        case .jpeg: format = DOSSIER_IMAGE_JPEG
        case .png: format = DOSSIER_IMAGE_PNG
        case .webp: format = DOSSIER_IMAGE_WEBP
        case .pdf: return .failure(.unsupported)
        }
        var result = dossier_image_result()
        url.withUnsafeFileSystemRepresentation { path in
            dossier_image_reencode(path, format, maximumPixels, &result)
        }
        defer { dossier_image_release(&result) }
        let message = withUnsafeBytes(of: result.message) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        switch result.status {
        case DOSSIER_IMAGE_OK:
            guard let bytes = result.bytes, result.length > 0 else { return .failure(.damaged("the picture cannot be decoded")) }
            var removed = withUnsafeBytes(of: result.removed) {
                String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self).split(separator: ",").map(String.init)
            }
            if result.orientation > 1 { removed.append("orientation \(result.orientation), applied to the pixels") }
            let kept: FileInspector.Kind = result.output_format == DOSSIER_IMAGE_JPEG ? .jpeg : result.output_format == DOSSIER_IMAGE_PNG ? .png : .webp
            return .success(FileInspector.Accepted(kind: kept, bytes: Data(bytes: bytes, count: result.length), removedMetadata: removed))
        case DOSSIER_IMAGE_TOO_LARGE:
            return .failure(.tooManyPixels(message))
        default:
            return .failure(.damaged(Self.plain(message)))
        }
    }

    /// libvips names the loader and the path ("jpegload: …"); the person needs neither.
    static func plain(_ message: String) -> String {
        let lowered = message.lowercased()
        if lowered.contains("premature end") || lowered.contains("truncated") || lowered.contains("unexpected end") {
            return "the picture is cut short"
        }
        return "the picture cannot be decoded"
    }
}

/// A file that is also a file of another kind, as polyglot attacks make them: a picture that is
/// also an HTML page a browser would render, or any file that is also a ZIP archive an unpacker
/// would open. (Markup inside a PDF is the PDF rules' to judge: an XFA form carries scripts.)
enum Polyglot {
    static func otherFormat(in bytes: Data, kind: FileInspector.Kind) -> String? {
        bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> String? in
            if kind != .pdf, containsHTML(raw) { return "HTML" }
            if isZIP(raw) { return "ZIP" }
            return nil
        }
    }

    private static let htmlMarkers: [[UInt8]] = ["<script", "<html", "<!doctype html", "<iframe", "<svg", "<body", "<object", "<embed"].map { Array($0.utf8) }

    static func containsHTML(_ raw: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = raw.count
        while index < count {
            if raw[index] == 0x3C {  // <
                for marker in htmlMarkers where index + marker.count <= count {
                    var matched = true
                    for offset in 1..<marker.count {
                        var byte = raw[index + offset]
                        if byte >= 0x41, byte <= 0x5A { byte += 0x20 }
                        if byte != marker[offset] { matched = false; break }
                    }
                    if matched { return true }
                }
            }
            index += 1
        }
        return false
    }

    /// A local file header anywhere and an end-of-central-directory record where unpackers
    /// look for it (the last 64 KiB).
    static func isZIP(_ raw: UnsafeRawBufferPointer) -> Bool {
        let end: [UInt8] = [0x50, 0x4B, 0x05, 0x06]
        let local: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
        let tailStart = max(0, raw.count - 65_557)
        guard find(end, in: raw, from: tailStart) else { return false }
        return find(local, in: raw, from: 0)
    }

    private static func find(_ needle: [UInt8], in raw: UnsafeRawBufferPointer, from start: Int) -> Bool {
        guard raw.count >= needle.count else { return false }
        var index = start
        while index <= raw.count - needle.count {
            if raw[index] == needle[0], raw[index + 1] == needle[1], raw[index + 2] == needle[2], raw[index + 3] == needle[3] { return true }
            index += 1
        }
        return false
    }
}

/// Where a picture's own bytes end, by its structure: a JPEG at the end-of-image marker after
/// its last scan, a PNG after IEND, a WebP at its RIFF length. What follows, beyond padding, is
/// another file riding along (a second picture with its own EXIF, a video, an archive), which
/// is refused, but for the secondary pictures a JPEG declares in its MPF index (a phone's HDR
/// gain map or depth map), which re-encoding drops. A structure that does not parse is the
/// decoder's to judge.
enum ImageEnd {
    struct Verdict: Equatable {
        var hidden = false
        var secondaryPictures = false
    }

    static func find(in bytes: Data, kind: FileInspector.Kind) -> Verdict {
        bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Verdict in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end: (offset: Int, mpf: Bool)?
            switch kind {
            case .jpeg: end = jpegEnd(bytes)
            case .png: end = pngEnd(bytes).map { ($0, false) }
            case .webp: end = webpEnd(bytes).map { ($0, false) }
            case .pdf: end = nil
            }
            guard let end, end.offset < bytes.count else { return Verdict() }
            let trailing = bytes[end.offset...]
            if trailing.allSatisfy({ [0x00, 0xFF, 0x09, 0x0A, 0x0D, 0x20].contains($0) }) { return Verdict() }
            if end.mpf, trailing.count >= 3, trailing[end.offset] == 0xFF, trailing[end.offset + 1] == 0xD8, trailing[end.offset + 2] == 0xFF {
                return Verdict(hidden: false, secondaryPictures: true)
            }
            return Verdict(hidden: true)
        }
    }

    private static func jpegEnd(_ b: UnsafeBufferPointer<UInt8>) -> (Int, Bool)? {
        var index = 2
        var mpf = false
        let count = b.count
        while index + 1 < count {
            guard b[index] == 0xFF else { return nil }
            let marker = b[index + 1]
            if marker == 0xFF { index += 1; continue }
            if marker == 0xD9 { return (index + 2, mpf) }
            if (0xD0...0xD7).contains(marker) || marker == 0x01 { index += 2; continue }
            guard index + 3 < count else { return nil }
            let length = Int(b[index + 2]) << 8 | Int(b[index + 3])
            guard length >= 2, index + 2 + length <= count else { return nil }
            if marker == 0xE2, length >= 6, b[index + 4] == 0x4D, b[index + 5] == 0x50, b[index + 6] == 0x46, b[index + 7] == 0x00 {
                mpf = true
            }
            index += 2 + length
            if marker == 0xDA {
                // Entropy-coded data: runs until a marker that is neither a stuffed 0xFF00 nor a restart.
                while index + 1 < count {
                    if b[index] == 0xFF, b[index + 1] != 0x00, !(0xD0...0xD7).contains(b[index + 1]) { break }
                    index += 1
                }
            }
        }
        return nil
    }

    private static func pngEnd(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 8
        while index + 8 <= b.count {
            let length = Int(b[index]) << 24 | Int(b[index + 1]) << 16 | Int(b[index + 2]) << 8 | Int(b[index + 3])
            let type = (b[index + 4], b[index + 5], b[index + 6], b[index + 7])
            let next = index + 12 + length
            guard length >= 0, next <= b.count else { return nil }
            if type == (0x49, 0x45, 0x4E, 0x44) { return next }  // IEND
            index = next
        }
        return nil
    }

    private static func webpEnd(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        guard b.count >= 12 else { return nil }
        let size = Int(b[4]) | Int(b[5]) << 8 | Int(b[6]) << 16 | Int(b[7]) << 24
        let end = 8 + size + (size & 1)
        return end <= b.count ? end : nil
    }
}
