import Foundation

/// Decides what an uploaded file is from its bytes (never its name or declared type), refuses
/// what Dossier does not keep, and strips what a picture says beyond the picture (EXIF, GPS,
/// text chunks). The PDF check is `PDFScan`; the picture rebuilds are `JPEGMetadata` and
/// `PNGMetadata` (ImageMetadata.swift).
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
        /// A PDF beyond what the check reads (objects, streams, decoded bytes, nesting).
        case tooComplex(String)

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
            case let .tooComplex(what):
                return fr ? "Ce PDF est trop complexe pour être vérifié (\(what)) : imprimez-le en PDF ou scannez-le, puis réessayez." : "This PDF is too complex to check (\(what)): print it to PDF or scan it, then try again."
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
