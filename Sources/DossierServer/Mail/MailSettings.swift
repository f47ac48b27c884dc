import Foundation

/// Where mail goes: an SMTP server (`SMTP_URL`), or `.eml` files in the data directory.
struct MailSettings: Sendable {
    struct SMTP: Sendable, Equatable {
        var host: String
        var port: Int
        var username: String?
        var password: String?
        /// Extra trusted certificate authority (PEM file), e.g. for a private relay.
        var trustedCAFile: String?

        var isLoopback: Bool { host == "127.0.0.1" || host == "localhost" || host == "::1" }
    }

    var smtp: SMTP?
    /// `From:` of every message.
    var sender: String
    var outboxDirectory: URL

    /// Parses `smtp://user:pass@host:port`; user and password are percent-decoded.
    static func smtp(from url: String) throws -> SMTP {
        guard let components = URLComponents(string: url), components.scheme == "smtp",
              let host = components.host, !host.isEmpty else {
            throw ConfigurationError("SMTP_URL must look like smtp://user:pass@host:port (got a value that does not)")
        }
        let port = components.port ?? 587
        guard (1...65535).contains(port) else { throw ConfigurationError("SMTP_URL has an invalid port") }
        return SMTP(host: host, port: port, username: components.percentEncodedUser?.removingPercentEncoding,
                    password: components.percentEncodedPassword?.removingPercentEncoding)
    }
}
