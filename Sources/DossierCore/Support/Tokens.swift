import Crypto
import Foundation

/// Random secrets handed to people (session, verification and reset tokens), stored only as hashes.
public enum SecretToken {
    /// 256 random bits, base64url without padding.
    public static func generate() -> String {
        let key = SymmetricKey(size: .bits256)
        return key.withUnsafeBytes { Data($0) }.base64URLEncoded()
    }

    /// What the database keeps: SHA-256, hex.
    public static func hash(_ token: String) -> String {
        Digest.sha256Hex(Data(token.utf8))
    }
}

extension Data {
    public func base64URLEncoded() -> String {
        base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
