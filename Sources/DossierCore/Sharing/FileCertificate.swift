import Foundation

/// A file certificate: verified facts about a tenant's file rather than its documents, with a
/// short code anyone can check at `/verify/{code}`. What it states is computed here from plain
/// values (the server gathers them); the check says only whether it is genuine, current,
/// outdated (the file changed since), expired or revoked: nothing about the tenant.
public struct CertificateFacts: Codable, Sendable, Equatable {
    public struct Person: Codable, Sendable, Equatable {
        /// "tenant", "partner", "guarantor".
        public var role: String
        /// The catalogue's ids of the documents our staff validated.
        public var validatedDocuments: [String]

        public init(role: String, validatedDocuments: [String]) {
            self.role = role
            self.validatedDocuments = validatedDocuments.sorted()
        }
    }

    public var tenant: String
    /// Net monthly income of the household (the tenant and an approved couple partner), euros, as declared.
    public var householdIncome: Int?
    /// Whether a proof of income of someone in the household was validated by our staff.
    public var incomeProofValidated: Bool
    /// The rent the certificate was asked for, euros a month.
    public var rent: Int?
    public var people: [Person]
    /// The kinds of the tenant's guarantors ("guarantor", "company", "organisation").
    public var guarantors: [String]

    public init(tenant: String, householdIncome: Int?, incomeProofValidated: Bool, rent: Int?, people: [Person], guarantors: [String]) {
        self.tenant = tenant
        self.householdIncome = householdIncome
        self.incomeProofValidated = incomeProofValidated
        self.rent = rent
        self.people = people
        self.guarantors = guarantors.sorted()
    }

    /// Income over rent, to two decimals (3.21 means 3.21 times the rent); nil without both.
    public var ratio: Double? {
        guard let householdIncome, let rent, rent > 0 else { return nil }
        return (Double(householdIncome) / Double(rent) * 100).rounded() / 100
    }

    /// What "current" compares: the facts, canonically encoded.
    public var digest: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Digest.sha256Hex((try? encoder.encode(self)) ?? Data())
    }

    /// The rent a certificate may be asked for: 1 € to 100 000 € a month.
    public static let rentRange = 1...100_000
}

/// A certificate's verification code: 12 characters of Crockford's base 32 (60 random bits),
/// shown in three groups ("7K2M-9QXD-4HTB"); read back whatever the case, with or without the
/// dashes, O read as 0 and I or L as 1. Only its hash is stored.
public enum CertificateCode {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<12).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] }
        return stride(from: 0, to: 12, by: 4).map { String(characters[$0..<$0 + 4]) }.joined(separator: "-")
    }

    /// The code in canonical form (12 characters, no dashes), or nil when it cannot be one.
    public static func normalized(_ text: String) -> String? {
        guard text.utf8.count <= 40 else { return nil }
        var out = ""
        for character in text.uppercased() {
            switch character {
            case "-", " ": continue
            case "O": out.append("0")
            case "I", "L": out.append("1")
            default:
                guard alphabet.contains(character) else { return nil }
                out.append(character)
            }
        }
        return out.count == 12 ? out : nil
    }

    public static func hash(_ normalized: String) -> String {
        Digest.sha256Hex(Data("file-certificate:\(normalized)".utf8))
    }
}

/// What `/verify/{code}` says of a genuine certificate.
public enum CertificateStatus: String, Codable, Sendable, CaseIterable {
    /// Genuine, and the file still says what it states.
    case current
    /// Genuine, but the file changed since it was issued: ask the tenant for a new one.
    case outdated
    case expired
    case revoked

    public static func of(revokedAt: Date?, expiresAt: Date, issuedDigest: String, currentDigest: String?, now: Date) -> CertificateStatus {
        if revokedAt != nil { return .revoked }
        if now >= expiresAt { return .expired }
        return currentDigest == issuedDigest ? .current : .outdated
    }

    /// A certificate lasts 3 months: facts about income age.
    public static let validity = RetentionPeriod(3, .month)
}

/// The certificate's text, in the tenant's language.
public struct CertificateWording: Sendable {
    public let language: Language
    public init(_ language: Language) { self.language = language }
    private var fr: Bool { language == .fr }

    public func title(_ tenant: String) -> String { fr ? "Attestation de dossier de location — \(tenant)" : "Rental file certificate — \(tenant)" }

