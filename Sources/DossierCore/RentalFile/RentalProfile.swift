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

/// What each profile field accepts. ``ProfilePatch`` validates with it and the API document's
/// schema of a profile is built from it, so the two say the same thing.
public enum ProfileFieldRule: Sendable {
    /// Text of at most `maximum` Unicode scalars (``TextRules``); empty or `null` clears it.
    case text(maximum: Int, multiline: Bool)
    /// 6 to 15 digits, with spaces, `+`, `-`, `.` and parentheses.
    case phone
    /// YYYY-MM-DD; for a birth date, someone aged 16 to 120 today.
    case date(birthDate: Bool)
    /// A whole number in the range.
    case number(ClosedRange<Int>)
    /// One of the values.
    case choice([String])
    /// Up to ``ProfilePatch/maximumVisits`` visits, each a date and an address.
    case visits
}

/// Applies a JSON patch object to a profile: a present value sets the field, `null` clears it,
/// an absent key leaves it. Each wrong field gets its own message; nothing applies if any is wrong.
public enum ProfilePatch {
    public static let maximumVisits = 50
    public static let maximumVisitAddress = 300

    /// Every field a tenant may set, and what it accepts.
    public static let fields: [(name: String, rule: ProfileFieldRule)] = [
        ("pseudonym", .text(maximum: 60, multiline: false)),
        ("postalAddress", .text(maximum: 300, multiline: true)),
        ("phone", .phone),
        ("birthDate", .date(birthDate: true)),
        ("surface", .number(1...10_000)),
        ("rent", .number(1...100_000)),
        ("city", .text(maximum: 100, multiline: false)),
        ("desiredDate", .date(birthDate: false)),
        ("visits", .visits),
        ("familySituation", .choice(RentalProfile.FamilySituation.allCases.map(\.rawValue))),
        ("professionalStatus", .choice(RentalProfile.ProfessionalStatus.allCases.map(\.rawValue))),
        ("monthlyIncome", .number(0...10_000_000)),
        ("savings", .number(0...1_000_000_000)),
        ("maxBudget", .number(1...100_000)),
    ]

    static let rules = Dictionary(uniqueKeysWithValues: fields.map { ($0.name, $0.rule) })

    public static func apply(_ patch: [String: JSONValue], to profile: RentalProfile, language: Language,
                             today: Date) -> Result<RentalProfile, FieldProblems> {
        var result = profile
        var problems: [FieldProblem] = []
        let words = ProfileWording(language)
        for (key, value) in patch.sorted(by: { $0.key < $1.key }) {
            let problem = { (message: String) in problems.append(FieldProblem(field: key, message: message)) }
            guard let rule = rules[key] else { problem(words.unknownField); continue }
            switch rule {
            case let .text(limit, multiline):
                switch text(value, maximum: limit, multiline: multiline) {
                case let .success(text): setText(&result, key, text)
                case let .failure(message): problem(words.text(message, limit))
                }
            case .phone:
                if value == .null { setText(&result, key, nil); continue }
                guard case let .string(raw) = value else { problem(words.phone); continue }
                do { setText(&result, key, try phone(raw)) } catch { problem(words.phone) }
            case let .date(isBirthDate):
                // `null` or an empty text clears it (a form's empty date field sends "").
                if value == .null || value == .string("") { setText(&result, key, nil); continue }
                guard case let .string(text) = value, let date = PublicationDate(text) else { problem(words.date); continue }
                if isBirthDate, !Self.isPlausibleBirthDate(date, today: today) { problem(words.birthDate); continue }
                setText(&result, key, text)
            case let .number(range):
                switch value {
                case .null: setNumber(&result, key, nil)
                // `Int(exactly:)`: nil for a fraction, an infinity, NaN or anything beyond Int,
                // where `Int(_:)` would stop the process.
                case let .number(number):
                    guard let whole = Int(exactly: number), range.contains(whole) else { problem(words.number(range)); continue }
                    setNumber(&result, key, whole)
                default: problem(words.number(range))
                }
            case let .choice(values):
                if value == .null { setChoice(&result, key, nil); continue }
                guard case let .string(raw) = value, values.contains(raw) else { problem(words.oneOf(values)); continue }
                setChoice(&result, key, raw)
            case .visits:
                if value == .null { result.visits = nil; continue }
                guard case let .array(items) = value, items.count <= maximumVisits else { problem(words.visits); continue }
                var visits: [RentalProfile.Visit] = []
                for item in items {
                    guard case let .object(fields) = item, Set(fields.keys) == ["date", "address"],
                          case let .string(date)? = fields["date"], PublicationDate(date) != nil,
                          case let .string(address)? = fields["address"], !TextRules.isBlank(address),
                          TextRules.length(address) <= maximumVisitAddress, !TextRules.hasForbidden(address, multiline: true)
                    else {
                        problem(words.visits); break
                    }
                    visits.append(.init(date: date, address: address))
                }
                if visits.count == items.count { result.visits = visits }
            }
        }
        return problems.isEmpty ? .success(result) : .failure(FieldProblems(problems: problems))
    }

