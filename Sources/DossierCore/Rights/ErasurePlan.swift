import Foundation

/// GDPR Art. 17: what erasing a person's account erases, and what the register obliges the
/// service to keep (in a restricted archive), why and until when. Pure: the server lists what
/// it holds (the items of the access view, `AccessReport.Item`), this decides and words the
/// receipt the person is given.
public enum ErasurePlan {
    /// Something kept after the erasure: a data category under a purpose, with the register's
    /// reason and the day it goes.
    public struct Kept: Codable, Sendable, Equatable {
        public var category: AccessReport.Named
        public var purpose: AccessReport.Named
        /// What is kept, in words.
        public var what: String
        /// Why: the legal basis and the register's rule, in words.
        public var reason: String
        public var until: Date
        /// Whether the service can still read it (the archive), or only its pseudonymous trace
        /// remains (the audit trail, whose entries name nobody once the key is destroyed).
        public var readable: Bool

        public init(category: AccessReport.Named, purpose: AccessReport.Named, what: String, reason: String, until: Date, readable: Bool) {
            self.category = category
            self.purpose = purpose
            self.what = what
            self.reason = reason
            self.until = until
            self.readable = readable
        }
    }

    /// What was erased, counted by kind.
    public struct Erased: Codable, Sendable, Equatable {
        public var kind: String
        public var label: String
        public var count: Int
    }

    /// The receipt given to the person (and kept as the record of their request).
    public struct Receipt: Codable, Sendable, Equatable {
        public var reference: String
        public var erasedAt: Date
        public var erased: [Erased]
        public var kept: [Kept]
    }

    /// The archive's part of a category kept: the (purpose, category) pairs archived, for the
    /// server to know what to move to the archive, and until when.
    public static func archived(_ items: [AccessReport.Item], register: Register, subject: String?, at now: Date) -> [String: [String: Date]] {
        var archived: [String: [String: Date]] = [:]
        for item in items {
            guard let purpose = register.purpose(item.purpose) else { continue }
            for category in item.categories {
                guard let rule = purpose.rules(for: category, subject: subject).first, let archive = rule.archive,
                      !archive.excluding.contains(category) else { continue }
                // Erasing closes the active period now: the archive is counted from today.
                let until = archive.keep.added(to: now)
                archived[item.purpose, default: [:]][category] = max(until, archived[item.purpose]?[category] ?? until)
            }
        }
        return archived
    }

    /// Whether an item is the record of a right exercised, kept by a rule counted from that
    /// exercise (a consent's withdrawal, an objection, a request answered) rather than erased.
    public static func keptAsRecord(_ item: AccessReport.Item, register: Register, subject: String?) -> Bool {
        guard let purpose = register.purpose(item.purpose) else { return false }
        return !item.categories.isEmpty && item.categories.allSatisfy { category in
            guard let rule = purpose.rules(for: category, subject: subject).first else { return false }
            return [.consentWithdrawal, .objection, .requestProcessed].contains(rule.from)
        }
    }

    /// The receipt for erasing `items` at `now`.
    /// `counts`: how many items of a kind go, where the items listed are fewer (the access view
    /// lists the latest connections only).
    public static func receipt(reference: String, items: [AccessReport.Item], register: Register, subject: String?, at now: Date,
                               language: Language, counts known: [String: Int] = [:]) -> Receipt {
        let words = Wording(language)
        let rights = RightsWording(language)
        let categoryNames = Dictionary(register.categories.map { ($0.id, $0.name[language]) }) { first, _ in first }
        func named(_ category: String) -> AccessReport.Named { .init(id: category, name: categoryNames[category] ?? category) }
        func reason(_ purpose: Purpose, _ rule: RetentionRule) -> String {
            let bases = purpose.legalBases.map { words.legalBasis($0.basis) }.joined(separator: ", ")
            return bases.isEmpty ? words.retention(rule, in: register) : "\(bases) — \(words.retention(rule, in: register))"
        }
        var kept: [Kept] = []
        for (purposeID, categories) in archived(items, register: register, subject: subject, at: now).sorted(by: { $0.key < $1.key }) {
            guard let purpose = register.purpose(purposeID) else { continue }
            for (category, until) in categories.sorted(by: { $0.key < $1.key }) {
                guard let rule = purpose.rules(for: category, subject: subject).first else { continue }
                kept.append(Kept(category: named(category), purpose: .init(id: purposeID, name: purpose.name[language]),
                                 what: rights.archivedWhat, reason: reason(purpose, rule), until: until, readable: true))
            }
        }
        // Records of rights exercised (consents given and withdrawn, objections) are kept by rules
        // counted from that exercise, which an erasure does not end: kept, not erased.
        var records: [String: Kept] = [:]
        for item in items where Self.keptAsRecord(item, register: register, subject: subject) {
            guard let purpose = register.purpose(item.purpose) else { continue }
            for category in item.categories {
                guard let rule = purpose.rules(for: category, subject: subject).first else { continue }
                // An erasure withdraws every consent now; an objection counts from its day.
                let until = rule.keep.added(to: rule.from == .objection ? item.collectedAt : rule.from == .requestProcessed ? (item.processedAt ?? now) : now)
                let key = "\(item.purpose)/\(category)"
                if let existing = records[key], existing.until >= until { continue }
                records[key] = Kept(category: named(category), purpose: .init(id: purpose.id, name: purpose.name[language]),
                                    what: rights.recordWhat(category), reason: reason(purpose, rule), until: until, readable: true)
            }
        }
        kept += records.sorted { $0.key < $1.key }.map(\.value)
        // The record of this request, and the audit trail's entries about the person: both are
        // kept by the register's rules for them, counted from today.
        for (category, what, readable) in [("rights-requests", rights.requestRecordWhat, true), ("audit-trail", rights.auditTrailWhat, false)] {
            guard let purpose = register.purposes.first(where: { $0.categories.contains(category) }),
                  let rule = purpose.rules(for: category).first else { continue }
            kept.append(Kept(category: named(category), purpose: .init(id: purpose.id, name: purpose.name[language]),
                             what: what, reason: reason(purpose, rule), until: rule.keep.added(to: now), readable: readable))
        }
        var counts: [String: Int] = [:]
        for item in items where !Self.keptAsRecord(item, register: register, subject: subject) { counts[item.kind, default: 0] += 1 }
        counts.merge(known.filter { $0.value > 0 }) { listed, known in max(listed, known) }
        let order = ["account", "profile", "document", "guarantor", "application", "share", "share-accesses", "certificate", "connection", "directives", "message"]
        let erased = counts.sorted { (order.firstIndex(of: $0.key) ?? order.count, $0.key) < (order.firstIndex(of: $1.key) ?? order.count, $1.key) }
            .map { Erased(kind: $0.key, label: rights.erasedKind($0.key), count: $0.value) }
        return Receipt(reference: reference, erasedAt: now, erased: erased, kept: kept)
    }
}
