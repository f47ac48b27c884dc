import Foundation

/// GDPR Art. 15 (and 13–14): what is held about a person, each item with why (the register's
/// purpose and its legal bases), what kind of data it is, who may receive it, and when it will
/// be deleted or archived, computed from the register's retention rules and the item's own
/// dates. Pure: the server lists the items, this explains them.
public enum AccessReport {
    /// Something held about the person, as the server found it.
    public struct Item: Sendable {
        /// "account", "profile", "document", "guarantor", "share", "share-access", "certificate",
        /// "connection", "application".
        public var kind: String
        public var id: String
        /// What it is, in words ("Tax notice", "Link for Agence Dupont").
        public var label: String
        /// The register's purpose it is kept for, and its data categories.
        public var purpose: String
        public var categories: [String]
        /// When it was collected; and the account's last activity, for rules counted from it.
        public var collectedAt: Date
        public var lastActivity: Date?
        /// When a request was answered, for rules counted from it (nil while it is open).
        public var processedAt: Date?

        public init(kind: String, id: String, label: String, purpose: String, categories: [String], collectedAt: Date, lastActivity: Date?,
                    processedAt: Date? = nil) {
            self.processedAt = processedAt
            self.kind = kind
            self.id = id
            self.label = label
            self.purpose = purpose
            self.categories = categories
            self.collectedAt = collectedAt
            self.lastActivity = lastActivity
        }
    }

    public struct Named: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
    }

    /// One data category of an item, and how long it is kept.
    public struct Retention: Codable, Sendable, Equatable {
        public var category: Named
        /// The rule in words ("1 year from your last activity, then deleted…").
        public var rule: String
        /// When the active period ends (deletion, or archiving), when the item's dates tell; nil
        /// when it waits for an event still to come (the end of a contract, a withdrawal).
        public var endsAt: Date?
        /// What happens then: "delete" or "anonymise", or "archive" when an archive follows
        /// ("none" where the register has no rule).
        public var then: String
        /// The end of the archive, for a category archived (and not excluded from it).
        public var archivedUntil: Date?
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var kind: String
        public var id: String
        public var label: String
        public var purpose: Named
        public var legalBases: [String]
        public var recipients: [Named]
        public var retention: [Retention]
    }

    /// The entries for `items`, in `language`, from `register`. An item whose purpose the
    /// register does not have is reported with no basis and no rule rather than left out: the
    /// person sees everything held.
    /// `subject`: the register's data subject the person is ("tenant"), for rules that name some.
    public static func entries(_ items: [Item], register: Register, language: Language, subject: String? = nil) -> [Entry] {
        let words = Wording(language)
        let categories = Dictionary(register.categories.map { ($0.id, $0.name[language]) }) { first, _ in first }
        let recipients = Dictionary(register.recipients.map { ($0.id, $0.name[language]) }) { first, _ in first }
        let purposes = Dictionary(register.purposes.map { ($0.id, $0) }) { first, _ in first }
        return items.map { item in
            let purpose = purposes[item.purpose]
            let retention = item.categories.map { category -> Retention in
                let named = Named(id: category, name: categories[category] ?? category)
                guard let rule = purpose?.rules(for: category, subject: subject).first else {
                    // (The server refuses to start with a register that lacks a rule for what it stores.)
                    return Retention(category: named, rule: RightsWording(language).noRule, endsAt: nil, then: "none", archivedUntil: nil)
                }
                let start: Date? = switch rule.from {
                case .collection, .issue: item.collectedAt
                case .lastActivity: item.lastActivity ?? item.collectedAt
                case .requestProcessed: item.processedAt
                default: nil
                }
                let ends = start.map { rule.keep.added(to: $0) }
                let archived = rule.archive.flatMap { archive in archive.excluding.contains(category) ? nil : archive }
                return Retention(category: named, rule: words.retention(rule, in: register), endsAt: ends,
                                 then: archived != nil ? "archive" : rule.then.rawValue,
                                 archivedUntil: archived.flatMap { archive in ends.map { archive.keep.added(to: $0) } })
            }
            return Entry(kind: item.kind, id: item.id, label: item.label,
                         purpose: Named(id: item.purpose, name: purpose?.name[language] ?? item.purpose),
                         legalBases: purpose?.legalBases.map { words.legalBasis($0.basis) } ?? [],
                         recipients: purpose?.recipients.map { Named(id: $0, name: recipients[$0] ?? $0) } ?? [],
                         retention: retention)
        }
    }
}
