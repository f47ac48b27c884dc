import Foundation

/// The checks a decoded register must pass: every reference resolves, every purpose has a
/// lawful basis and a retention rule for each of its data, every transfer has a safeguard.
public enum RegisterValidator {
    public struct Finding: Sendable, Hashable {
        /// Where: `purposes[3].legalBases`.
        public var path: String
        public var message: String
    }

    public static func problems(in register: Register) -> [Finding] {
        var check = Checker(register: register)
        check.header()
        check.uniqueIDs()
        for (index, purpose) in register.purposes.enumerated() {
            check.purpose(purpose, at: "purposes[\(index)]")
        }
        check.transfers()
        check.cookies()
        check.rights()
        check.orphans()
        check.sharingLimits()
        check.security()
        check.notices()
        return check.findings
    }

    /// What the register promises that a build with `provided` lacks: a security measure whose
    /// capability is missing (a right falls back to writing to the DPO instead; a cookie or a
    /// measure about a missing feature is left out of the policy).
    public static func capabilityProblems(in register: Register, provided: Set<Capability>) -> [Finding] {
        var findings: [Finding] = []
        for (index, measure) in register.security.enumerated() {
            guard let capability = measure.capability, measure.appliesTo.map(provided.contains) ?? true,
                  !capability.isProvided(by: provided) else { continue }
            findings.append(Finding(
                path: "security[\(index)].capability",
                message: "the measure promises '\(capability.rawValue)', which this build does not provide; remove the measure, "
                    + "or add 'appliesTo' naming the feature it protects so that it shows only once that feature is there"))
        }
        for (index, notice) in (register.notices?.indirectCollection ?? []).enumerated() {
            if let capability = notice.capability, !provided.contains(capability) {
                findings.append(Finding(
                    path: "notices.indirectCollection[\(index)].capability",
                    message: "the notice is sent by '\(capability.rawValue)', which this build does not provide; say how the people are told instead"))
            }
        }
        return findings
    }

    private struct Checker {
        let register: Register
        var findings: [Finding] = []

        mutating func report(_ path: String, _ message: String) {
            findings.append(Finding(path: path, message: message))
        }

        mutating func header() {
            if register.version.trimmingCharacters(in: .whitespaces).isEmpty {
                report("version", "empty version; expected e.g. \"1.0.0\"")
            }
            if PublicationDate(register.effectiveDate) == nil {
                report("effectiveDate", "unparseable date '\(register.effectiveDate)'; expected YYYY-MM-DD")
            }
            if register.policyChanges.noticeDays < 0 {
                report("policyChanges.noticeDays", "negative notice period; expected a number of days ≥ 0")
            }
        }

        mutating func uniqueIDs() {
            duplicates(register.dataSubjects.map(\.id), in: "dataSubjects")
            duplicates(register.categories.map(\.id), in: "categories")
            duplicates(register.recipients.map(\.id), in: "recipients")
            duplicates(register.processors.map(\.id), in: "processors")
            duplicates(register.transfers.map(\.id), in: "transfers")
            duplicates(register.purposes.map(\.id), in: "purposes")
            duplicates(register.rights.map(\.id), in: "rights")
            duplicates(register.cookies.map(\.id), in: "cookies")
            for (index, category) in register.categories.enumerated() {
                duplicates(category.fields.map(\.id), in: "categories[\(index)].fields")
            }
        }

        mutating func duplicates(_ ids: [String], in list: String) {
            var firstIndex: [String: Int] = [:]
            for (index, id) in ids.enumerated() {
                if id.trimmingCharacters(in: .whitespaces).isEmpty {
                    report("\(list)[\(index)].id", "empty id")
                } else if let first = firstIndex[id] {
                    report("\(list)[\(index)].id", "duplicate id '\(id)' (already used by \(list)[\(first)])")
                } else {
                    firstIndex[id] = index
                }
            }
        }

        /// Reports each id of `references` that is not in `known`.
        mutating func resolve(_ references: [String], at path: String, among known: [String], what: String, list: String) {
            for (index, reference) in references.enumerated() where !known.contains(reference) {
                report("\(path)[\(index)]", "unknown \(what) '\(reference)'; expected an id listed under '\(list)'")
            }
        }