    /// Someone aged 16 to 120 on `today`.
    public static let birthAges = 16...120

    /// Age in whole years on `today` (UTC), by the calendar.
    static func isPlausibleBirthDate(_ date: PublicationDate, today: Date) -> Bool {
        let calendar = Calendar.utcGregorian
        let now = calendar.dateComponents([.year, .month, .day], from: today)
        guard let year = now.year, let month = now.month, let day = now.day else { return false }
        let age = year - date.year - ((month, day) < (date.month, date.day) ? 1 : 0)
        return birthAges.contains(age)
    }

    /// The birth dates plausible on any day of `today`'s year, as a regular expression: born
    /// in the years that make the person 17 to 120 this year (16 to 119 before the birthday),
    /// on days of the calendar (29 February in leap years only). Every date it matches is one
    /// ``apply(_:to:language:today:)`` accepts; it leaves out only the two boundary years,
    /// whose dates depend on today's (the API document's schema of a birth date).
    public static func birthDatePattern(today: Date) -> String {
        let calendar = Calendar.utcGregorian
        let year = calendar.component(.year, from: today)
        let years = Array((year - birthAges.upperBound)...(year - birthAges.lowerBound - 1))
        let text = { (years: [Int]) in years.map { String(format: "%04d", $0) }.joined(separator: "|") }
        let days = "(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31"
        return "^(?:(?:\(text(years)))-(?:\(days))|(?:\(text(years.filter(PublicationDate.isLeap))))-02-29)$"
    }

    /// A text field's value: `null` or blank clears it; otherwise trimmed, once checked whole
    /// (length and characters first, as the API document's schema checks them).
    static func text(_ value: JSONValue, maximum: Int, multiline: Bool) -> Result<String?, ProfileWording.TextProblem> {
        switch value {
        case .null: return .success(nil)
        case let .string(text):
            if TextRules.length(text) > maximum { return .failure(.tooLong) }
            if TextRules.hasForbidden(text, multiline: multiline) { return .failure(.invalid) }
            if TextRules.isBlank(text) { return .success(nil) }
            return .success(text.trimmingCharacters(in: .whitespacesAndNewlines))
        default: return .failure(.notText)
        }
    }

    public struct InvalidPhone: Error {}

    /// A phone number as typed (a profile's or a guarantor's): the trimmed number, or nil when
    /// it is only white space (none). Throws unless it has at most ``maximumPhoneLength``
    /// characters, none forbidden, and is a number. Joiners are no white space here (nor digits).
    public static func phone(_ raw: String) throws(InvalidPhone) -> String? {
        guard TextRules.length(raw) <= maximumPhoneLength, !TextRules.hasForbidden(raw) else { throw InvalidPhone() }
        let phone = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if phone.isEmpty { return nil }
        guard isPhone(phone) else { throw InvalidPhone() }
        return phone
    }

    public static let maximumPhoneLength = 20

    static func isPhone(_ text: String) -> Bool {
        let digits = text.unicodeScalars.filter { ("0"..."9").contains($0) }
        return (6...15).contains(digits.count) && text.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || " +-.()".unicodeScalars.contains($0) }
    }

    /// ``isPhone(_:)`` as a regular expression (white space around is trimmed first).
    public static let phonePattern = "^\(TextRules.spacePattern)[ +.()-]*(?:[0-9][ +.()-]*){6,15}\(TextRules.spacePattern)$"

    static func setChoice(_ profile: inout RentalProfile, _ key: String, _ raw: String?) {
        switch key {
        case "familySituation": profile.familySituation = raw.flatMap(RentalProfile.FamilySituation.init(rawValue:))
        case "professionalStatus": profile.professionalStatus = raw.flatMap(RentalProfile.ProfessionalStatus.init(rawValue:))
        default: break
        }
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
        let calendar = Calendar.utcGregorian
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
    public var unknownField: String { pick("Champ inconnu.", "Unknown field.") }
    func number(_ range: ClosedRange<Int>) -> String {
        pick("Nombre entier entre \(range.lowerBound) et \(range.upperBound) attendu.", "Whole number between \(range.lowerBound) and \(range.upperBound) expected.")
    }
    func oneOf(_ values: [String]) -> String {
        pick("Valeur attendue parmi : \(values.joined(separator: ", ")).", "Expected one of: \(values.joined(separator: ", ")).")
    }
}
