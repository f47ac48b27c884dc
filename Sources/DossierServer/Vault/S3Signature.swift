import Crypto
import Foundation

/// AWS Signature Version 4 for S3 requests (the "Authorization" header form), as every
/// S3-compatible store checks it: a canonical form of the request, hashed, signed with a key
/// derived from the secret, the day, the region and the service.
/// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
struct S3Signature: Sendable {
    struct Credentials: Sendable, CustomStringConvertible, CustomReflectable {
        var accessKeyID: String
        var secretAccessKey: String
        /// `AWS_SESSION_TOKEN`, for temporary credentials (read once, at start).
        var sessionToken: String?

        /// Never the secret, whatever prints it.
        var description: String { "credentials of \(accessKeyID)" }
        var customMirror: Mirror { Mirror(self, children: ["accessKeyID": accessKeyID]) }
    }

    let credentials: Credentials
    let region: String
    var service = "s3"

    /// The hash of an empty body, and what the header says for a body sent unhashed.
    static let emptyPayloadHash = hex(SHA256.hash(data: Data()))

    /// The headers to send with the request, `Authorization` among them. `headers` are the
    /// request's own (content type, range...), all signed; `host` includes a port that is not
    /// the scheme's default, as it is sent.
    func signedHeaders(method: String, host: String, path: String, query: [(String, String)] = [], headers: [(String, String)] = [],
                       payloadHash: String, at date: Date) -> [(String, String)] {
        let (stamp, day) = Self.timestamps(date)
        var all: [(String, String)] = headers.map { ($0.0.lowercased(), $0.1.trimmingCharacters(in: .whitespaces)) }
        all.append(("host", host))
        all.append(("x-amz-content-sha256", payloadHash))
        all.append(("x-amz-date", stamp))
        if let token = credentials.sessionToken { all.append(("x-amz-security-token", token)) }
        all.sort { $0.0 < $1.0 }
        let signedNames = all.map(\.0).joined(separator: ";")
        let encoded: [(name: String, value: String)] = query.map { pair in (Self.encode(pair.0, slash: true), Self.encode(pair.1, slash: true)) }
        let ordered = encoded.sorted { left, right in left.name == right.name ? left.value < right.value : left.name < right.name }
        let canonicalQuery = ordered.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
        let canonicalRequest = [
            method,
            Self.encode(path, slash: false),
            canonicalQuery,
            all.map { "\($0.0):\($0.1)\n" }.joined(),
            signedNames,
            payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", stamp, scope, Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8)))].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
        var result = all.filter { $0.0 != "host" }
        result.append(("authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedNames), Signature=\(signature)"))
        return result
    }

    /// `20130524T000000Z` and `20130524`, in UTC.
    static func timestamps(_ date: Date) -> (stamp: String, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { let text = String(value ?? 0); return text.count < 2 ? "0" + text : text }
        let day = String(format: "%04d", parts.year ?? 0) + two(parts.month) + two(parts.day)
        return (day + "T" + two(parts.hour) + two(parts.minute) + two(parts.second) + "Z", day)
    }

    /// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters kept, `/` kept in a
    /// path (`slash: false`) and encoded in the query.
    static func encode(_ text: String, slash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            case UInt8(ascii: "/") where !slash:
                out.append("/")
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