        mutating func purpose(_ purpose: Purpose, at path: String) {
            let name = "purpose '\(purpose.id)'"
            if purpose.legalBases.isEmpty {
                let bases = LegalBasis.allCases.map(\.rawValue).joined(separator: ", ")
                report(path, "\(name) has no legal basis; expected 'legalBases' with at least one of: \(bases)")
            }
            if purpose.reliesOnConsent && purpose.withdrawal == nil {
                report(path, "\(name) relies on consent but does not say how to withdraw it; expected 'withdrawal: {fr: …, en: …}'")
            }
            if purpose.categories.isEmpty {
                report(path, "\(name) lists no data category; expected 'categories'")
            }
            if purpose.subjects.isEmpty {
                report(path, "\(name) lists no data subject; expected 'subjects'")
            }
            resolve(purpose.categories, at: "\(path).categories", among: register.categories.map(\.id), what: "data category", list: "categories")
            resolve(purpose.subjects, at: "\(path).subjects", among: register.dataSubjects.map(\.id), what: "data subject", list: "dataSubjects")
            resolve(purpose.recipients, at: "\(path).recipients", among: register.recipients.map(\.id), what: "recipient", list: "recipients")
            resolve(purpose.processors, at: "\(path).processors", among: register.processors.map(\.id), what: "processor", list: "processors")
            for (index, entry) in purpose.legalBases.enumerated() {
                resolve(entry.subjects, at: "\(path).legalBases[\(index)].subjects", among: purpose.subjects, what: "data subject", list: "\(path).subjects")
            }
            retention(of: purpose, at: path)
        }

        mutating func retention(of purpose: Purpose, at path: String) {
            let name = "purpose '\(purpose.id)'"
            if purpose.retention.isEmpty {
                report(path, "\(name) has no retention rule; expected 'retention' with at least one rule")
                return
            }
            for (index, rule) in purpose.retention.enumerated() {
                let rulePath = "\(path).retention[\(index)]"
                resolve(rule.categories, at: "\(rulePath).categories", among: purpose.categories, what: "data category", list: "\(path).categories")
                resolve(rule.subjects, at: "\(rulePath).subjects", among: purpose.subjects, what: "data subject", list: "\(path).subjects")
                if let remind = rule.remind {
                    if rule.keep.isZero || !rule.keep.isLonger(than: remind) {
                        report("\(rulePath).remind", "reminder \(remind) before the end is not within the period kept (\(rule.keep)); expected a shorter period")
                    }
                }
                if let archive = rule.archive {
                    let covered = purpose.categories.filter { rule.covers(category: $0, in: purpose) }
                    resolve(archive.excluding, at: "\(rulePath).archive.excluding", among: covered, what: "data category", list: "the categories this rule covers")
                }
            }
            for category in purpose.categories where register.category(category) != nil && purpose.rules(for: category).isEmpty {
                report("\(path).retention", "\(name) has no retention rule for data category '\(category)'; expected a rule naming it, or one without 'categories'")
            }
        }

        mutating func transfers() {
            for (index, transfer) in register.transfers.enumerated() {
                let path = "transfers[\(index)]"
                if register.processor(transfer.processor) == nil {
                    report("\(path).processor", "unknown processor '\(transfer.processor)'; expected an id listed under 'processors'")
                }
                if transfer.safeguard == nil {
                    let safeguards = Safeguard.allCases.map(\.rawValue).joined(separator: ", ")
                    report(path, "transfer '\(transfer.id)' to \(transfer.country) has no safeguard; expected 'safeguard' with one of: \(safeguards)")
                }
                if EuropeanEconomicArea.countries.contains(transfer.country) {
                    report("\(path).country", "\(transfer.country) is in the EU/EEA: that is not a transfer; expected a country outside it")
                }
            }
            for (index, processor) in register.processors.enumerated()
            where !EuropeanEconomicArea.countries.contains(processor.country)
                && !register.transfers.contains(where: { $0.processor == processor.id && $0.country == processor.country }) {
                report("processors[\(index)].country", "processor '\(processor.id)' is in \(processor.country), outside the EU/EEA, and no transfer with a safeguard covers it; expected an entry under 'transfers'")
            }
        }

        mutating func cookies() {
            for (index, cookie) in register.cookies.enumerated() {
                guard let purpose = register.purpose(cookie.purpose) else {
                    report("cookies[\(index)].purpose", "unknown purpose '\(cookie.purpose)'; expected an id listed under 'purposes'")
                    continue
                }
                if cookie.consentRequired && !purpose.reliesOnConsent {
                    report("cookies[\(index)].consentRequired", "cookie '\(cookie.id)' needs consent but its purpose '\(purpose.id)' does not rely on consent")
                }
            }
        }

