import Foundation
import Testing

@testable import DossierCore

@Suite("Mail messages")
struct MailMessageTests {
    /// The Date header written from the calendar's fields reads as Foundation's formatter writes
    /// RFC 5322 dates, across a leap day, the turn of a year and summer time in Paris.
    @Test func theDateHeaderIsRFC5322InUTC() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let instants: [TimeInterval] = [0, 951_782_400, 1_709_164_799, 1_709_164_800, 1_735_689_599, 1_735_689_600, 1_743_296_400, 1_793_600_000]
        for instant in instants + (0..<200).map({ Double($0) * 7_777_777.7 }) {
            let date = Date(timeIntervalSince1970: instant)
            #expect(MailMessage.date(date) == formatter.string(from: date))
        }
        let message = MailMessage(from: "Dossier <no-reply@example.org>", to: "a@example.org", subject: "Reçu", text: "Bonjour\n",
                                  date: Date(timeIntervalSince1970: 1_709_164_800))
        #expect(message.rfc5322().contains("\r\nDate: Thu, 29 Feb 2024 00:00:00 +0000\r\n"))
    }

    /// Line endings become CRLF whatever the text had (LF, CRLF, both, none, non-ASCII around
    /// them), as the former two Foundation replacements made them, and nothing else changes.
    @Test func everyLineEndsInCRLF() {
        let texts = ["", "one line", "a\nb", "a\r\nb", "a\n\nb\r\n\r\nc\n", "\n", "\r\n", "lone\rcarriage", "Reçu\n«é»\r\n€\n", "end\r", "\r\r\n", "\n\r"]
        for text in texts {
            let expected = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
            #expect(MailMessage.crlf(text) == expected)
            let body = MailMessage(from: "f@example.org", to: "t@example.org", subject: "s", text: text, date: Date(timeIntervalSince1970: 0))
                .rfc5322().components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
            #expect(body == expected + "\r\n")
        }
    }
}
