import Foundation

/// The time limit of a rights request, counted as Regulation (EEC, Euratom) No 1182/71 counts
/// periods (the rule the GDPR's "one month" of Art. 12(3) follows):
/// - Art. 3(1): the day the request is received is not counted;
/// - Art. 3(2)(c): a period of months ends at the end of the day, in the last month, with the
///   same date as the day of receipt, or of the last day of that month if it has no such date
///   (received 31 January: 28 or 29 February; received 29 February: 29 March);
/// - Art. 3(4): a period that would end on a Saturday, a Sunday or a public holiday ends at the
///   end of the next working day.
/// Days are counted in the controller's time zone (Paris) and its public holidays (France's
/// eleven: Code du travail art. L3133-1).
public struct RequestDeadline: Sendable, Equatable, CustomStringConvertible {
    /// The last day to answer, `YYYY-MM-DD`, in Paris.
    public let lastDay: String
    /// The end of that day in Paris: the instant the deadline passes.
    public let endsAt: Date

    public var description: String { lastDay }

    /// The controller's calendar: Gregorian, in Paris.
    public static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Paris")!
        return calendar
    }

    /// The deadline `period` after a request received at `received`.
    public static func after(_ received: Date, period: RetentionPeriod) -> RequestDeadline {
        let calendar = calendar
        let day = calendar.dateComponents([.year, .month, .day], from: received)
        guard let year = day.year, let month = day.month, let date = day.day else { preconditionFailure("a Gregorian date has a year, a month and a day") }
        var last: (year: Int, month: Int, day: Int)
        switch period.unit {
        case .day, .week:
            let days = period.unit == .day ? period.count : 7 * period.count
            last = shifted((year, month, date), byDays: days)
        case .month, .year:
            let months = period.unit == .month ? period.count : 12 * period.count
            let index = year * 12 + (month - 1) + months
            let targetYear = index / 12, targetMonth = index % 12 + 1
            last = (targetYear, targetMonth, min(date, daysIn(year: targetYear, month: targetMonth)))
        }
        // Art. 3(4): a Saturday, a Sunday or a public holiday gives way to the next working day.
        while !isWorkingDay(last) {
            last = shifted(last, byDays: 1)
        }
        let next = shifted(last, byDays: 1)
        let endsAt = calendar.date(from: DateComponents(year: next.year, month: next.month, day: next.day))!
        return RequestDeadline(lastDay: String(format: "%04d-%02d-%02d", last.year, last.month, last.day), endsAt: endsAt)
    }

    /// The deadline of a request whose period was extended (Art. 12(3): by two further months):
    /// counted from the receipt, over the whole period.
    public static func extended(_ received: Date, period: RetentionPeriod, by more: RetentionPeriod) -> RequestDeadline {
        if period.unit == more.unit {
            return after(received, period: RetentionPeriod(period.count + more.count, period.unit))
        }
        return after(after(received, period: period).endsAt - 1, period: more)
    }

    /// Whether a day is neither a Saturday, a Sunday nor a French public holiday.
    public static func isWorkingDay(_ day: (year: Int, month: Int, day: Int)) -> Bool {
        let weekday = calendar.component(.weekday, from: calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day))!)
        if weekday == 1 || weekday == 7 { return false }
        return !publicHolidays(day.year).contains(where: { $0.month == day.month && $0.day == day.day })
    }

    /// France's public holidays in `year` (Code du travail art. L3133-1).
    public static func publicHolidays(_ year: Int) -> [(month: Int, day: Int)] {
        let easter = easterSunday(year)
        let movable = [1, 39, 50].map { shifted((year, easter.month, easter.day), byDays: $0) }  // Monday, Ascension, Whit Monday
        return [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)] + movable.map { ($0.month, $0.day) }
    }

    /// Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm).
    static func easterSunday(_ year: Int) -> (month: Int, day: Int) {
        let a = year % 19, b = year / 100, c = year % 100
        let d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3
        let h = (19 * a + b - d - g + 15) % 30
        let i = c / 4, k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        return ((h + l - 7 * m + 114) / 31, (h + l - 7 * m + 114) % 31 + 1)
    }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func shifted(_ day: (year: Int, month: Int, day: Int), byDays count: Int) -> (year: Int, month: Int, day: Int) {
        var (year, month, date) = day
        date += count
        while date > daysIn(year: year, month: month) {
            date -= daysIn(year: year, month: month)
            month += 1
            if month > 12 { month = 1; year += 1 }
        }
        return (year, month, date)
    }
}
