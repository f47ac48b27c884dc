import DossierServer
import Foundation
import Logging
import Testing

@Suite("Logs")
struct LoggingTests {
    /// Collects what reaches the handler.
    final class Capture: LogHandler, @unchecked Sendable {
        var events: [LogEvent] = []
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        var metadataProvider: Logger.MetadataProvider?
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { events.append(event) }
    }

    @Test func queryValuesAreRedactedButTheQueryShapeStays() {
        let capture = Capture()
        let logger = Logger(label: "test") { _ in RedactingLogHandler(capture) }
        logger.debug("query", metadata: [
            "action": "create", "schema": "accounts",
            "input": "[\"email\": \"jane@example.org\"]", "filters": "[\"token_hash\": \"abc\"]",
        ])
        let metadata = capture.events.first?.metadata ?? [:]
        #expect(metadata["input"] == "<redacted>")
        #expect(metadata["filters"] == "<redacted>")
        #expect(metadata["schema"] == "accounts")
        #expect(metadata["action"] == "create")
    }
}
