import Crypto
import Foundation

/// Encryption at rest. Each data subject has a data key of their own (AES-256-GCM); it is kept
/// only wrapped by the master key. Destroying a subject's wrapped key makes every copy of their
/// encrypted data unreadable, backups included (crypto-shredding).
public enum Vault {
    /// The first byte of everything sealed here, so the format can evolve.
    static let formatVersion: UInt8 = 1

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// A new random data key for a subject.
    public static func newDataKey() -> SymmetricKey {
        SymmetricKey(size: .bits256)
    }

    /// Parses a base64 256-bit master key (`DOSSIER_MASTER_KEY`).
    public static func masterKey(base64 text: String) throws -> SymmetricKey {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
            throw Failure(description: "the master key must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)")
        }
        return SymmetricKey(data: data)
    }

    /// A key for one use (`audit-chain`, `key-check`…) derived from the master key with HKDF, so
    /// that the master key itself only ever wraps subject keys.
    public static func derivedKey(from masterKey: SymmetricKey, for purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: masterKey, info: Data("dossier:\(purpose)".utf8), outputByteCount: 32)
    }

    /// A subject's data key sealed by the master key; the subject id is authenticated with it,
    /// so a wrapped key cannot be swapped onto another subject.
    public static func wrap(_ dataKey: SymmetricKey, for subject: String, with masterKey: SymmetricKey) throws -> Data {
        let raw = dataKey.withUnsafeBytes { Data($0) }
        return try seal(raw, with: masterKey, context: "subject-key:\(subject)")
    }

    public static func unwrap(_ wrapped: Data, for subject: String, with masterKey: SymmetricKey) throws -> SymmetricKey {
        SymmetricKey(data: try open(wrapped, with: masterKey, context: "subject-key:\(subject)"))
    }

    /// version ‖ nonce ‖ ciphertext ‖ tag. `context` (what the bytes are, whose) is authenticated
    /// but not stored: opening under another context fails.
    public static func seal(_ plaintext: Data, with key: SymmetricKey, context: String) throws -> Data {
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw Failure(description: "sealing failed") }
        return Data([formatVersion]) + combined
    }

    public static func open(_ sealed: Data, with key: SymmetricKey, context: String) throws -> Data {
        guard sealed.first == formatVersion, sealed.count > 1 + 12 + 16 else {
            throw Failure(description: "not data sealed by this vault")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.dropFirst())
            return try AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
        } catch {
            throw Failure(description: "the data cannot be decrypted: wrong key, wrong context or altered bytes")
        }
    }
}
