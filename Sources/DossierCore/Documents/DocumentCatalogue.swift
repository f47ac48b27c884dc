import Foundation
import Yams

/// Who provides a document: a tenant, a guarantor who is a person, a company standing
/// guarantor, or a guarantee body such as Visale.
public enum PersonKind: String, Codable, Sendable, CaseIterable {
    case tenant, guarantor, company, organisation
}

/// The supporting documents a rental file may hold, the ones the law forbids, and why staff
/// may decline one: data shipped in `catalogue.yaml`.
public struct DocumentCatalogue: Codable, Sendable {
    public struct Category: Codable, Sendable {
        public var id: String
        public var name: LocalizedText
        public var types: [DocumentType]
    }

    public struct DocumentType: Codable, Sendable {
        public var id: String
        public var name: LocalizedText
        public var `for`: [PersonKind]
        public var minimumFiles: Int?

        public var requiredFiles: Int { minimumFiles ?? 1 }
    }

    public struct Forbidden: Codable, Sendable {
        public var id: String
        public var name: LocalizedText
    }

    public struct DeclineReason: Codable, Sendable {
        public var id: String
        public var name: LocalizedText
    }

    /// Required categories per person kind: `default`, or per professional status.
    public var requirements: [PersonKind: [String: [String]]]
    public var categories: [Category]
    public var forbidden: [Forbidden]
    public var forbiddenReason: LocalizedText
    public var declineReasons: [DeclineReason]

    enum CodingKeys: String, CodingKey {
        case requirements, categories, forbidden, forbiddenReason, declineReasons
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        categories = try container.decode([Category].self, forKey: .categories)
        forbidden = try container.decode([Forbidden].self, forKey: .forbidden)
        forbiddenReason = try container.decode(LocalizedText.self, forKey: .forbiddenReason)
        declineReasons = try container.decode([DeclineReason].self, forKey: .declineReasons)
        let raw = try container.decode([String: [String: [String]]].self, forKey: .requirements)
        requirements = Dictionary(uniqueKeysWithValues: try raw.map { key, value in
            guard let kind = PersonKind(rawValue: key) else {
                throw DecodingError.dataCorruptedError(forKey: .requirements, in: container, debugDescription: "unknown person kind '\(key)'")
            }
            return (kind, value)
        })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(categories, forKey: .categories)
        try container.encode(forbidden, forKey: .forbidden)
        try container.encode(forbiddenReason, forKey: .forbiddenReason)
        try container.encode(declineReasons, forKey: .declineReasons)
        try container.encode(Dictionary(uniqueKeysWithValues: requirements.map { ($0.key.rawValue, $0.value) }), forKey: .requirements)
    }

    /// The shipped catalogue.
    public static let shipped: DocumentCatalogue = {
        let url = Bundle.module.url(forResource: "catalogue", withExtension: "yaml")!
        // The file ships with the code and is checked by the tests: failing here is a build defect.
        return try! YAMLDecoder().decode(DocumentCatalogue.self, from: String(contentsOf: url, encoding: .utf8))
    }()

    /// What an upload asks for: a document type, a forbidden document, or nothing known.
    public enum Lookup: Sendable {
        case allowed(DocumentType, category: Category)
        case forbidden(Forbidden)
        case unknown
    }

    public func lookup(_ id: String) -> Lookup {
        for category in categories {
            if let type = category.types.first(where: { $0.id == id }) { return .allowed(type, category: category) }
        }
        if let forbidden = forbidden.first(where: { $0.id == id }) { return .forbidden(forbidden) }
        return .unknown
    }

    /// What a document type is called in `language`; its id for a type the catalogue does not
    /// allow (a document stored before the catalogue changed).
    public func name(of type: String, in language: Language) -> String {
        if case let .allowed(found, _) = lookup(type) { found.name[language] } else { type }
    }

    public func declineReason(_ id: String) -> DeclineReason? {
        declineReasons.first { $0.id == id }
    }

    /// The categories a person must cover, for their professional status (e.g. "student").
    public func requiredCategories(for kind: PersonKind, status: String?) -> [String] {
        let table = requirements[kind] ?? [:]
        return status.flatMap { table[$0] } ?? table["default"] ?? []
    }

    /// What is complete and what is missing for one person, from the documents they hold
    /// (type id and file count; declined documents do not count).
    public func completeness(for kind: PersonKind, status: String?, documents: [(type: String, files: Int)]) -> Completeness {
        let required = requiredCategories(for: kind, status: status)
        let entries = required.compactMap { id -> Completeness.Entry? in
            guard let category = categories.first(where: { $0.id == id }) else { return nil }
            let satisfied = category.types.contains { type in
                type.for.contains(kind) && documents.contains { $0.type == type.id && $0.files >= type.requiredFiles }
            }
            return Completeness.Entry(category: id, name: category.name, complete: satisfied)
        }
        return Completeness(entries: entries)
    }
}

/// Per required category: covered or missing.
public struct Completeness: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var category: String
        public var name: LocalizedText
        public var complete: Bool
    }

    public var entries: [Entry]
    public var isComplete: Bool { entries.allSatisfy(\.complete) }
    public var missing: [String] { entries.filter { !$0.complete }.map(\.category) }
}
