import Foundation

/// What a tenant says about themselves, by the register's categories. Stored sealed with the
/// tenant's own key.
public struct RentalProfile: Codable, Sendable, Equatable {
    /// Fields an earlier version accepted and no purpose justifies: nationality (not needed to
    /// let a home, and an invitation to discriminate) and an identity-document number (the
    /// decree asks for a copy of the document, not its number). Removed from stored profiles
    /// at start (``RetiredProfileFields``).
    public static let retiredFields: Set<String> = ["nationality", "identityNumber"]

    // Identification
    public var pseudonym: String?
    public var postalAddress: String?
    public var phone: String?
    public var birthDate: String?
    // Housing search
    public var surface: Int?
    public var rent: Int?
    public var city: String?
    public var desiredDate: String?
    // Scheduled visits
    public var visits: [Visit]?
    // Personal life
    public var familySituation: FamilySituation?
    // Professional life
    public var professionalStatus: ProfessionalStatus?
    // Economic and financial
    public var monthlyIncome: Int?
    public var savings: Int?
    public var maxBudget: Int?

    public init() {}

    public struct Visit: Codable, Sendable, Equatable {
        public var date: String
        public var address: String
    }

    public enum FamilySituation: String, Codable, Sendable, CaseIterable {
        case single, couple, married, civilPartnership = "civil-partnership", divorced, widowed
    }

    public enum ProfessionalStatus: String, Codable, Sendable, CaseIterable {
        case employee, civilServant = "civil-servant", selfEmployed = "self-employed", student, apprentice,
             retired, jobSeeker = "job-seeker", other
    }

    /// The status the document catalogue's requirements are keyed by.
    public var catalogueStatus: String? { professionalStatus == .student ? "student" : nil }

    /// The register category of each field, for access and retention.
    public static let categories: [String: String] = [
        "pseudonym": "identification", "postalAddress": "identification", "phone": "identification",
        "birthDate": "identification",
        "surface": "housing-search", "rent": "housing-search", "city": "personal-life", "desiredDate": "personal-life",
        "visits": "visits", "familySituation": "personal-life", "professionalStatus": "professional-life",
        "monthlyIncome": "economic-financial", "savings": "economic-financial", "maxBudget": "economic-financial",
    ]
}

/// Applies a JSON patch object to a profile: a present value sets the field, `null` clears it,
/// an absent key leaves it. Each wrong field gets its own message; nothing applies if any is wrong.
public enum ProfilePatch {
    public static func apply(_ patch: [String: JSONValue], to profile: RentalProfile, language: Language,
                             today: Date) -> Result<RentalProfile, FieldProblems> {
        var result = profile
        var problems: [FieldProblem] = []
        let words = ProfileWording(language)
        for (key, value) in patch.sorted(by: { $0.key < $1.key }) {
            let problem = { (message: String) in problems.append(FieldProblem(field: key, message: message)) }
            switch key {
            case "pseudonym", "postalAddress", "city", "phone":
                let limits = ["pseudonym": 60, "postalAddress": 300, "city": 100, "phone": 20]
                let limit = limits[key] ?? 0
                switch text(value, maximum: limit) {
                case let .success(text):
                    if key == "phone", let text, !isPhone(text) { problem(words.phone); continue }
                    setText(&result, key, text)
                case let .failure(message): problem(words.text(message, limit))
                }
            case "birthDate", "desiredDate":
                guard case let .success(text) = Self.text(value, maximum: 10) else { problem(words.date); continue }
                guard let text else { setText(&result, key, nil); continue }
                guard let date = PublicationDate(text) else { problem(words.date); continue }
                if key == "birthDate" {
                    let years = Calendar(identifier: .gregorian).dateComponents([.year], from: date.start, to: today).year ?? 0
                    guard (16...120).contains(years) else { problem(words.birthDate); continue }
                }
                setText(&result, key, text)
            case "surface", "rent", "monthlyIncome", "savings", "maxBudget":
                let ranges = ["surface": 1...10_000, "rent": 1...100_000, "monthlyIncome": 0...10_000_000,
                              "savings": 0...1_000_000_000, "maxBudget": 1...100_000]
                let range = ranges[key] ?? 0...0
                switch value {
                case .null: setNumber(&result, key, nil)
                // `Int(exactly:)`: nil for a fraction, an infinity, NaN or anything beyond Int,
                // where `Int(_:)` would stop the process.
                case let .number(number):
                    guard let whole = Int(exactly: number), range.contains(whole) else { problem(words.number(range)); continue }
                    setNumber(&result, key, whole)
                default: problem(words.number(range))
                }
            case "familySituation":
                if value == .null { result.familySituation = nil; continue }
                guard case let .string(raw) = value, let situation = RentalProfile.FamilySituation(rawValue: raw) else {
                    problem(words.oneOf(RentalProfile.FamilySituation.allCases.map(\.rawValue))); continue
                }
                result.familySituation = situation
            case "professionalStatus":
                if value == .null { result.professionalStatus = nil; continue }
                guard case let .string(raw) = value, let status = RentalProfile.ProfessionalStatus(rawValue: raw) else {
                    problem(words.oneOf(RentalProfile.ProfessionalStatus.allCases.map(\.rawValue))); continue
                }
                result.professionalStatus = status
            case "visits":
                if value == .null { result.visits = nil; continue }
                guard case let .array(items) = value, items.count <= 50 else { problem(words.visits); continue }
                var visits: [RentalProfile.Visit] = []
                for item in items {
                    guard case let .string(date)? = item["date"], PublicationDate(date) != nil,
                          case let .string(address)? = item["address"], !address.isEmpty, address.count <= 300 else {
                        problem(words.visits); break
                    }
                    visits.append(.init(date: date, address: address))
                }
                if visits.count == items.count { result.visits = visits }
            default:
                problem(words.unknownField)
            }
        }
        return problems.isEmpty ? .success(result) : .failure(FieldProblems(problems: problems))
    }

