@testable import DossierServer
import DossierCore
import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
import VaporTesting

@Suite("Configuration and logs")
struct ConfigurationTests {
    /// The lines a JSON handler wrote.
    final class Lines: Sendable {
        let lines = NIOLockedValueBox<[String]>([])
        func append(_ line: String) { lines.withLockedValue { $0.append(line) } }
        var objects: [[String: Any]] {
            get throws {
                try lines.withLockedValue { $0 }.map {
                    #expect($0.hasSuffix("\n") && $0.dropLast().firstIndex(of: "\n") == nil, "one line per event")
                    return try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
                }
            }
        }
    }

    struct Failure: Error, CustomStringConvertible { var description: String { "the disk is full" } }

    @Test func jsonLogsAreOneObjectALineWithEverythingEscapedAndQueryValuesRedacted() throws {
        let lines = Lines()
        var logger = Logger(label: "dossier.test") { label in
            RedactingLogHandler(JSONLogHandler(label: label, metadataProvider: nil, write: { lines.append($0) }))
        }
        logger.logLevel = .debug
        logger[metadataKey: "request"] = "42"
        logger.warning("quote \" backslash \\ newline \n tab \t bell \u{07} line separator \u{2028} é 🏠", metadata: [
            "route": "POST /api/v1/me/documents", "input": "[\"email\": \"jane@example.org\"]",
            "sizes": ["1", "two"], "nested": ["a": "b"],
        ])
        logger.error("failed", error: Failure())
        let objects = try lines.objects
        #expect(objects.count == 2)
        let first = try #require(objects.first)
        #expect(first["level"] as? String == "warning")
        #expect(first["label"] as? String == "dossier.test")
        #expect(first["source"] as? String == "DossierServerTests")
        #expect(first["message"] as? String == "quote \" backslash \\ newline \n tab \t bell \u{07} line separator \u{2028} é 🏠")
        let metadata = try #require(first["metadata"] as? [String: Any])
        #expect(metadata["request"] as? String == "42")
        #expect(metadata["route"] as? String == "POST /api/v1/me/documents")
        #expect(metadata["input"] as? String == "<redacted>")
        #expect(metadata["sizes"] as? [String] == ["1", "two"])
        #expect(metadata["nested"] as? [String: String] == ["a": "b"])
        let time = try #require(first["time"] as? String)
        let parsed = try #require(ISO8601DateFormatter.withFractionalSeconds.date(from: time), "\(time)")
        #expect(abs(parsed.timeIntervalSinceNow) < 3600)
        let second = try #require(objects.last?["metadata"] as? [String: Any])
        #expect(second["error.message"] as? String == "the disk is full")
        #expect((second["error.type"] as? String)?.hasSuffix("Failure") == true)
        #expect(!lines.lines.withLockedValue { $0 }.joined().contains("jane@example.org"))
    }

