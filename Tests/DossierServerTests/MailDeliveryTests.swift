@testable import DossierServer
import DossierCore
import Foundation
import Testing
import VaporTesting

/// Delivery to a real SMTP server on loopback (aiosmtpd, Tests/Tools/smtp_server.py).
@Suite("Mail delivery over SMTP", .serialized)
struct MailDeliveryTests {
    @Test(arguments: TestDatabase.all)
    func retriesAfterARefusedFirstAttempt(database: TestDatabase) async throws {
        let server = try SMTPTestServer.start(["--refuse-first"])
        defer { server.stop() }
        let clock = ManualClock(testEpoch)
        try await withDossier(on: database, clock: clock, configure: { $0.smtpURL = "smtp://127.0.0.1:\(server.port)" }) { app in
            try await app.signUp()
            let first = try await app.dossier.outbox.deliverDue(on: app.db)
            #expect(first == .init(sent: 0, retried: 1, failed: 0))
            let waiting = try #require(try await app.outbox().first)
            #expect(waiting.attempts == 1)
            #expect(waiting.lastError?.contains("451") == true)
            #expect(waiting.sentAt == nil)
            // Not due again before its back-off…
            #expect(try await app.dossier.outbox.deliverDue(on: app.db) == .init())
            // …and delivered once it is.
            clock.advance(by: 61)
            #expect(try await app.dossier.outbox.deliverDue(on: app.db) == .init(sent: 1, retried: 0, failed: 0))
            let received = try server.received()
            #expect(received.count == 1)
            let mail = try #require(received.first)
            #expect(mail.rcptTos == ["jane.doe@example.org"])
            #expect(mail.mailFrom == "no-reply@dossier.localhost")
            #expect(mail.content.contains("Subject: Confirm your email address"))
            #expect(mail.content.contains("http://127.0.0.1:8080/verify-email?token="))
            #expect(try await app.outbox().first?.sentAt != nil)
        }
    }

    @Test func authenticatesWithPlainCredentials() async throws {
        let server = try SMTPTestServer.start(["--user", "relay", "--password", "s3cret pass"])
        defer { server.stop() }
        try await withDossier(on: .sqlite, configure: { $0.smtpURL = "smtp://relay:s3cret%20pass@127.0.0.1:\(server.port)" }) { app in
            try await app.signUp()
            #expect(try await app.dossier.outbox.deliverDue(on: app.db) == .init(sent: 1, retried: 0, failed: 0))
            #expect(try server.received().first?.auth == "relay")
        }
    }

    @Test func wrongCredentialsAreAPermanentFailure() async throws {
        let server = try SMTPTestServer.start(["--user", "relay", "--password", "right"])
        defer { server.stop() }
        try await withDossier(on: .sqlite, configure: { $0.smtpURL = "smtp://relay:wrong@127.0.0.1:\(server.port)" }) { app in
            try await app.signUp()
            #expect(try await app.dossier.outbox.deliverDue(on: app.db) == .init(sent: 0, retried: 0, failed: 1))
            let message = try #require(try await app.outbox().first)
            #expect(message.failedAt != nil)
            #expect(message.lastError?.contains("535") == true)
            #expect(try server.received().isEmpty)
        }
    }

