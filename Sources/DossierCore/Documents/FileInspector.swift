import Foundation

/// Decides what an uploaded file is from its bytes (never its name or declared type), refuses
/// what Dossier does not keep, and strips what a picture says beyond the picture (EXIF, GPS,
/// text chunks).
public enum FileInspector {
    /// 20 MiB a file.
    public static let maximumSize = 20 * 1024 * 1024

    public enum Kind: String, Codable, Sendable {
        case pdf, jpeg, png

        public var mediaType: String {
            switch self {
            case .pdf: "application/pdf"
            case .jpeg: "image/jpeg"
            case .png: "image/png"
            }
        }

        public var fileExtension: String {
            switch self {
            case .pdf: "pdf"
            case .jpeg: "jpg"
            case .png: "png"
            }
        }

        var extensions: Set<String> {
            switch self {
            case .pdf: ["pdf"]
            case .jpeg: ["jpg", "jpeg", "jpe"]
            case .png: ["png"]
            }
        }
    }

    /// A file fit to keep: its kind and its bytes, metadata removed.
    public struct Accepted: Sendable {
        public var kind: Kind
        public var bytes: Data
        /// What was removed, e.g. ["APP1 (EXIF/XMP)"].
        public var removedMetadata: [String]
    }

    public enum Refusal: Error, Sendable, Equatable {
        case empty
        case tooLarge
        case unsupported
        case heic
        case nameMismatch(named: String, actual: Kind)
        case declaredMismatch(declared: String, actual: Kind)
        case activeContent([String])
        case encryptedPDF
        case damaged(String)

        public func message(_ language: Language) -> String {
            let fr = language == .fr
            switch self {
            case .empty:
                return fr ? "Le fichier est vide." : "The file is empty."
            case .tooLarge:
                return fr ? "Le fichier dépasse 20 Mo." : "The file is larger than 20 MB."
            case .unsupported:
                return fr ? "Ce fichier n'est ni un PDF, ni une image JPEG ou PNG (d'après son contenu)." : "This file is not a PDF, a JPEG or a PNG image (judging by its content)."
            case .heic:
                return fr ? "Les photos HEIC ne sont pas acceptées : enregistrez-la en JPEG (sur iPhone, Réglages › Appareil photo › Formats › Le plus compatible)." : "HEIC photos are not accepted: save it as JPEG (on iPhone, Settings › Camera › Formats › Most Compatible)."
            case let .nameMismatch(named, actual):
                return fr ? "Le fichier porte l'extension .\(named) mais son contenu est un \(actual.rawValue.uppercased())." : "The file is named .\(named) but its content is a \(actual.rawValue.uppercased())."
            case let .declaredMismatch(declared, actual):
                return fr ? "Le fichier est annoncé comme \(declared) mais son contenu est un \(actual.rawValue.uppercased())." : "The file is declared as \(declared) but its content is a \(actual.rawValue.uppercased())."
            case let .activeContent(found):
                return fr ? "Ce PDF contient du contenu actif (\(found.joined(separator: ", "))) : imprimez-le en PDF ou scannez-le, puis réessayez." : "This PDF carries active content (\(found.joined(separator: ", "))): print it to PDF or scan it, then try again."
            case .encryptedPDF:
                return fr ? "Ce PDF est protégé par un mot de passe ou chiffré : enregistrez-en une copie sans protection." : "This PDF is password-protected or encrypted: save a copy without protection."
            case let .damaged(what):
                return fr ? "Le fichier est endommagé (\(what))." : "The file is damaged (\(what))."
            }
        }
    }