    @Test func secretsInURLsAreMasked() {
        let mask = ConfigurationCheck.mask
        #expect(ConfigurationCheck.masked(url: "postgres://u:p%40ss@db:5432/x?sslmode=require", showsUser: true) == "postgres://u:\(mask)@db:5432/x?sslmode=require")
        #expect(ConfigurationCheck.masked(url: "https://s3.example/b?X-Amz-Security-Token=abc&region=eu") == "https://s3.example/b?X-Amz-Security-Token=\(mask)&region=eu")
        // The user of anything but a database is masked too (a relay may take a token as the user).
        #expect(ConfigurationCheck.masked(url: "smtp://relay@mail:25") == "smtp://\(mask)@mail:25")
        #expect(ConfigurationCheck.masked(url: "smtp://TOKEN:TOKEN@smtp.example:587") == "smtp://\(mask)@smtp.example:587")
        #expect(ConfigurationCheck.masked(url: "not a url with secret") == mask)
        #expect(ConfigurationCheck.masked(url: "weird://user:secret@[bad") == "weird://\(mask)@[bad")
        // Passwords a parser would read as a port, a path or a query are masked all the same.
        #expect(ConfigurationCheck.masked(url: "postgres://dossier:/Zq9k@db/dossier", showsUser: true) == "postgres://dossier:\(mask)@db/dossier")
        #expect(ConfigurationCheck.masked(url: "smtp://relay:2024/Zq9k@mail.example.org:587") == "smtp://\(mask)@mail.example.org:587")
        #expect(ConfigurationCheck.masked(url: "smtp://relay:?Zq9k@mail.example.org") == "smtp://\(mask)@mail.example.org")
        #expect(ConfigurationCheck.masked(url: "\"postgres://k:Zq9k@db/k\"", showsUser: true) == mask)
        // A host forgotten: `user:password` would read as `host:port`.
        #expect(ConfigurationCheck.masked(url: "postgres://dossier:Zq9k", showsUser: true) == "postgres://\(mask)")
        #expect(ConfigurationCheck.masked(url: "smtp://apikey:SG.Zq9k/x") == "smtp://\(mask)/x")
        #expect(ConfigurationCheck.masked(url: "smtp://mail.example.org:587") == "smtp://mail.example.org:587")
        #expect(ConfigurationCheck.masked(url: "https://s3.example/b?pwd=Zq9k") == "https://s3.example/b?pwd=\(mask)")
        // …and refused, rather than half read as the host.
        #expect(SecretURL.ambiguity(in: "postgres://dossier:/Zq9k@db/dossier", variable: "DATABASE_URL") != nil)
        #expect(SecretURL.ambiguity(in: "postgres://dossier:Zq9k@db/dossier?application_name=a", variable: "DATABASE_URL") == nil)
    }

    @Test func aBlobDirectoryOfItsOwnHoldsTheDocuments() async throws {
        let blobs = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-blobs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: blobs) }
        try await withDossier(on: .sqlite, configure: { $0.blobsURL = "file://" + blobs.path }) { app in
            #expect(app.dossier.configuration.blobDirectory.path == blobs.standardizedFileURL.path)
            // Made owner-only.
            let mode = try FileManager.default.attributesOfItem(atPath: blobs.path)[.posixPermissions] as? Int
            #expect(mode == 0o700)
            try await app.signUp(verified: true)
            let token = try await app.signIn()
            try await app.upload(token: token, type: "tax-notice", files: [("avis.pdf", "application/pdf", try upload("payslip.pdf"))]) { res in
                #expect(res.status == .created)
            }
            let file = try #require(try await DocumentFile.query(on: app.db).first())
            let stored = try #require(FileManager.default.enumerator(atPath: blobs.path)?.allObjects as? [String])
            #expect(stored.contains { $0.hasSuffix(file.blobKey.lowercased()) })
            let inDataDirectory = app.dossier.configuration.dataDirectory.appendingPathComponent("blobs")
            #expect(!FileManager.default.fileExists(atPath: inDataDirectory.path))
        }
        // A directory others can read is refused, as the data directory is.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: blobs.path)
        await #expect(throws: ConfigurationError.self) {
            try await withDossier(on: .sqlite, configure: { $0.blobsURL = blobs.path }) { _ in }
        }
        // The data directory, what holds it, or a folder inside it other than its own `blobs`:
        // `verify --remove-orphans` and the scratch directory's emptying would take their files.
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-data-\(UUID().uuidString)")
        for refused in [data.path, data.deletingLastPathComponent().path, data.appendingPathComponent("scratch").path, "file://" + data.path] {
            var configuration = DossierConfiguration(dataDirectory: data)
            configuration.blobsURL = refused
            #expect(configuration.blobStoreProblem != nil, "\(refused)")
        }
        var own = DossierConfiguration(dataDirectory: data)
        own.blobsURL = data.appendingPathComponent("blobs").path
        #expect(own.blobStoreProblem == nil)
        // So is an object store without its credentials, rather than ignored.
        await #expect(throws: ConfigurationError.self) {
            try await withDossier(on: .sqlite, configure: { $0.blobsURL = "s3://bucket/prefix" }) { _ in }
        }
    }
}

extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
