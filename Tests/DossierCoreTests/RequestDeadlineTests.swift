import DossierCore
import Foundation
import Testing

/// Noon in Paris on a day (winter or summer time alike: 10:00 or 11:00 UTC).
private func received(_ day: String, hour: Int = 12) -> Date {
    let parts = day.split(separator: "-").compactMap { Int($0) }
    return RequestDeadline.calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: hour))!
}

private let oneMonth = RetentionPeriod(1, .month)

@Suite("Deadlines of rights requests (Regulation 1182/71)")
struct RequestDeadlineTests {
    @Test(arguments: [
        // 31 January: the last day of February, 28 or 29.
        ("2030-01-31", "2030-02-28"), ("2028-01-31", "2028-02-29"),
        // … a Saturday: the next working day.
        ("2026-01-31", "2026-03-02"),
        // 29 February: 29 March.
        ("2028-02-29", "2028-03-29"),
        // The last day of a month: the same date, or the last day of the next month.
        ("2026-03-31", "2026-04-30"), ("2026-11-30", "2026-12-30"),
        // 30 May 2026 is a Saturday: Monday 1 June.
        ("2026-04-30", "2026-06-01"),
        // Public holidays: 14 July; Ascension (movable, from Easter).
        ("2026-06-14", "2026-07-15"), ("2026-04-14", "2026-05-15"),
    ])
    func oneMonthEndsOnTheSameDateOrTheMonthsLastThenAWorkingDay(_ day: String, _ due: String) {
        #expect(RequestDeadline.after(received(day), period: oneMonth).lastDay == due)
    }

    @Test func theDeadlineEndsWithTheLastHourOfItsDayInParis() {
        let deadline = RequestDeadline.after(received("2030-01-31"), period: oneMonth)
        // Midnight in Paris (UTC+1 in winter) after 28 February.
        #expect(deadline.endsAt == Date(timeIntervalSince1970: 1_898_550_000))
        #expect(ISO8601DateFormatter().string(from: deadline.endsAt) == "2030-02-28T23:00:00Z")
    }

    @Test func theDayOfReceiptIsTheParisDay() {
        // 23:30 UTC on 31 January is 00:30 on 1 February in Paris: one month is 1 March.
        let lateEvening = Date(timeIntervalSince1970: 1_896_132_600)  // 2030-01-31T23:30:00Z
        #expect(RequestDeadline.after(lateEvening, period: oneMonth).lastDay == "2030-03-01")
    }

    @Test func anExtensionCountsThreeMonthsFromReceipt() {
        #expect(RequestDeadline.extended(received("2026-01-31"), period: oneMonth, by: RetentionPeriod(2, .month)).lastDay == "2026-04-30")
        #expect(RequestDeadline.extended(received("2028-02-29"), period: oneMonth, by: RetentionPeriod(2, .month)).lastDay == "2028-05-29")
    }

    @Test func periodsInDaysCountFromTheNextDay() {
        // 10 days from Friday 1 May 2026: Monday 11 May.
        #expect(RequestDeadline.after(received("2026-05-01"), period: RetentionPeriod(10, .day)).lastDay == "2026-05-11")
    }

    @Test func franceHasElevenPublicHolidays() {
        let holidays = RequestDeadline.publicHolidays(2026).map { String(format: "%02d-%02d", $0.month, $0.day) }.sorted()
        #expect(holidays == ["01-01", "04-06", "05-01", "05-08", "05-14", "05-25", "07-14", "08-15", "11-01", "11-11", "12-25"])
        // Easter Monday in other years (Easter: 31 March 2024, 20 April 2025, 28 March 2027).
        #expect(RequestDeadline.publicHolidays(2024).contains { $0.month == 4 && $0.day == 1 })
        #expect(RequestDeadline.publicHolidays(2025).contains { $0.month == 4 && $0.day == 21 })
        #expect(RequestDeadline.publicHolidays(2027).contains { $0.month == 3 && $0.day == 29 })
        #expect(!RequestDeadline.isWorkingDay((2026, 12, 25)) && RequestDeadline.isWorkingDay((2026, 12, 24)))
    }

    @Test func staffAreRemindedAWeekBeforeTheDayBeforeAndOncePassed() {
        let deadline = received("2026-06-30")
        let day: TimeInterval = 86_400
        #expect(RequestRules.remindersDue(deadline: deadline, sent: 0, now: deadline - 8 * day) == 0)
        #expect(RequestRules.remindersDue(deadline: deadline, sent: 0, now: deadline - 7 * day) == 1)
        #expect(RequestRules.remindersDue(deadline: deadline, sent: 1, now: deadline - 2 * day) == 0)
        #expect(RequestRules.remindersDue(deadline: deadline, sent: 1, now: deadline - day) == 1)
        #expect(RequestRules.remindersDue(deadline: deadline, sent: 2, now: deadline) == 1)
        #expect(RequestRules.remindersDue(deadline: deadline, sent: 3, now: deadline + 30 * day) == 0)
        // A request entered late owes every reminder passed at once, counted once.
        #expect(RequestRules.remindersDue(deadline: deadline, sent: 0, now: deadline + day) == 3)
    }
}