    /// Checks `bytes` against its name and declared media type; returns what to keep.
    public static func inspect(_ bytes: Data, fileName: String?, declaredType: String?) -> Result<Accepted, Refusal> {
        guard !bytes.isEmpty else { return .failure(.empty) }
        guard bytes.count <= maximumSize else { return .failure(.tooLarge) }
        guard let kind = sniff(bytes) else {
            return .failure(isHEIC(bytes) ? .heic : .unsupported)
        }
        if let name = fileName, let dot = name.lastIndex(of: "."), dot != name.startIndex {
            let ext = name[name.index(after: dot)...].lowercased()
            if !ext.isEmpty, !kind.extensions.contains(ext) { return .failure(.nameMismatch(named: ext, actual: kind)) }
        }
        if let declared = declaredType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased(),
           !declared.isEmpty, declared != "application/octet-stream",
           declared != kind.mediaType, !(kind == .jpeg && declared == "image/jpg") {
            return .failure(.declaredMismatch(declared: declared, actual: kind))
        }
        switch kind {
        case .pdf:
            return PDFScan.check(bytes).map { Accepted(kind: .pdf, bytes: bytes, removedMetadata: []) }
        case .jpeg:
            return JPEGMetadata.strip(bytes).map { Accepted(kind: .jpeg, bytes: $0.bytes, removedMetadata: $0.removed) }
        case .png:
            return PNGMetadata.strip(bytes).map { Accepted(kind: .png, bytes: $0.bytes, removedMetadata: $0.removed) }
        }
    }

    /// The kind by magic number.
    public static func sniff(_ bytes: Data) -> Kind? {
        let head = [UInt8](bytes.prefix(8))
        if head.starts(with: Array("%PDF-".utf8)) { return .pdf }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        return nil
    }

    static func isHEIC(_ bytes: Data) -> Bool {
        let head = [UInt8](bytes.prefix(12))
        guard head.count == 12, Array(head[4..<8]) == Array("ftyp".utf8) else { return false }
        let brand = String(decoding: head[8..<12], as: UTF8.self)
        return ["heic", "heix", "hevc", "hevx", "mif1", "msf1", "heim", "heis", "avif"].contains(brand)
    }
}

/// Looks for what makes a PDF act: scripts, launch actions, embedded files, forms that send
/// data. Names are compared after decoding `#xx` escapes, and compressed streams (object
/// streams included) are inflated and searched too.
enum PDFScan {
    static let dangerous: [String: String] = [
        "JavaScript": "JavaScript", "JS": "JavaScript", "Launch": "launch action",
        "EmbeddedFile": "embedded file", "EmbeddedFiles": "embedded file", "RichMedia": "rich media",
        "XFA": "XFA form", "SubmitForm": "form submission", "ImportData": "data import", "GoToE": "embedded document link",
    ]
    /// A page of text inflates to a few hundred kilobytes; anything near this is a bomb.
    static let inflateLimit = 64 * 1024 * 1024

    static func check(_ bytes: Data) -> Result<Void, FileInspector.Refusal> {
        guard bytes.range(of: Data("%%EOF".utf8), options: .backwards) != nil else {
            return .failure(.damaged("no end-of-file marker"))
        }
        var found = Set<String>()
        var encrypted = false
        scanNames(bytes) { name in
            if let what = dangerous[name] { found.insert(what) }
            if name == "Encrypt" { encrypted = true }
        }
        var inflated = 0
        for stream in streams(in: bytes) {
            switch Inflate.decompress(stream, limit: inflateLimit - inflated) {
            case let .data(data):
                inflated += data.count
                scanNames(data) { name in if let what = dangerous[name] { found.insert(what) } }
            case .tooLarge:
                return .failure(.damaged("a compressed stream expands beyond reason"))
            case .invalid:
                continue
            }
        }
        if encrypted { return .failure(.encryptedPDF) }
        if !found.isEmpty { return .failure(.activeContent(found.sorted())) }
        return .success(())
    }

