import Foundation

/// Collects the problems met while decoding a register, so that one pass reports them all
/// instead of stopping at the first.
final class DecodingProblems: @unchecked Sendable {
    private let lock = NSLock()
    private var found: [(path: [any CodingKey], message: String)] = []

    func add(path: [any CodingKey], message: String) {
        lock.withLock { found.append((path, message)) }
    }

    var all: [(path: [any CodingKey], message: String)] {
        lock.withLock { found }
    }
}

extension CodingUserInfoKey {
    static let registerProblems = CodingUserInfoKey(rawValue: "dossier.registerProblems")!
}

extension Decoder {
    /// Records a problem at the current path when a register loader is collecting them;
    /// otherwise (a plain decoder) throws it.
    func reportProblem(_ message: String) throws {
        if let sink = userInfo[.registerProblems] as? DecodingProblems {
            sink.add(path: codingPath, message: message)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: message))
        }
    }
}

/// A register value written as a string from a closed vocabulary (a legal basis, a start event…).
/// An unknown word is reported with the accepted ones and decodes as a placeholder that a
/// register with problems never lets out.
public protocol RegisterVocabulary: RawRepresentable<String>, CaseIterable, Codable, Sendable {
    /// What the word names, for messages: "legal basis", "start event"…
    static var vocabularyName: String { get }
}

extension RegisterVocabulary {
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        if let value = Self(rawValue: raw) {
            self = value
        } else {
            let accepted = Self.allCases.map(\.rawValue).joined(separator: ", ")
            try decoder.reportProblem("unknown \(Self.vocabularyName) '\(raw)'; expected one of: \(accepted)")
            self = Self.allCases.first!
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// A list that may be left out of the YAML (it then reads as empty), so that its absence is
/// reported by the validator in words ("purpose 'x' has no legal basis") rather than by the decoder.
@propertyWrapper
public struct DefaultEmpty<Element: Codable & Sendable>: Codable, Sendable {
    public var wrappedValue: [Element]

    public init(wrappedValue: [Element]) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: any Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode([Element].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

extension KeyedDecodingContainer {
    func decode<Element>(_ type: DefaultEmpty<Element>.Type, forKey key: Key) throws -> DefaultEmpty<Element> {
        try decodeIfPresent(type, forKey: key) ?? DefaultEmpty(wrappedValue: [])
    }
}
