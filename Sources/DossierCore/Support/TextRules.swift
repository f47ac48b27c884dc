import Foundation

/// What a person-typed text field accepts, in one place for the validators and for the API
/// document's patterns, so that the two cannot disagree.
///
/// - No C0 or C1 control character (a newline only in multi-line fields): they break emails'
///   headers, logs and CSV exports.
/// - No bidirectional override or isolate (U+202A–U+202E, U+2066–U+2069): they make a name
///   read differently from what it is ("Trojan Source").
/// - Lengths count Unicode scalars, as JSON Schema's `maxLength` does.
/// - A required field must hold something other than white space.
public enum TextRules {
    public static func isForbidden(_ scalar: Unicode.Scalar, multiline: Bool = false) -> Bool {
        switch scalar.value {
        case 0x0A: !multiline
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// White space as `trimmingCharacters(in: .whitespacesAndNewlines)` removes it.
    public static func isWhiteSpace(_ scalar: Unicode.Scalar) -> Bool {
        CharacterSet.whitespacesAndNewlines.contains(scalar)
    }

    public static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy(isWhiteSpace)
    }

    public static func hasForbidden(_ text: String, multiline: Bool = false) -> Bool {
        text.unicodeScalars.contains { isForbidden($0, multiline: multiline) }
    }

    public static func length(_ text: String) -> Int { text.unicodeScalars.count }

    // The same rules as regular expressions (ECMA-262 and Python agree on these).

    static let forbiddenClass = #"\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069"#
    static let newline = #"\u000A"#
    /// Unicode white space that is not already forbidden (`CharacterSet.whitespacesAndNewlines`).
    static let spaceClass = #"\u0020\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"#

    /// Any run of white space that trimming removes.
    public static let spacePattern = "[\\u0009-\\u000D\\u0085\(spaceClass)]*"

    /// A pattern for a field: allowed characters only, and, when `required`, at least one that
    /// is not white space.
    public static func pattern(multiline: Bool = false, required: Bool) -> String {
        let forbidden = forbiddenClass + (multiline ? "" : newline)
        let any = "[^\(forbidden)]*"
        return required ? "^\(any)[^\(forbidden)\(spaceClass)]\(any)$" : "^\(any)$"
    }
}
