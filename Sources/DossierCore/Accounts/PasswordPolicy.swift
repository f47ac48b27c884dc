/// What a password must be: long enough to resist guessing, not one of the most common, not
/// the person's own name or address. Length over composition rules (NIST SP 800-63B, CNIL 2022).
public struct PasswordPolicy: Sendable {
    public var minimumLength = 12
    public var maximumLength = 128

    public init() {}

    public enum Problem: Sendable, Hashable {
        case tooShort, tooLong, common, containsPersonalData, repetitive
    }

    public func problems(_ password: String, email: String, names: [String]) -> [Problem] {
        var found: [Problem] = []
        if password.count < minimumLength { found.append(.tooShort) }
        // Scalars, as the API document's maxLength counts: never over what a schema-valid body holds.
        if password.unicodeScalars.count > maximumLength { found.append(.tooLong) }
        let lowered = password.lowercased()
        // A common password dressed up with a few characters is still a common password.
        let remainder = Self.common.reduce(lowered) { $0.replacingOccurrences(of: $1, with: "") }
        if !password.isEmpty && remainder.count < 6 { found.append(.common) }
        let personal = ([email.split(separator: "@").first.map(String.init) ?? ""] + names)
            .map { $0.lowercased().trimmingCharacters(in: .whitespaces) }
            .filter { $0.count >= 4 }
        if personal.contains(where: { lowered.contains($0) }) { found.append(.containsPersonalData) }
        if !password.isEmpty && Set(password).count <= 3 { found.append(.repetitive) }
        return found
    }

    /// Fragments of the most used passwords.
    static let common: [String] = [
        "password", "motdepasse", "123456", "azerty", "qwerty", "letmein", "welcome", "bienvenue",
        "iloveyou", "admin", "dragon", "monkey", "soleil", "doudou", "loulou", "chouchou", "football",
    ]
}
