import DossierCore
import Foundation
import Testing

@Suite("Retention periods")
struct RetentionPeriodTests {
    @Test(arguments: [
        ("6 months", RetentionPeriod(6, .month)), ("1 year", RetentionPeriod(1, .year)),
        ("30 days", RetentionPeriod(30, .day)), ("0 days", RetentionPeriod(0, .day)),
        ("2 weeks", RetentionPeriod(2, .week)), ("  13 months ", RetentionPeriod(13, .month)),
    ])
    func parses(text: String, expected: RetentionPeriod) {
        #expect(RetentionPeriod(parsing: text) == expected)
    }

    @Test(arguments: ["6 mois", "1 years", "2 month", "six months", "-1 days", "6", "6months", ""])
    func refuses(text: String) {
        #expect(RetentionPeriod(parsing: text) == nil)
    }

    @Test func iso8601() {
        #expect(RetentionPeriod(6, .month).iso8601 == "P6M")
        #expect(RetentionPeriod(10, .year).iso8601 == "P10Y")
        #expect(RetentionPeriod(0, .day).iso8601 == "P0D")
    }

    @Test func addsCalendarMonthsAndYears() throws {
        let formatter = ISO8601DateFormatter()
        let endOfJanuary = try #require(formatter.date(from: "2027-01-31T10:00:00Z"))
        #expect(formatter.string(from: RetentionPeriod(1, .month).added(to: endOfJanuary)) == "2027-02-28T10:00:00Z")
        let leapDay = try #require(formatter.date(from: "2028-02-29T00:00:00Z"))
        #expect(formatter.string(from: RetentionPeriod(1, .year).added(to: leapDay)) == "2029-02-28T00:00:00Z")
        #expect(formatter.string(from: RetentionPeriod(2, .week).added(to: leapDay)) == "2028-03-14T00:00:00Z")
    }

    @Test func comparesByLength() {
        #expect(RetentionPeriod(13, .month).isLonger(than: RetentionPeriod(1, .year)))
        #expect(!RetentionPeriod(30, .day).isLonger(than: RetentionPeriod(1, .month)))
        #expect(RetentionPeriod(32, .day).isLonger(than: RetentionPeriod(1, .month)))
    }
}

@Suite("Language negotiation")
struct LanguageTests {
    @Test(arguments: [
        ("en-GB,en;q=0.9,fr;q=0.8", Language.en), ("fr-FR,fr;q=0.9", .fr), ("de-DE,en;q=0.5,fr;q=0.7", .fr),
        ("de", nil), ("en;q=0", nil), ("", nil),
    ])
    func picksTheBestSupportedLanguage(header: String, expected: Language?) {
        #expect(Language.preferred(fromAcceptLanguage: header) == expected)
    }
}
