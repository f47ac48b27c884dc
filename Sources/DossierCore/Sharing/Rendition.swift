import Foundation

/// What `dossier-render` is asked to make: one PDF from parts in order (documents' files,
/// rendered and watermarked; pages of text such as a cover or a certificate). The server writes
/// the job as one JSON line on the process's standard input, then each file's bytes in order,
/// and reads the PDF from its standard output: no plaintext ever touches the disk.
public struct RenditionJob: Codable, Sendable, Equatable {
    public struct Mark: Codable, Sendable, Equatable {
        /// Repeated across every page.
        public var tile: String
        /// Once at each page's foot, as text.
        public var footer: String

        public init(tile: String, footer: String) {
            self.tile = tile
            self.footer = footer
        }
    }

    public enum Part: Codable, Sendable, Equatable {
        /// A stored file of `length` bytes, which follows the header on the input.
        case file(kind: FileInspector.Kind, length: Int)
        /// An A4 page of text, with a QR code of `qr` when given.
        case text(title: String, lines: [String], qr: String?, qrCaption: String?)
    }

    public var mark: Mark?
    public var parts: [Part]

    public init(mark: Mark?, parts: [Part]) {
        self.mark = mark
        self.parts = parts
    }

    /// Pages are rendered at this resolution: a scan's own, and what a reader needs on screen and paper.
    public static let dpi = 150.0
    /// A shared document has at most this many pages (rental documents have a few).
    public static let maximumPages = 100
    /// One rendition (a whole file as one PDF) has at most this many: about a minute of work.
    public static let maximumJobPages = 300
    /// A picture's longer side, at most (A4 at 200 dpi).
    public static let maximumImageSide = 2339
    /// The header line, at most.
    public static let maximumHeader = 1 << 20
    /// All the files of one job, at most (a whole file of large documents).
    public static let maximumInput = 512 << 20

    /// The header line the process reads first.
    public func header() throws -> Data {
        var line = try JSONEncoder().encode(self)
        line.append(0x0A)
        return line
    }

    /// The lengths of the files that follow the header, in order.
    public var fileLengths: [Int] {
        parts.compactMap { if case let .file(_, length) = $0 { length } else { nil } }
    }

    /// Whether the job is within bounds (checked by the renderer before it reads the files).
    public var isWithinBounds: Bool {
        let lengths = fileLengths
        return !parts.isEmpty && lengths.allSatisfy { $0 > 0 } && lengths.reduce(0, +) <= Self.maximumInput
    }
}