    @Test func upgradesToTLSWhenOffered() async throws {
        let tls = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-tls-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: tls) }
        let server = try SMTPTestServer.start(["--tls-dir", tls.path, "--user", "relay", "--password", "pw"])
        defer { server.stop() }
        try await withDossier(on: .sqlite, configure: {
            $0.smtpURL = "smtp://relay:pw@localhost:\(server.port)"
            $0.smtpCAFile = tls.appendingPathComponent("ca.pem").path
        }) { app in
            try await app.signUp()
            #expect(try await app.dossier.outbox.deliverDue(on: app.db) == .init(sent: 1, retried: 0, failed: 0))
            let mail = try #require(try server.received().first)
            #expect(mail.tls)
            #expect(mail.auth == "relay")
        }
    }

    @Test func anUntrustedCertificateIsNotAccepted() async throws {
        let tls = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-tls-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: tls) }
        let server = try SMTPTestServer.start(["--tls-dir", tls.path])
        defer { server.stop() }
        let clock = ManualClock(testEpoch)
        try await withDossier(on: .sqlite, clock: clock, configure: { $0.smtpURL = "smtp://localhost:\(server.port)" }) { app in
            try await app.signUp()
            #expect(try await app.dossier.outbox.deliverDue(on: app.db) == .init(sent: 0, retried: 1, failed: 0))
            #expect(try server.received().isEmpty)
        }
    }

    @Test func aClosedPortIsRetriedLater() async throws {
        let clock = ManualClock(testEpoch)
        try await withDossier(on: .sqlite, clock: clock, configure: { $0.smtpURL = "smtp://127.0.0.1:1" }) { app in
            try await app.signUp()
            #expect(try await app.dossier.outbox.deliverDue(on: app.db) == .init(sent: 0, retried: 1, failed: 0))
            #expect(try await app.outbox().first?.nextAttemptAt == testEpoch + 60)
        }
    }

    @Test func dotStuffingAndMessageShape() {
        #expect(SMTPTransport.dotStuffed("a\r\n.b\r\n..c\r\n") == "a\r\n..b\r\n...c")
        let message = MailMessage(from: "Dossier <no-reply@example.org>", to: "x@example.org", subject: "Réinitialisez",
                                  text: "Ligne\n.point", date: testEpoch).rfc5322()
        #expect(message.contains("Subject: =?UTF-8?B?"))
        #expect(message.contains("Message-ID: <"))
        #expect(message.contains("@example.org>\r\n"))
        #expect(message.hasSuffix("Ligne\r\n.point\r\n"))
    }
}

/// `Tests/Tools/smtp_server.py` in a child process, stopped at the end of the test.
struct SMTPTestServer {
    let process: Process
    let port: Int
    let directory: URL

    struct Received: Decodable {
        var mailFrom: String
        var rcptTos: [String]
        var tls: Bool
        var auth: String?
        var content: String

        enum CodingKeys: String, CodingKey {
            case mailFrom = "mail_from", rcptTos = "rcpt_tos", tls, auth, content
        }
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tools/smtp_server.py")

    static func start(_ arguments: [String]) throws -> SMTPTestServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-smtp-\(UUID().uuidString)")
        for _ in 0..<5 {
            let port = Int.random(in: 30000...50000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script.path, "--dir", directory.path, "--port", "\(port)"] + arguments
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // "ready PORT" once listening; nothing (and an exit) if the port was taken.
            let line = output.fileHandleForReading.availableLine(timeout: 20)
            if line?.hasPrefix("ready") == true {
                return SMTPTestServer(process: process, port: port, directory: directory)
            }
            process.terminate()
            process.waitUntilExit()
        }
        throw CLIError("the SMTP test server did not start (is aiosmtpd installed? pip install -r Tests/requirements.txt)")
    }

    func received() throws -> [Received] {
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        return try files.filter { $0.pathExtension == "json" }.map {
            try JSONDecoder().decode(Received.self, from: Data(contentsOf: $0))
        }
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}

extension FileHandle {
    /// Reads one line, giving up after `timeout` seconds (the child may die silently).
    func availableLine(timeout: TimeInterval) -> String? {
        let deadline = Date() + timeout
        var data = Data()
        let handle = self
        while Date() < deadline {
            let chunk = handle.availableDataWithin(milliseconds: 200)
            if let chunk, !chunk.isEmpty {
                data.append(chunk)
                if let text = String(data: data, encoding: .utf8), text.contains("\n") {
                    return text.components(separatedBy: "\n").first
                }
            } else if chunk == nil {
                return nil
            }
        }
        return nil
    }

    /// Data available within the time, empty if none yet, nil at end of file.
    private func availableDataWithin(milliseconds: Int32) -> Data? {
        var descriptor = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, milliseconds)
        guard ready > 0 else { return Data() }
        let chunk = availableData
        return chunk.isEmpty ? nil : chunk
    }
}
