import Foundation

/// GDPR Art. 7 and 21, from the register: which purposes a person consents to from their
/// account, and what objecting to a purpose does.
public enum ConsentRules {
    /// The purposes the register bases on consent that a person gives from their account (the
    /// cookie banner's, per browser, are not an account's).
    public static func purposes(in register: Register) -> [Purpose] {
        register.purposes.filter { $0.reliesOnConsent && $0.appliesTo == nil }
    }
}

public enum ObjectionRules {
    public enum Outcome: String, Codable, Sendable {
        /// Direct marketing (Art. 21(2)–(3)): the objection is absolute and takes effect at once;
        /// the address goes on the objection list.
        case upheld
        /// Legitimate interests (Art. 21(1)): staff weigh compelling grounds, within the month.
        case toReview = "to-review"
        /// Reviewed, and staff found compelling legitimate grounds (the request's refusal says which).
        case refused
    }

    /// The register's purposes that are direct marketing (prospecting and newsletters).
    public static let directMarketing: Set<String> = ["newsletters", "customer-prospect-file"]

    /// What objecting to `purpose` does; nil when Art. 21 does not apply (a contract, a legal
    /// obligation: the person can still erase their account).
    public static func outcome(for purpose: Purpose) -> Outcome? {
        if directMarketing.contains(purpose.id) { return .upheld }
        if purpose.legalBases.contains(where: { $0.basis == .legitimateInterests }) { return .toReview }
        return nil
    }

    /// Staff answer an objection to review within a month (GDPR Art. 12(3)).
    public static let reviewDeadline = RetentionPeriod(1, .month)
}
