import Foundation

/// Decides what an uploaded file is from its bytes (never its name or declared type), refuses
/// what Dossier does not keep, and keeps of a picture only its pixels, upright. PDFs go through
/// qpdf (`PDFPolicy`) and the byte scan (`PDFScan`); pictures through libvips (`ImagePolicy`).
public enum FileInspector {
    /// 20 MiB a file.
    public static let maximumSize = 20 * 1024 * 1024

    public enum Kind: String, Codable, Sendable, CaseIterable {
        case pdf, jpeg, png, webp

        public var mediaType: String {
            switch self {
            case .pdf: "application/pdf"
            case .jpeg: "image/jpeg"
            case .png: "image/png"
            case .webp: "image/webp"
            }
        }

        public var fileExtension: String {
            switch self {
            case .pdf: "pdf"
            case .jpeg: "jpg"
            case .png: "png"
            case .webp: "webp"
            }
        }

        var extensions: Set<String> {
            switch self {
            case .pdf: ["pdf"]
            case .jpeg: ["jpg", "jpeg", "jpe"]
            case .png: ["png"]
            case .webp: ["webp"]
            }
        }
    }

    /// A file fit to keep: its kind and its bytes, metadata removed.
    public struct Accepted: Sendable {
        public var kind: Kind
        public var bytes: Data
        /// What was removed, e.g. ["EXIF", "orientation 6, applied to the pixels"].
        public var removedMetadata: [String]

        public init(kind: Kind, bytes: Data, removedMetadata: [String]) {
            self.kind = kind
            self.bytes = bytes
            self.removedMetadata = removedMetadata
        }
    }

    public enum Refusal: Error, Sendable, Equatable, Codable {
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
        /// A picture over the pixel budget (`width × height`).
        case tooManyPixels(String)
        /// Checking it took more memory, time or stack than a document may (the inspecting process
        /// was stopped).
        case overLimits
        /// A picture followed by another file (a second picture, a video, an archive).
        case hiddenData
        /// Also a file of another kind (an HTML page, a ZIP archive) that a program would open.
        case polyglot(String)

        public func message(_ language: Language) -> String {
            let fr = language == .fr
            switch self {
            case .empty:
                return fr ? "Le fichier est vide." : "The file is empty."
            case .tooLarge:
                return fr ? "Le fichier dépasse 20 Mo." : "The file is larger than 20 MB."
            case .unsupported:
                return fr ? "Ce fichier n'est ni un PDF, ni une image JPEG, PNG ou WebP (d'après son contenu)." : "This file is not a PDF, a JPEG, PNG or WebP image (judging by its content)."
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
            case let .tooManyPixels(what):
                return fr ? "L'image est trop grande (\(what)) : 40 mégapixels au plus." : "The picture is too large (\(what)): 40 megapixels at most."
            case .overLimits:
                return fr ? "La vérification de ce fichier demande plus de mémoire ou de temps qu'un document n'en demande : imprimez-le en PDF ou scannez-le, puis réessayez." : "Checking this file takes more memory or time than a document does: print it to PDF or scan it, then try again."
            case .hiddenData:
                return fr ? "L'image est suivie d'un autre fichier (une autre image, une vidéo…) : enregistrez-la à nouveau comme simple photo, puis réessayez." : "The picture is followed by another file (another picture, a video…): save it again as a plain photo, then try again."
            case let .polyglot(what):
                return fr ? "Le fichier est aussi \(what == "HTML" ? "une page HTML" : "une archive ZIP") : enregistrez le document à nouveau, puis réessayez." : "The file is also \(what == "HTML" ? "an HTML page" : "a ZIP archive"): save the document again, then try again."
            case let .tooComplex(what):
                return fr ? "Ce PDF est trop complexe pour être vérifié (\(what)) : imprimez-le en PDF ou scannez-le, puis réessayez." : "This PDF is too complex to check (\(what)): print it to PDF or scan it, then try again."
            }
        }
    }

