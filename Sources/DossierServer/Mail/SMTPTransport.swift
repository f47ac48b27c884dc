import DossierCore
import Foundation
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL

/// Delivers over SMTP (RFC 5321): EHLO, STARTTLS (then EHLO again), AUTH PLAIN or LOGIN when
/// credentials are set, MAIL/RCPT/DATA, QUIT. STARTTLS is required: a relay that does not offer
/// it gets nothing, unless it is on loopback or `SMTP_URL` says `?tls=optional`. Credentials are
/// never sent in clear except to a server on loopback.
struct SMTPTransport: MailTransport {
    let settings: MailSettings.SMTP
    let group: any EventLoopGroup
    /// The whole exchange must finish within this.
    var timeout: Duration = .seconds(30)

    /// The server refused: only its code is kept (its text often repeats the recipient's address).
    struct Refused: Error, CustomStringConvertible {
        let code: Int
        /// 4xx: try again later; 5xx: the server will never accept it.
        var isPermanent: Bool { code >= 500 }
        var description: String { "SMTP \(code)" }
    }

    struct ProtocolError: Error, CustomStringConvertible {
        let description: String
    }

    func deliver(_ delivery: MailDelivery) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await exchange(delivery) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw ProtocolError(description: "no answer from the SMTP server within \(timeout)")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func exchange(_ delivery: MailDelivery) async throws {
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .connect(host: settings.host, port: settings.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var session = Session(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            try await session.expect(220)
            var extensions = try await session.hello()
            var secure = false
            if extensions.contains("STARTTLS") {
                try await session.command("STARTTLS", expect: 220)
                try await startTLS(on: channel.channel)
                secure = true
                extensions = try await session.hello()
            } else if settings.requiresTLS {
                try? await session.command("QUIT", expect: 221)
                throw ProtocolError(description: "the SMTP server offers no STARTTLS: nothing sent in clear (set ?tls=optional on SMTP_URL to allow it)")
            }
            if let username = settings.username {
                guard secure || settings.isLoopback else {
                    throw ProtocolError(description: "the SMTP server offers no STARTTLS: credentials not sent in clear")
                }
                try await session.authenticate(username: username, password: settings.password ?? "", extensions: extensions)
            }
            try await session.command("MAIL FROM:<\(MailMessage.address(delivery.sender))>", expect: 250)
            try await session.command("RCPT TO:<\(MailMessage.address(delivery.recipient))>", expect: 250, 251)
            try await session.command("DATA", expect: 354)
            try await session.send(Self.dotStuffed(delivery.message) + "\r\n.")
            try await session.expect(250)
            try? await session.command("QUIT", expect: 221)
        }
    }

    private func startTLS(on channel: any Channel) async throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let file = settings.trustedCAFile {
            configuration.trustRoots = .file(file)
        }
        let context = try NIOSSLContext(configuration: configuration)
        let host = settings.host
        try await channel.eventLoop.submit {
            let handler = try NIOSSLClientHandler(context: context, serverHostname: host)
            try channel.pipeline.syncOperations.addHandler(handler, position: .first)
        }.get()
    }

    /// RFC 5321 §4.5.2: a line starting with "." gets another.
    static func dotStuffed(_ message: String) -> String {
        let normalised = message.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        var trimmed = normalised
        // "\r\n" is a single Character: removing the last one removes the whole line end.
        if trimmed.hasSuffix("\r\n") { trimmed.removeLast() }
        return trimmed.components(separatedBy: "\r\n").map { $0.hasPrefix(".") ? "." + $0 : $0 }.joined(separator: "\r\n")
    }

    /// One SMTP conversation over line-framed input.
    struct Session {
        var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

        mutating func send(_ line: String) async throws {
            try await outbound.write(ByteBuffer(string: line + "\r\n"))
        }

        /// Reads one (possibly multi-line) reply: "250-a", "250-b", "250 c".
        mutating func reply() async throws -> (code: Int, lines: [String]) {
            var lines: [String] = []
            while true {
                guard var buffer = try await inbound.next() else {
                    throw ProtocolError(description: "the SMTP server closed the connection")
                }
                let line = (buffer.readString(length: buffer.readableBytes) ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
                guard line.count >= 3, let code = Int(line.prefix(3)) else {
                    throw ProtocolError(description: "unreadable SMTP reply")
                }
                lines.append(String(line.dropFirst(4)))
                if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " {
                    return (code, lines)
                }
            }
        }

        @discardableResult
        mutating func expect(_ codes: Int...) async throws -> [String] {
            let (code, lines) = try await reply()
            guard codes.contains(code) else { throw Refused(code: code) }
            return lines
        }

        @discardableResult
        mutating func command(_ line: String, expect codes: Int...) async throws -> [String] {
            try await send(line)
            let (code, lines) = try await reply()
            guard codes.contains(code) else { throw Refused(code: code) }
            return lines
        }

        /// EHLO; returns the extension keywords the server offers (upper-cased, first word).
        mutating func hello() async throws -> Set<String> {
            let lines = try await command("EHLO \(Self.clientName)", expect: 250)
            return Set(lines.dropFirst().compactMap { $0.split(separator: " ").first.map { $0.uppercased() } }
                + lines.dropFirst().filter { $0.uppercased().hasPrefix("AUTH") }.flatMap { line in
                    line.split(separator: " ").dropFirst().map { "AUTH=" + $0.uppercased() }
                })
        }

        mutating func authenticate(username: String, password: String, extensions: Set<String>) async throws {
            if extensions.contains("AUTH=PLAIN") || !extensions.contains("AUTH=LOGIN") {
                let token = Data("\0\(username)\0\(password)".utf8).base64EncodedString()
                try await command("AUTH PLAIN \(token)", expect: 235)
            } else {
                try await command("AUTH LOGIN", expect: 334)
                try await command(Data(username.utf8).base64EncodedString(), expect: 334)
                try await command(Data(password.utf8).base64EncodedString(), expect: 235)
            }
        }

        static let clientName = ProcessInfo.processInfo.hostName.isEmpty ? "localhost" : ProcessInfo.processInfo.hostName
    }
}