    /// The lines under the title; `names` gives a document type's name.
    public func lines(_ facts: CertificateFacts, code: String, issued: String, expires: String, names: (String) -> String) -> [String] {
        var lines: [String] = []
        lines.append(fr ? "Délivrée le \(issued) par Dossier, valable jusqu'au \(expires)." : "Issued on \(issued) by Dossier, valid until \(expires).")
        lines.append(fr ? "Code de vérification : \(code)" : "Verification code: \(code)")
        lines.append("")
        if let income = facts.householdIncome {
            lines.append(fr ? "Revenus nets mensuels du foyer, déclarés : \(Self.euros(income))" : "Household net monthly income, as declared: \(Self.euros(income))")
        } else {
            lines.append(fr ? "Revenus du foyer : non renseignés" : "Household income: not given")
        }
        lines.append(facts.incomeProofValidated
            ? (fr ? "Un justificatif de revenus a été vérifié par notre équipe." : "A proof of income was checked by our staff.")
            : (fr ? "Aucun justificatif de revenus n'a encore été vérifié par notre équipe." : "No proof of income has been checked by our staff yet."))
        if let rent = facts.rent {
            lines.append(fr ? "Loyer envisagé : \(Self.euros(rent)) par mois" : "Rent considered: \(Self.euros(rent)) a month")
            if let ratio = facts.ratio {
                let number = String(format: "%.2f", ratio)
                lines.append(fr ? "Revenus du foyer : \(number.replacingOccurrences(of: ".", with: ",")) fois le loyer" : "Household income: \(number) times the rent")
            }
        }
        lines.append("")
        for person in facts.people {
            let who = switch (person.role, fr) {
            case ("tenant", true): "Locataire"
            case ("tenant", false): "Tenant"
            case ("partner", true): "Conjoint ou partenaire"
            case ("partner", false): "Partner"
            case (_, true): "Garant"
            case (_, false): "Guarantor"
            }
            let list = person.validatedDocuments.map(names).joined(separator: " ; ")
            lines.append(fr ? "\(who) — pièces vérifiées par notre équipe : \(list.isEmpty ? "aucune" : list)"
                : "\(who) — documents checked by our staff: \(list.isEmpty ? "none" : list)")
        }
        lines.append(facts.guarantors.isEmpty
            ? (fr ? "Garant : aucun" : "Guarantor: none")
            : (fr ? "Garants : \(facts.guarantors.count) (\(facts.guarantors.map(kind).joined(separator: ", ")))"
                : "Guarantors: \(facts.guarantors.count) (\(facts.guarantors.map(kind).joined(separator: ", ")))"))
        lines.append("")
        lines.append(fr ? "Cette attestation ne contient aucune pièce justificative. Les revenus sont ceux que le locataire a déclarés."
            : "This certificate holds no supporting document. The income is what the tenant declared.")
        return lines
    }

    /// What a verifier may compare with the document they hold: the facts, without the code and
    /// the dates (shown apart) and without the tenant's name.
    public func statedFacts(_ facts: CertificateFacts, names: (String) -> String) -> [String] {
        var anonymous = facts
        anonymous.tenant = ""
        return lines(anonymous, code: "", issued: "", expires: "", names: names).dropFirst(3).filter { !$0.isEmpty }
    }

    private func kind(_ raw: String) -> String {
        switch (raw, fr) {
        case ("company", true): "personne morale"
        case ("company", false): "company"
        case ("organisation", true): "organisme"
        case ("organisation", false): "organisation"
        case (_, true): "personne physique"
        case (_, false): "person"
        }
    }

    public func verifyCaption(_ url: String) -> String {
        fr ? "Vérifiez cette attestation : \(url)" : "Check this certificate: \(url)"
    }

    /// Euros, whole, with thin grouping ("3 210 €").
    static func euros(_ amount: Int) -> String {
        let digits = String(amount)
        var grouped = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { grouped.append(" ") }
            grouped.append(character)
        }
        return String(grouped.reversed()) + " €"
    }

    public func status(_ status: CertificateStatus?) -> String {
        switch (status, fr) {
        case (.current?, true): "Attestation authentique et à jour : le dossier dit toujours ce qu'elle indique."
        case (.current?, false): "Genuine and current: the file still says what it states."
        case (.outdated?, true): "Attestation authentique, mais le dossier a changé depuis : demandez-en une nouvelle au locataire."
        case (.outdated?, false): "Genuine, but the file has changed since: ask the tenant for a new one."
        case (.expired?, true): "Attestation authentique, mais expirée."
        case (.expired?, false): "Genuine, but expired."
        case (.revoked?, true): "Attestation révoquée par le locataire."
        case (.revoked?, false): "Revoked by the tenant."
        case (nil, true): "Aucune attestation ne porte ce code : elle n'est pas authentique."
        case (nil, false): "No certificate has this code: it is not genuine."
        }
    }
}