    /// Checks `bytes` against its name and declared media type; returns what to keep. The bytes
    /// are written to a private (0600) file in `scratch` for the libraries, and removed after.
    public static func inspect(_ bytes: Data, fileName: String?, declaredType: String?,
                               scratch: URL = FileManager.default.temporaryDirectory) -> Result<Accepted, Refusal> {
        guard !bytes.isEmpty else { return .failure(.empty) }
        guard bytes.count <= maximumSize else { return .failure(.tooLarge) }
        let url = scratch.appendingPathComponent("inspect-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: url.path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            return .failure(.damaged("it cannot be read back"))
        }
        defer { try? FileManager.default.removeItem(at: url) }
        return inspect(fileAt: url, fileName: fileName, declaredType: declaredType)
    }

    /// Checks the file at `url` (a private file the caller owns and removes) against its name and
    /// declared media type; returns what to keep. PDFs are opened by qpdf (`PDFPolicy`) and
    /// scanned byte by byte (`PDFScan`); pictures are decoded and re-encoded by libvips
    /// (`ImagePolicy`), upright and without metadata.
    public static func inspect(fileAt url: URL, fileName: String?, declaredType: String?) -> Result<Accepted, Refusal> {
        // Mapped, not read: the pages are the file's, not the heap's.
        guard let bytes = try? Data(contentsOf: url, options: .alwaysMapped) else { return .failure(.damaged("it cannot be read back")) }
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
        if let other = Polyglot.otherFormat(in: bytes, kind: kind) { return .failure(.polyglot(other)) }
        switch kind {
        case .pdf:
            return checkPDF(bytes, at: url).map { Accepted(kind: .pdf, bytes: bytes, removedMetadata: []) }
        case .jpeg, .png, .webp:
            let end = ImageEnd.find(in: bytes, kind: kind)
            if end.hidden { return .failure(.hiddenData) }
            return ImagePolicy.reencode(fileAt: url, kind: kind).map { accepted in
                var accepted = accepted
                if end.secondaryPictures { accepted.removedMetadata.append("secondary pictures (MPF)") }
                return accepted
            }
        }
    }

    /// Both lines: qpdf's resolved objects and the byte scan. Active content found by either is
    /// named (both findings together); otherwise the first refusal, the scan's before qpdf's.
    static func checkPDF(_ bytes: Data, at url: URL) -> Result<Void, Refusal> {
        let scanned = PDFScan.check(bytes)
        let opened = PDFPolicy.check(fileAt: url)
        if case .failure(.encryptedPDF) = scanned { return scanned }
        if case .failure(.encryptedPDF) = opened { return opened }
        var found: Set<String> = []
        if case let .failure(.activeContent(names)) = scanned { found.formUnion(names) }
        if case let .failure(.activeContent(names)) = opened { found.formUnion(names) }
        if !found.isEmpty { return .failure(.activeContent(found.sorted())) }
        if case .failure = scanned { return scanned }
        return opened
    }

    /// The kind by magic number.
    public static func sniff(_ bytes: Data) -> Kind? {
        let head = [UInt8](bytes.prefix(8))
        if head.starts(with: Array("%PDF-".utf8)) { return .pdf }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        let riff = [UInt8](bytes.prefix(12))
        if riff.count == 12, riff.starts(with: Array("RIFF".utf8)), Array(riff[8..<12]) == Array("WEBP".utf8) { return .webp }
        return nil
    }

    static func isHEIC(_ bytes: Data) -> Bool {
        let head = [UInt8](bytes.prefix(12))
        guard head.count == 12, Array(head[4..<8]) == Array("ftyp".utf8) else { return false }
        let brand = String(decoding: head[8..<12], as: UTF8.self)
        return ["heic", "heix", "hevc", "hevx", "mif1", "msf1", "heim", "heis", "avif"].contains(brand)
    }
}

/// What `dossier-inspect`, the process a file is inspected in, answers the server.
public enum InspectionVerdict: Codable, Sendable, Equatable {
    /// Accepted; a picture's re-encoded bytes are in the output file (`rewritten`).
    case accepted(kind: FileInspector.Kind, removedMetadata: [String], rewritten: Bool)
    case refused(FileInspector.Refusal)
}
