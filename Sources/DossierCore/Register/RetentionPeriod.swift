import Foundation

/// A length of time in a retention rule, written "6 months", "1 year", "30 days" or "0 days".
public struct RetentionPeriod: Codable, Sendable, Hashable, CustomStringConvertible {
    public enum Unit: String, Codable, Sendable, CaseIterable {
        case day, week, month, year
    }

    public var count: Int
    public var unit: Unit

    public init(_ count: Int, _ unit: Unit) {
        self.count = count
        self.unit = unit
    }

    /// Parses "N day(s)|week(s)|month(s)|year(s)"; nil for anything else.
    public init?(parsing text: String) {
        let words = text.trimmingCharacters(in: .whitespaces).split(separator: " ")
        guard words.count == 2, let count = Int(words[0]), count >= 0 else { return nil }
        let word = words[1].lowercased()
        let singular = word.hasSuffix("s") ? String(word.dropLast()) : word
        guard let unit = Unit(rawValue: singular) else { return nil }
        // "1 years" and "2 month" are typos worth catching, not guessing.
        guard (count == 1) == (word == singular) || count == 0 else { return nil }
        self.init(count, unit)
    }

    public static let expectedForm = "\"N days|weeks|months|years\", e.g. \"6 months\" or \"1 year\""

    public var isZero: Bool { count == 0 }

    /// The English form the register is written in: "6 months", "1 year".
    public var description: String {
        "\(count) \(unit.rawValue)\(count == 1 ? "" : "s")"
    }

    /// ISO 8601 duration: "P6M", "P1Y", "P30D", "P2W".
    public var iso8601: String {
        let letter = switch unit {
        case .day: "D"
        case .week: "W"
        case .month: "M"
        case .year: "Y"
        }
        return "P\(count)\(letter)"
    }

    /// The instant this period after `date`, by the Gregorian calendar in UTC
    /// (31 January + 1 month is the last day of February).
    public func added(to date: Date) -> Date {
        let calendar = Calendar.utcGregorian
        var components = DateComponents()
        switch unit {
        case .day: components.day = count
        case .week: components.day = 7 * count
        case .month: components.month = count
        case .year: components.year = count
        }
        return calendar.date(byAdding: components, to: date)!
    }

    /// Compares two periods by the length they give from a fixed date.
    public func isLonger(than other: RetentionPeriod) -> Bool {
        let origin = Date(timeIntervalSince1970: 0)
        return added(to: origin) > other.added(to: origin)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        if let period = RetentionPeriod(parsing: text) {
            self = period
        } else {
            try decoder.reportProblem("unparseable duration '\(text)'; expected \(Self.expectedForm)")
            self.init(0, .day)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