    static func text(_ value: JSONValue, maximum: Int) -> Result<String?, ProfileWording.TextProblem> {
        switch value {
        case .null: return .success(nil)
        case let .string(text):
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { return .success(nil) }
            if trimmed.count > maximum { return .failure(.tooLong) }
            if trimmed.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) && $0 != "\n" }) {
                return .failure(.invalid)
            }
            return .success(trimmed)
        default: return .failure(.notText)
        }
    }

    static func isPhone(_ text: String) -> Bool {
        let digits = text.filter(\.isNumber)
        return (6...15).contains(digits.count) && text.allSatisfy { $0.isNumber || " +-.()".contains($0) }
    }

    static func setText(_ profile: inout RentalProfile, _ key: String, _ value: String?) {
        switch key {
        case "pseudonym": profile.pseudonym = value
        case "postalAddress": profile.postalAddress = value
        case "city": profile.city = value
        case "phone": profile.phone = value
        case "birthDate": profile.birthDate = value
        case "desiredDate": profile.desiredDate = value
        default: break
        }
    }

    static func setNumber(_ profile: inout RentalProfile, _ key: String, _ value: Int?) {
        switch key {
        case "surface": profile.surface = value
        case "rent": profile.rent = value
        case "monthlyIncome": profile.monthlyIncome = value
        case "savings": profile.savings = value
        case "maxBudget": profile.maxBudget = value
        default: break
        }
    }
}

/// Several wrong fields at once.
public struct FieldProblems: Error, Sendable, Equatable {
    public var problems: [FieldProblem]
}

extension PublicationDate {
    /// Midnight UTC of the day.
    public var start: Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: DateComponents(year: year, month: month, day: day))!
    }
}

/// The words of profile validation, in each language.
public struct ProfileWording: Sendable {
    public let language: Language
    public init(_ language: Language) { self.language = language }
    private func pick(_ fr: String, _ en: String) -> String { language == .fr ? fr : en }

    public enum TextProblem: Error { case tooLong, invalid, notText }

    func text(_ problem: TextProblem, _ maximum: Int) -> String {
        switch problem {
        case .tooLong: pick("\(maximum) caractères au plus.", "At most \(maximum) characters.")
        case .invalid: pick("Caractères non autorisés.", "Characters not allowed.")
        case .notText: pick("Un texte est attendu.", "Text expected.")
        }
    }
    var date: String { pick("Date attendue au format AAAA-MM-JJ.", "Date expected as YYYY-MM-DD.") }
    var birthDate: String { pick("Date de naissance invraisemblable.", "Implausible date of birth.") }
    var phone: String { pick("Numéro de téléphone invalide.", "Not a valid phone number.") }
    var visits: String { pick("Liste de visites attendue : [{date: AAAA-MM-JJ, address: …}].", "Expected a list of visits: [{date: YYYY-MM-DD, address: …}].") }
    var unknownField: String { pick("Champ inconnu.", "Unknown field.") }
    func number(_ range: ClosedRange<Int>) -> String {
        pick("Nombre entier entre \(range.lowerBound) et \(range.upperBound) attendu.", "Whole number between \(range.lowerBound) and \(range.upperBound) expected.")
    }
    func oneOf(_ values: [String]) -> String {
        pick("Valeur attendue parmi : \(values.joined(separator: ", ")).", "Expected one of: \(values.joined(separator: ", ")).")
    }
}
