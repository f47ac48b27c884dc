/// A language the register and the policy are published in.
public enum Language: String, Codable, Sendable, CaseIterable {
    case fr, en

    /// Picks the best supported language from an HTTP `Accept-Language` value, or nil.
    public static func preferred(fromAcceptLanguage header: String) -> Language? {
        let ranked = header.split(separator: ",").compactMap { part -> (Language, Double)? in
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first?.lowercased(),
                  let language = Language(rawValue: String(tag.prefix(2))) else { return nil }
            let quality = pieces.dropFirst()
                .first { $0.hasPrefix("q=") }
                .flatMap { Double($0.dropFirst(2)) } ?? 1
            return (language, quality)
        }
        return ranked.filter { $0.1 > 0 }.max { $0.1 < $1.1 }?.0
    }
}

/// A text given in every published language.
public struct LocalizedText: Codable, Sendable, Hashable {
    public var fr: String
    public var en: String

    public init(fr: String, en: String) {
        self.fr = fr
        self.en = en
    }

    public subscript(language: Language) -> String {
        switch language {
        case .fr: fr
        case .en: en
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Language.self)
        var texts: [Language: String] = [:]
        for language in Language.allCases {
            let text = try container.decodeIfPresent(String.self, forKey: language)?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if let text, !text.isEmpty {
                texts[language] = text
            } else {
                try decoder.reportProblem("missing text in '\(language.rawValue)'; expected {fr: …, en: …}")
            }
        }
        self.init(fr: texts[.fr] ?? "", en: texts[.en] ?? "")
    }
}

extension Language: CodingKey {}

import Foundation
