import Foundation

/// URLs that carry credentials (`DATABASE_URL`, `DOSSIER_KEYS_URL`, `SMTP_URL`…): shown with
/// them masked, and refused when their credentials cannot be told apart from the rest.
enum SecretURL {
    /// The mask shown in place of a secret.
    static let mask = "********"

    /// `text` with its user information masked (the user name kept only when `showsUser`, as
    /// for a database, whose user is no secret) and any secret-looking query value masked.
    /// Works on the text itself, not on a parser's reading of it: a password holding `/`, `?`
    /// or `#` unencoded, which a parser takes for the end of the host, is masked too.
    static func masked(_ text: String, showsUser: Bool) -> String {
        guard let separator = text.range(of: "://"), let scheme = scheme(of: text), scheme.endIndex == separator.lowerBound else { return mask }
        var rest = Substring(text[separator.upperBound...])
        var shown = String(scheme) + "://"
        // Everything up to the last `@` is user information (over-masking is safe).
        if let at = rest.lastIndex(of: "@") {
            let information = rest[..<at]
            let user = information.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            shown += showsUser && information.contains(":") && !user.isEmpty ? user + ":" + mask : mask
            shown += "@"
            rest = rest[rest.index(after: at)...]
        } else {
            // No `@`: `user:password` with the host forgotten reads as `host:port`. Anything
            // after a colon that is not a port is masked, with what comes before it.
            let end = rest.firstIndex { "/?#".contains($0) } ?? rest.endIndex
            if let colon = rest[..<end].lastIndex(of: ":"), !rest[rest.index(after: colon)..<end].allSatisfy(\.isNumber) {
                shown += mask
                rest = rest[end...]
            }
        }
        guard let question = rest.firstIndex(of: "?") else { return shown + rest }
        shown += rest[..<question] + "?"
        let items = rest[rest.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { item -> String in
            let name = item.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            let secret = ["password", "pass", "pwd", "secret", "token", "key", "signature", "credential", "auth"]
                .contains { name.lowercased().contains($0) }
            return secret ? name + "=" + mask : String(item)
        }
        return shown + items.joined(separator: "&")
    }

    /// The scheme `text` begins with (`s3` in `s3:bucket`, `postgres` in `postgres://…`, empty in
    /// `:x`): the letters, digits, `+`, `-` or `.` before its first colon; nil when anything
    /// else comes first (a path, `/srv/a:b`) or there is no colon.
    static func scheme(of text: String) -> Substring? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let scheme = text[..<colon]
        return scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) ? scheme : nil
    }

    /// Why `text` (the value of `variable`) is ambiguous: an `@` after the end of what a parser
    /// reads as its host, which a password with an unencoded `/`, `?` or `#` makes.
    static func ambiguity(in text: String, variable: String) -> String? {
        guard let separator = text.range(of: "://") else { return nil }
        let rest = text[separator.upperBound...]
        guard let end = rest.firstIndex(where: { "/?#".contains($0) }) else { return nil }
        if !rest[..<end].contains("@"), rest[end...].contains("@") {
            return "\(variable): percent-encode '/', '?', '#' and '@' in the user name and password (e.g. %2F for '/'); as written, part of the password would be read as the host"
        }
        return nil
    }
}
