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

        /// `?tls=optional` on `SMTP_URL`: deliver in clear to a relay without STARTTLS.
        var allowsPlaintext = false

        var isLoopback: Bool { host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]" }
        /// For tests: hold a relay on loopback to the rules of a remote one.
        var treatsLoopbackAsRemote = false
        /// Whether a relay without STARTTLS is refused.
        var requiresTLS: Bool { (!isLoopback || treatsLoopbackAsRemote) && !allowsPlaintext }
    }

    var smtp: SMTP?
    /// `From:` of every message.
    var sender: String
    var outboxDirectory: URL

    /// Parses `smtp://user:pass@host:port`; user and password are percent-decoded.
    static func smtp(from url: String) throws -> SMTP {
        if let problem = SecretURL.ambiguity(in: url, variable: "SMTP_URL") { throw ConfigurationError(problem) }
        guard let components = URLComponents(string: url), components.scheme == "smtp",
              let host = components.host, !host.isEmpty else {
            throw ConfigurationError("SMTP_URL must look like smtp://user:pass@host:port (got a value that does not)")
        }
        let port = components.port ?? 587
        guard (1...65535).contains(port) else { throw ConfigurationError("SMTP_URL has an invalid port") }
        var smtp = SMTP(host: host, port: port, username: components.percentEncodedUser?.removingPercentEncoding,
                        password: components.percentEncodedPassword?.removingPercentEncoding)
        for item in components.queryItems ?? [] {
            switch (item.name, item.value) {
            case ("tls", "optional"): smtp.allowsPlaintext = true
            case ("tls", "required"): smtp.allowsPlaintext = false
            // Not quoted: a malformed URL's password could be read as an option.
            default: throw ConfigurationError("SMTP_URL: an unknown option (only ?tls=required or ?tls=optional)")
            }
        }
        return smtp
    }
}
