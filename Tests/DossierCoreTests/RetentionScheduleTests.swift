import DossierCore
import Foundation
import Testing

@Suite struct RetentionScheduleTests {
    let calendar = Calendar.utcGregorian

    func date(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 12) -> Date {
        calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour))!
    }

    /// A start is due at T exactly when its period's end is at or before T.
    func check(_ keep: RetentionPeriod, at instant: Date) {
        let latest = RetentionSchedule.latestStart(keep: keep, at: instant)
        #expect(keep.added(to: latest) <= instant)
        #expect(keep.added(to: latest + 1) > instant)
    }

    @Test func theLatestDueStartIsExact() {
        for keep in [RetentionPeriod(6, .month), RetentionPeriod(1, .year), RetentionPeriod(30, .day), RetentionPeriod(12, .month), RetentionPeriod(2, .week)] {
            for instant in [date(2027, 2, 28), date(2027, 3, 31), date(2028, 2, 29), date(2027, 7, 15, 0), date(2028, 2, 28, 23)] {
                check(keep, at: instant)
            }
        }
    }

    @Test func instantsFarFromNowStillEnd() {
        // A Date's double cannot tell microseconds apart there: the search must stop all the same.
        for instant in [date(9999, 12, 31), date(1600, 3, 1), Date(timeIntervalSince1970: 0)] {
            check(RetentionPeriod(6, .month), at: instant)
            check(RetentionPeriod(5, .year), at: instant)
        }
    }

    @Test func monthEndsClampTheirStarts() {
        // Collected on 29, 30 or 31 August: 6 months later is 28 February (2027 is not a leap year).
        let latest = RetentionSchedule.latestStart(keep: RetentionPeriod(6, .month), at: date(2027, 2, 28))
        #expect(latest >= date(2026, 8, 31))
        #expect(latest < date(2026, 9, 1, 0) + 1)
        // Not on 27 February: collected on 28 August at noon is due then, the 29th not yet.
        let before = RetentionSchedule.latestStart(keep: RetentionPeriod(6, .month), at: date(2027, 2, 27))
        #expect(before >= date(2026, 8, 27) && before < date(2026, 8, 27) + 1)
        // A year after 29 February is 28 February.
        #expect(RetentionSchedule.latestStart(keep: RetentionPeriod(1, .year), at: date(2029, 2, 28)) >= date(2028, 2, 29))
    }

    @Test func oneDayBeforeIsNotDue() {
        let collected = date(2027, 1, 10)
        let keep = RetentionPeriod(6, .month)
        #expect(RetentionSchedule.latestStart(keep: keep, at: date(2027, 7, 9)) < collected)
        #expect(RetentionSchedule.latestStart(keep: keep, at: date(2027, 7, 10)) >= collected)
        #expect(RetentionSchedule.latestStart(keep: RetentionPeriod(0, .day), at: collected) == collected)
    }

    @Test func remindersComeTheirPeriodBeforeTheEnd() {
        let active = date(2027, 3, 1)
        let keep = RetentionPeriod(1, .year)
        let remind = RetentionPeriod(30, .day)
        // Closing on 1 March 2028; reminded from 31 January 2028 (2028 is a leap year: 30 days before).
        #expect(RetentionSchedule.latestReminderStart(keep: keep, remind: remind, at: date(2028, 1, 30)) < active)
        #expect(RetentionSchedule.latestReminderStart(keep: keep, remind: remind, at: date(2028, 1, 31)) >= active)
    }

    @Test func taskRulesComeFromTheRegister() throws {
        let register = try RegisterLoader.load().register
        let log = RetentionTask(id: "connection-log", purpose: "account", category: "connection-data", events: [.collection])
        let rule = try log.rule(in: register).get()
        #expect(rule.keep == RetentionPeriod(6, .month))
        // A store that cannot count from the rule's event says so rather than guess.
        let wrong = RetentionTask(id: "x", purpose: "account", category: "connection-data", events: [.lastActivity])
        guard case let .failure(problem) = wrong.rule(in: register) else { Issue.record("a rule from an event the store lacks"); return }
        #expect(problem.message.contains("collection"))
        let missing = RetentionTask(id: "y", purpose: "nowhere", category: "connection-data", events: [.collection])
        guard case .failure = missing.rule(in: register) else { Issue.record("a purpose the register lacks"); return }
    }
}