        /// Links go only to the recipients a tenant chooses (agencies, landlords, insurers), for a
        /// period no longer than a shared document is kept (12 months), each kind with one entry.
        mutating func sharingLimits() {
            let shareable: Set<RecipientKind> = [.agency, .landlord, .insurer]
            var kinds: Set<RecipientKind> = []
            for (index, recipient) in register.recipients.enumerated() {
                guard let sharing = recipient.sharing else { continue }
                let path = "recipients[\(index)].sharing"
                if !shareable.contains(recipient.kind) {
                    report(path, "recipient '\(recipient.id)' of kind \(recipient.kind.rawValue) cannot receive share links; expected only agency, landlord or insurer")
                }
                if !kinds.insert(recipient.kind).inserted {
                    report(path, "a second recipient of kind \(recipient.kind.rawValue) with sharing limits; expected one per kind")
                }
                if sharing.maximum.isZero || sharing.maximum.isLonger(than: RetentionPeriod(12, .month)) {
                    report("\(path).maximum", "a link lasting \(sharing.maximum); expected more than 0 days and at most 12 months (how long a shared document is kept)")
                }
                if sharing.documents.isEmpty {
                    report("\(path).documents", "no document category; expected the catalogue's categories this recipient may receive")
                }
            }
        }

        /// A recipient or a data subject that no purpose names is a promise about nothing (or a
        /// processing the register forgot to describe).
        mutating func orphans() {
            let named = Set(register.purposes.flatMap(\.recipients))
            for (index, recipient) in register.recipients.enumerated() where !named.contains(recipient.id) {
                report("recipients[\(index)]", "recipient '\(recipient.id)' is named by no purpose; expected it under a purpose's 'recipients', or remove it")
            }
            let subjects = Set(register.purposes.flatMap(\.subjects))
            for (index, subject) in register.dataSubjects.enumerated() where !subjects.contains(subject.id) {
                report("dataSubjects[\(index)]", "data subject '\(subject.id)' is named by no purpose; expected it under a purpose's 'subjects', or remove it")
            }
        }

        mutating func security() {
            duplicates(register.security.compactMap(\.id), in: "security")
            for (index, measure) in register.security.enumerated() {
                resolve(measure.purposes, at: "security[\(index)].purposes", among: register.purposes.map(\.id), what: "purpose", list: "purposes")
                if let id = measure.id, measure.capability == nil {
                    report("security[\(index)]", "measure '\(id)' names no capability; expected 'capability: …' (the code that keeps it, or 'organisational')")
                }
            }
            for (index, right) in register.rights.enumerated() {
                for (way, entry) in right.exercise.enumerated() where entry.capability == nil {
                    guard let page = entry.page else { continue }
                    report("rights[\(index)].exercise[\(way)]", "a way with a page ('\(page)') names no capability; expected 'capability: …' so that the link shows only where the page exists")
                }
            }
        }

        mutating func notices() {
            for (index, entry) in (register.notices?.indirectCollection ?? []).enumerated() {
                resolve(entry.subjects, at: "notices.indirectCollection[\(index)].subjects", among: register.dataSubjects.map(\.id), what: "data subject", list: "dataSubjects")
            }
            if let record = register.record {
                if PublicationDate(record.created) == nil {
                    report("record.created", "unparseable date '\(record.created)'; expected YYYY-MM-DD")
                }
                if let updated = record.updated, PublicationDate(updated) == nil {
                    report("record.updated", "unparseable date '\(updated)'; expected YYYY-MM-DD")
                }
            }
        }

        mutating func rights() {
            let oneMonth = RetentionPeriod(1, .month)
            for (index, right) in register.rights.enumerated() {
                if let deadline = right.deadline, deadline.isLonger(than: oneMonth) {
                    report("rights[\(index)].deadline", "deadline \(deadline) is longer than the one month of GDPR Art. 12(3)")
                }
            }
        }
    }
}

/// A calendar date as the register writes it: YYYY-MM-DD.
public struct PublicationDate: Sendable, Hashable, Comparable {
    public var year: Int, month: Int, day: Int

    public init?(_ text: String) {
        // YYYY-MM-DD, digits only (no sign, no space: `Int` would take "+001").
        let pieces = text.split(separator: "-", omittingEmptySubsequences: false)
        guard pieces.map(\.utf8.count) == [4, 2, 2], pieces.allSatisfy({ $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }) else { return nil }
        let parts = pieces.map { Int($0) }
        // The proleptic Gregorian calendar, as RFC 3339 and JSON Schema's `date` format count
        // (Foundation's switches to the Julian calendar before October 1582).
        guard parts.count == 3, let year = parts[0], let month = parts[1], let day = parts[2], year >= 1,
              (1...12).contains(month), (1...Self.days(inMonth: month, of: year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    public static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
