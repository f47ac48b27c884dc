import Foundation

/// A field of a form that is wrong, and why, in the person's language.
public struct FieldProblem: Codable, Sendable, Hashable {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// What a new account must satisfy: mandatory fields (from the register's identification
/// category), a well-formed email and a password that passes the policy.
public struct SignUpRules: Sendable {
    public var passwords = PasswordPolicy()
    /// The identification fields the register marks mandatory, e.g. lastName, firstName, email.
    public var mandatoryFields: Set<String>
    public static let maximumNameLength = 100

    /// Whether the field must be filled: the address always, names when the register says so.
    public func isRequired(_ field: String) -> Bool {
        field == "email" || mandatoryFields.contains(field)
    }

    public init(register: Register) {
        mandatoryFields = Set(register.category("identification")?.mandatoryFields.map(\.id) ?? ["email"])
    }

    public struct Form: Sendable {
        public var email: String
        public var password: String
        public var firstName: String
        public var lastName: String

        public init(email: String, password: String, firstName: String, lastName: String) {
            self.email = email
            self.password = password
            self.firstName = firstName
            self.lastName = lastName
        }
    }

    /// The password policy's findings, as messages on the `password` field.
    public static func passwordProblems(_ password: String, email: String, names: [String],
                                        policy: PasswordPolicy = PasswordPolicy(), language: Language) -> [FieldProblem] {
        policy.problems(password, email: email, names: names)
            .map { FieldProblem(field: "password", message: AccountWording(language).password($0, policy: policy)) }
    }

    public func problems(in form: Form, language: Language) -> [FieldProblem] {
        let words = AccountWording(language)
        var problems: [FieldProblem] = []
        let values = ["email": form.email, "firstName": form.firstName, "lastName": form.lastName]
        for field in ["email", "firstName", "lastName"] {
            let value = values[field]!
            let limit = field == "email" ? EmailAddress.maximumLength : Self.maximumNameLength
            // Characters and length first, as the API document's schema checks them.
            if field != "email", TextRules.hasForbidden(value) {
                problems.append(FieldProblem(field: field, message: words.invalidCharacters))
            } else if TextRules.length(value) > limit {
                problems.append(FieldProblem(field: field, message: words.tooLong(limit)))
            } else if TextRules.isBlank(value), isRequired(field) {
                problems.append(FieldProblem(field: field, message: words.required))
            }
        }
        if !form.email.trimmingCharacters(in: .whitespaces).isEmpty, EmailAddress(form.email) == nil {
            problems.append(FieldProblem(field: "email", message: words.invalidEmail))
        }
        problems += Self.passwordProblems(form.password, email: form.email, names: [form.firstName, form.lastName],
                                          policy: passwords, language: language)
        return problems
    }
}

/// An email address, normalised: trimmed, domain lower-cased. Local parts are kept as typed
/// but compared case-insensitively, as every mail system people use does.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    /// RFC 5321's limit on a path, 254 once the angle brackets are off.
    public static let maximumLength = 254

    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, TextRules.length(text) <= Self.maximumLength else { return nil }
        let local = parts[0], domain = parts[1]
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        let localAllowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "!#$%&'*+/=?^_`{|}~.-"))
        let domainAllowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-"))
        guard !local.isEmpty, local.count <= 64, !local.hasPrefix("."), !local.hasSuffix("."), !local.contains(".."),
              local.unicodeScalars.allSatisfy({ localAllowed.contains($0) && $0.isASCII }),
              labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && !$0.hasPrefix("-") && !$0.hasSuffix("-") }),
              domain.unicodeScalars.allSatisfy({ (domainAllowed.contains($0) || $0 == ".") && $0.isASCII })
        else { return nil }
        value = "\(local)@\(domain.lowercased())"
    }

    /// What ``init(_:)`` accepts, as a regular expression for the API document, white space
    /// around included (it is trimmed). The local part's 64-character limit would take a
    /// lookahead, which test generators handle badly, so the pattern takes a part of what the
    /// server takes: a local part of one atom of up to 64 characters, or of two to four
    /// dot-separated atoms of 16 and 15 characters at most (64 in all).
    public static let pattern: String = {
        let space = TextRules.trimmedPattern
        let atom = #"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"#
        let label = #"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"#
        let local = "(?:\(atom){1,64}|\(atom){1,16}(?:\\.\(atom){1,15}){1,3})"
        return "^\(space)\(local)@\(label)(?:\\.\(label))+\(space)$"
    }()

    /// The key accounts are unique on.
    public var canonical: String { value.lowercased() }
    public var description: String { value }
}
