import Foundation

/// The register as JSON, the same bytes for the API and the CLI.
public enum RegisterJSON {
    public static func encode(_ register: Register) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(register)
    }
}