    /// Calls `visit` with every PDF name (`/Name`), `#xx` escapes decoded.
    static func scanNames(_ bytes: Data, _ visit: (String) -> Void) {
        let delimiters: Set<UInt8> = Set(" \t\r\n\u{0C}\0()<>[]{}/%".utf8)
        bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let buffer = raw.bindMemory(to: UInt8.self)
            var index = 0
            while index < buffer.count {
                guard buffer[index] == UInt8(ascii: "/") else { index += 1; continue }
                var name: [UInt8] = []
                index += 1
                while index < buffer.count, !delimiters.contains(buffer[index]), name.count < 128 {
                    if buffer[index] == UInt8(ascii: "#"), index + 2 < buffer.count,
                       let value = UInt8(String(decoding: [buffer[index + 1], buffer[index + 2]], as: UTF8.self), radix: 16) {
                        name.append(value)
                        index += 3
                    } else {
                        name.append(buffer[index])
                        index += 1
                    }
                }
                if !name.isEmpty { visit(String(decoding: name, as: UTF8.self)) }
            }
        }
    }

    /// The raw bytes between each `stream` keyword's line end and its `endstream`.
    static func streams(in bytes: Data) -> [Data] {
        var result: [Data] = []
        let start = Data("stream".utf8), end = Data("endstream".utf8)
        var cursor = bytes.startIndex
        while let open = bytes.range(of: start, in: cursor..<bytes.endIndex) {
            // Skip the "stream" inside "endstream".
            if open.lowerBound >= bytes.startIndex + 3, bytes[(open.lowerBound - 3)..<open.lowerBound] == Data("end".utf8) {
                cursor = open.upperBound
                continue
            }
            var body = open.upperBound
            if body < bytes.endIndex, bytes[body] == 0x0D { body += 1 }
            if body < bytes.endIndex, bytes[body] == 0x0A { body += 1 }
            guard let close = bytes.range(of: end, in: body..<bytes.endIndex) else { break }
            result.append(bytes[body..<close.lowerBound])
            cursor = close.upperBound
        }
        return result
    }
}

/// Removes APP1 (EXIF, XMP: camera, time, GPS), APP13 (IPTC) and comments from a JPEG; keeps
/// what decoding needs (JFIF, ICC profile, Adobe colour transform) and the image data as is.
enum JPEGMetadata {
    static let dropped: [UInt8: String] = [0xE1: "APP1 (EXIF/XMP)", 0xED: "APP13 (IPTC)", 0xFE: "COM (comment)", 0xEC: "APP12"]

    static func strip(_ bytes: Data) -> Result<(bytes: Data, removed: [String]), FileInspector.Refusal> {
        let input = [UInt8](bytes)
        var output: [UInt8] = [0xFF, 0xD8]
        var removed: [String] = []
        var index = 2
        while index + 4 <= input.count {
            guard input[index] == 0xFF else { return .failure(.damaged("bad JPEG segment")) }
            let marker = input[index + 1]
            if marker == 0xFF { index += 1; continue }  // fill byte
            if marker == 0xD9 { output += [0xFF, 0xD9]; return .success((Data(output), removed)) }
            if (0xD0...0xD7).contains(marker) || marker == 0x01 { output += [0xFF, marker]; index += 2; continue }
            let length = Int(input[index + 2]) << 8 | Int(input[index + 3])
            guard length >= 2, index + 2 + length <= input.count else { return .failure(.damaged("truncated JPEG segment")) }
            if marker == 0xDA {
                // Start of scan: the compressed image and everything after it, kept as is.
                output += input[index...]
                return .success((Data(output), removed))
            }
            if let name = dropped[marker] {
                removed.append(name)
            } else {
                output += input[index..<(index + 2 + length)]
            }
            index += 2 + length
        }
        return .failure(.damaged("no image data in the JPEG"))
    }
}

/// Removes the PNG chunks that carry metadata: eXIf, tEXt, zTXt, iTXt, tIME.
enum PNGMetadata {
    static let dropped: Set<String> = ["eXIf", "tEXt", "zTXt", "iTXt", "tIME"]

    static func strip(_ bytes: Data) -> Result<(bytes: Data, removed: [String]), FileInspector.Refusal> {
        let input = [UInt8](bytes)
        var output = Array(input[0..<8])
        var removed: [String] = []
        var index = 8
        while index + 12 <= input.count {
            let length = Int(input[index]) << 24 | Int(input[index + 1]) << 16 | Int(input[index + 2]) << 8 | Int(input[index + 3])
            let type = String(decoding: input[(index + 4)..<(index + 8)], as: UTF8.self)
            let end = index + 12 + length
            guard length >= 0, end <= input.count else { return .failure(.damaged("truncated PNG chunk")) }
            if dropped.contains(type) {
                removed.append(type)
            } else {
                output += input[index..<end]
            }
            index = end
            if type == "IEND" { return .success((Data(output), removed)) }
        }
        return .failure(.damaged("no end chunk in the PNG"))
    }
}
