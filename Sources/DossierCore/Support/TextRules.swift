import Foundation

/// What a person-typed text field accepts, in one place for the validators and for the API
/// document's patterns, so that the two cannot disagree.
///
/// - No control character (C0, C1), but tab, line feed and carriage return in multi-line
///   fields (a browser's text area sends CRLF): they break emails' headers, logs and CSV
///   exports.
/// - No line or paragraph separator (U+2028, U+2029) but in multi-line fields.
/// - No invisible character of the Basic Multilingual Plane: format characters (soft hyphen,
///   zero-width space, word joiner, byte-order mark, directional marks, overrides and isolates:
///   "Trojan Source" names that read differently from what they are) and the blank letters
///   (Hangul fillers, the combining grapheme joiner, Khmer's invisible vowels), but the
///   zero-width joiner and non-joiner, which Persian and Indic names and emoji need. (Beyond
///   the BMP, e.g. tag characters, a regular expression of JSON Schema's dialect cannot name a
///   range; those are let through.)
/// - Lengths count Unicode scalars, as JSON Schema's `maxLength` does.
/// - A required field must hold something visible: not only white space and joiners.
public enum TextRules {
    /// The forbidden scalars, as ranges (the regular expressions below are built from them).
    static let forbiddenRanges: [ClosedRange<UInt32>] = [
        0x00...0x1F, 0x7F...0x9F, 0xAD...0xAD, 0x600...0x605, 0x61C...0x61C, 0x6DD...0x6DD, 0x70F...0x70F,
        0x890...0x891, 0x8E2...0x8E2, 0x180E...0x180E, 0x200B...0x200B, 0x200E...0x200F, 0x202A...0x202E,
        0x2060...0x2064, 0x2066...0x206F, 0xFEFF...0xFEFF, 0xFFF9...0xFFFB,
        0x34F...0x34F, 0x115F...0x1160, 0x17B4...0x17B5, 0x3164...0x3164, 0xFFA0...0xFFA0,
    ].sorted { $0.lowerBound < $1.lowerBound }
    /// Line and paragraph separators: refused but in multi-line fields.
    static let separators: ClosedRange<UInt32> = 0x2028...0x2029
    /// Allowed in multi-line fields: tab, line feed, carriage return.
    static let multilineControls: Set<UInt32> = [0x09, 0x0A, 0x0D]
    /// White space as `trimmingCharacters(in: .whitespacesAndNewlines)` removes it, less the
    /// controls (forbidden anyway, or allowed only in multi-line fields).
    static let spaceRanges: [ClosedRange<UInt32>] = [
        0x20...0x20, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000,
    ]
    /// The joiners: allowed, but not something to see.
    static let joiners: ClosedRange<UInt32> = 0x200C...0x200D

    public static func isForbidden(_ scalar: Unicode.Scalar, multiline: Bool = false) -> Bool {
        if multiline && (multilineControls.contains(scalar.value) || separators.contains(scalar.value)) { return false }
        return separators.contains(scalar.value) || forbiddenRanges.contains { $0.contains(scalar.value) }
    }

    /// Whether the text shows nothing: only white space (and joiners).
    public static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { CharacterSet.whitespacesAndNewlines.contains($0) || joiners.contains($0.value) }
    }

    public static func hasForbidden(_ text: String, multiline: Bool = false) -> Bool {
        text.unicodeScalars.contains { isForbidden($0, multiline: multiline) }
    }

    public static func length(_ text: String) -> Int { text.unicodeScalars.count }

    // The same rules as regular expressions (ECMA-262 and Python read these alike).

    static func characterClass(_ ranges: [ClosedRange<UInt32>]) -> String {
        ranges.map { range in
            let bound = { (value: UInt32) in String(format: "\\u%04X", value) }
            return range.count == 1 ? bound(range.lowerBound) : bound(range.lowerBound) + "-" + bound(range.upperBound)
        }.joined()
    }

    static func forbiddenClass(multiline: Bool) -> String {
        guard multiline else { return characterClass(forbiddenRanges + [separators]) }
        // The C0 range less tab, line feed and carriage return.
        let ranges = forbiddenRanges.flatMap { range -> [ClosedRange<UInt32>] in
            range == 0x00...0x1F ? [0x00...0x08, 0x0B...0x0C, 0x0E...0x1F] : [range]
        }
        return characterClass(ranges)
    }

    static let spaceClass = characterClass(spaceRanges)

    /// Any run of white space that trimming removes and no field forbids.
    public static let spacePattern = "[\(spaceClass)]*"
    /// Any run of what `trimmingCharacters(in: .whitespacesAndNewlines)` removes, controls
    /// included (for values trimmed before anything else is checked, as addresses are).
    public static let trimmedPattern = "[\\u0009-\\u000D\\u0085\\u2028\\u2029\(spaceClass)]*"

    /// A pattern for a field: allowed characters only, and, when `required`, at least one that
    /// is visible. (Built once: request bodies' schemas name them on every request.)
    public static func pattern(multiline: Bool = false, required: Bool) -> String {
        patterns[multiline ? 1 : 0][required ? 1 : 0]
    }

    /// [single-line, multi-line][optional, required].
    private static let patterns = [false, true].map { multiline in [false, true].map { buildPattern(multiline: multiline, required: $0) } }

    private static func buildPattern(multiline: Bool, required: Bool) -> String {
        let forbidden = forbiddenClass(multiline: multiline)
        let any = "[^\(forbidden)]*"
        guard required else { return "^\(any)$" }
        let invisible = forbidden + spaceClass + characterClass([joiners]) + (multiline ? "\\u0009\\u000A\\u000D\\u2028\\u2029" : "")
        return "^\(any)[^\(invisible)]\(any)$"
    }
}
