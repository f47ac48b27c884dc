import ArgumentParser
import DossierCore
import DossierServer
import Foundation

/// `dossier retention plan|run [--at INSTANT]`: the retention engine by hand.
struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Keep the register's retention rules: see what is due, or sweep it.",
        subcommands: [Plan.self, Run.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "The instant to sweep at, ISO 8601 (2027-06-30T12:00:00Z, or a day: 2027-06-30); default: now.")
        var at: String?

        @Flag(help: "Print the report as JSON.")
        var json = false

        func instant() throws -> Date? {
            guard let at else { return nil }
            let text = at.trimmingCharacters(in: .whitespaces)
            let invalid = ValidationError("--at: \"\(at)\" is not an ISO 8601 instant (e.g. 2027-06-30T12:00:00Z or 2027-06-30)")
            // Foundation's parser rolls 25:00 over to the next day: the clock's fields are checked first.
            if let time = text.firstMatch(of: /T(\d{2}):(\d{2})(?::(\d{2}))?/) {
                guard let hour = Int(time.1), hour < 24, let minute = Int(time.2), minute < 60,
                      Int(time.3 ?? "0").map({ $0 < 61 }) == true else { throw invalid }
            }
            let fractional = ISO8601DateFormatter()
            fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let day = ISO8601DateFormatter()
            day.formatOptions = [.withFullDate]
            guard let date = ISO8601DateFormatter().date(from: text) ?? fractional.date(from: text) ?? day.date(from: text) else { throw invalid }
            // The register's periods are counted in the Gregorian calendar, from data that exists.
            let year = Calendar.utcGregorian.component(.year, from: date)
            guard (1970...9999).contains(year) else {
                throw ValidationError("--at: \"\(at)\" is outside the years 1970 to 9999")
            }
            return date
        }
    }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print what a sweep at INSTANT would do, per rule (counts and examples), changing nothing.")

        @OptionGroup var retention: Options
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let instant = try retention.instant()
            try await reportingFailures {
                try await withDossierApp(options.configuration()) { app in
                    try await DossierApp.migrate(app)
                    print(try await RetentionOperations.plan(on: app, at: instant ?? Date(), json: retention.json))
                }
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the sweep as if it were INSTANT: delete, erase, remind what is due; its receipt goes to the audit trail.",
            discussion: "Refused (exit 1) while another sweep runs on the database. A sweep interrupted at any point is finished by the next one.")

        @OptionGroup var retention: Options
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let instant = try retention.instant()
            var problems = 0
            try await reportingFailures {
                // The whole run as if it were INSTANT: the dates it writes (an erasure's, a
                // reminder's) are those of the sweep.
                let configuration = try options.configuration()
                // Ahead of time, the sweep would delete before the register's day, and date what it
                // writes in the future: a development instance's rehearsal, never production's.
                if let instant, instant > Date() + 60, !configuration.isDevelopmentInstance {
                    throw ConfigurationError("refusing to sweep --at a future instant on a production instance: it would delete "
                        + "data before the register's day (rehearse on a development copy, or use `dossier retention plan --at`)")
                }
                let clock: any WallClock = instant.map { ShiftedClock(startingAt: $0) } ?? SystemClock()
                try await withDossierApp(configuration, clock: clock) { app in
                    try await DossierApp.migrate(app)
                    let result = try await RetentionOperations.run(on: app, at: clock.now, json: retention.json)
                    print(result.text)
                    problems = result.problems
                }
            }
            if problems > 0 { throw ExitCode.failure }
        }
    }
}
