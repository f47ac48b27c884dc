import Foundation

/// The retention engine's arithmetic, pure: which data a register rule makes due at an instant,
/// which people are due a reminder first, and the report a sweep (or its plan) gives.
///
/// A period is added by the calendar (`RetentionPeriod.added(to:)`: 31 January + 1 month is the
/// last day of February), so "due at T" is not "started before T minus the period": data
/// collected on 29, 30 or 31 January is due on 28 February. `latestStart` gives the last start
/// instant whose period has ended at T, so that a store selects what is due with one indexed
/// comparison (`start <= latestStart`), whatever the size of the table.
public enum RetentionSchedule {
    /// The latest instant a period of `keep` may have started at and be over at `instant`.
    public static func latestStart(keep: RetentionPeriod, at instant: Date) -> Date {
        // The calendar's subtraction is due (its end is at or before `instant`), and 4 days
        // later is not (a month end clamps 3 days at most); between the two, the last start
        // that is due, to the microsecond (the databases' precision).
        var due = Calendar.utcGregorian.date(byAdding: negated(keep), to: instant)!
        for _ in 0..<8 where keep.added(to: due) > instant { due -= 86_400 }
        var notDue = due + 4 * 86_400
        // Bounded: far from 1970 a Date's double cannot tell a microsecond apart, and halving
        // stops making progress before the gap is that small (40 halvings reach it near now).
        for _ in 0..<64 {
            let middle = due + notDue.timeIntervalSince(due) / 2
            guard notDue.timeIntervalSince(due) > 0.000_001, middle > due, middle < notDue else { break }
            if keep.added(to: middle) <= instant { due = middle } else { notDue = middle }
        }
        return due
    }

    /// The latest start of a period that is within `remind` of its end at `instant`: the people
    /// to remind before an inactive account is closed.
    public static func latestReminderStart(keep: RetentionPeriod, remind: RetentionPeriod, at instant: Date) -> Date {
        latestStart(keep: keep, at: remind.added(to: instant))
    }

    private static func negated(_ period: RetentionPeriod) -> DateComponents {
        var components = DateComponents()
        switch period.unit {
        case .day: components.day = -period.count
        case .week: components.day = -7 * period.count
        case .month: components.month = -period.count
        case .year: components.year = -period.count
        }
        return components
    }
}

/// What the engine knows how to sweep: a kind of stored data, the register's purpose and data
/// category it is kept for, and the start events its store records.
public struct RetentionTask: Sendable, Hashable, Codable {
    /// "connection-log", "inactive-accounts", …
    public var id: String
    public var purpose: String
    public var category: String
    /// The register's data subject the rows belong to ("tenant"), for rules that name some.
    public var subject: String?
    /// The start events the store can count from; a rule counted from another is reported, not applied.
    public var events: [StartEvent]

    public init(id: String, purpose: String, category: String, subject: String? = nil, events: [StartEvent]) {
        self.id = id
        self.purpose = purpose
        self.category = category
        self.subject = subject
        self.events = events
    }

    /// The register's rule for this task, or why there is none it can apply.
    public func rule(in register: Register) -> Result<RetentionRule, RetentionReport.Problem> {
        guard let purpose = register.purpose(purpose) else {
            return .failure(.init(task: id, message: "the register has no purpose \"\(self.purpose)\""))
        }
        guard let rule = purpose.rules(for: category, subject: subject).first else {
            return .failure(.init(task: id, message: "the purpose \"\(self.purpose)\" has no retention rule for \"\(category)\""))
        }
        guard events.contains(rule.from) else {
            return .failure(.init(task: id, message: "the rule for \"\(category)\" of \"\(self.purpose)\" counts from \(rule.from.rawValue), "
                                  + "which this store does not record (it records \(events.map(\.rawValue).joined(separator: ", ")))"))
        }
        return .success(rule)
    }
}

/// What a sweep did, or would do (a plan): per task, how many were due and acted on, with a few
/// examples; written to the audit trail as the run's receipt.
public struct RetentionReport: Codable, Sendable, Equatable {
    public struct Line: Codable, Sendable, Equatable {
        public var task: String
        public var purpose: String
        public var category: String
        /// The rule in the register's words ("1 year from last-activity, remind 30 days, then delete").
        public var rule: String
        /// "delete", "erase" (an account, as Art. 17 does), "remind".
        public var action: String
        /// Due at the instant; done by this run (0 for a plan).
        public var due: Int
        public var done: Int
        /// Due but kept: under a legal hold, or refused (an erasure that was not allowed).
        public var kept: Int
        /// A few of the rows due (identifiers, never personal data).
        public var examples: [String]

        public init(task: String, purpose: String, category: String, rule: String, action: String, due: Int, done: Int = 0, kept: Int = 0,
                    examples: [String] = []) {
            self.task = task
            self.purpose = purpose
            self.category = category
            self.rule = rule
            self.action = action
            self.due = due
            self.done = done
            self.kept = kept
            self.examples = examples
        }
    }

    public struct Problem: Codable, Sendable, Equatable, Error {
        public var task: String
        public var message: String

        public init(task: String, message: String) {
            self.task = task
            self.message = message
        }
    }

    public var at: Date
    public var registerVersion: String
    /// A plan changes nothing.
    public var dryRun: Bool
    public var seconds: Double
    public var lines: [Line]
    public var problems: [Problem]

    public init(at: Date, registerVersion: String, dryRun: Bool, seconds: Double = 0, lines: [Line] = [], problems: [Problem] = []) {
        self.at = at
        self.registerVersion = registerVersion
        self.dryRun = dryRun
        self.seconds = seconds
        self.lines = lines
        self.problems = problems
    }

    /// The rule in a line: "6 months from collection, then delete".
    public static func describe(_ rule: RetentionRule) -> String {
        var text = "\(rule.keep) from \(rule.from.rawValue)"
        if let remind = rule.remind { text += ", remind \(remind) before" }
        text += ", then \(rule.then.rawValue)"
        if let archive = rule.archive { text += ", archive \(archive.keep)" }
        return text
    }

    /// The report as an operator reads it.
    public var text: String {
        var out = "\(dryRun ? "Plan" : "Sweep") at \(ISO8601DateFormatter().string(from: at)) (register \(registerVersion))"
        if !dryRun { out += String(format: ", %.3f s", seconds) }
        out += "\n"
        for line in lines {
            out += "- \(line.task) [\(line.purpose) / \(line.category): \(line.rule)] \(line.action): \(line.due) due"
            if !dryRun { out += ", \(line.done) done" }
            if line.kept > 0 { out += ", \(line.kept) kept" }
            if !line.examples.isEmpty { out += " (e.g. \(line.examples.joined(separator: ", ")))" }
            out += "\n"
        }
        for problem in problems { out += "! \(problem.task): \(problem.message)\n" }
        return out
    }
}
