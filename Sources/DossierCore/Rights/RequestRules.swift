import Foundation

/// Requests to exercise a right that staff handle (GDPR Art. 12): which rights they may be
/// about, their deadline, how they may be refused and when staff are reminded.
public enum RequestRules {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case open
        /// Staff asked the requester for proof of identity (Art. 12(6)).
        case awaitingIdentity = "awaiting-identity"
        case answered
        case refused

        public var isClosed: Bool { self == .answered || self == .refused }
    }

    public enum Channel: String, Codable, Sendable, CaseIterable {
        /// Filed by the person from their account.
        case account
        /// Received by email or by post, and entered by staff.
        case email, post
    }

    /// What a proof-of-identity check concluded; only this fact is kept (the proof is deleted).
    public enum IdentityCheck: String, Codable, Sendable, CaseIterable {
        case verified, failed
    }

    /// The rights a request may be about: those of the register with a deadline.
    public static func types(in register: Register) -> [Right] {
        register.rights.filter { $0.deadline != nil }
    }

    /// The deadline of a request for `right` received at `received` (one month unless the
    /// register says otherwise), and once extended.
    public static func deadline(for right: Right, received: Date, extended: Bool, in register: Register) -> RequestDeadline {
        let period = right.deadline ?? RetentionPeriod(1, .month)
        return extended
            ? RequestDeadline.extended(received, period: period, by: register.rightsExercise.deadlineExtension)
            : RequestDeadline.after(received, period: period)
    }

    /// Staff are reminded of an open request this many days before its deadline, then the day
    /// before, then once it has passed.
    public static let reminderDays = [7, 1, 0]

    /// The reminders due at `now` for a deadline, counting those already sent.
    public static func remindersDue(deadline: Date, sent: Int, now: Date) -> Int {
        let due = reminderDays.filter { now >= deadline - Double($0) * 86_400 }.count
        return max(0, due - sent)
    }

    /// Why a request may be refused (Art. 12(5), 12(6), 23), with the words sent to the requester.
    public enum Refusal: String, Codable, Sendable, CaseIterable {
        case manifestlyUnfounded = "manifestly-unfounded"
        case excessive
        case identityNotEstablished = "identity-not-established"
        case legalObligation = "legal-obligation"
        case compellingGrounds = "compelling-grounds"

        public func text(_ language: Language) -> String {
            switch (self, language) {
            case (.manifestlyUnfounded, .fr): "la demande est manifestement infondée (article 12, paragraphe 5, du RGPD)"
            case (.manifestlyUnfounded, .en): "the request is manifestly unfounded (GDPR Article 12(5))"
            case (.excessive, .fr): "la demande est excessive, notamment par son caractère répétitif (article 12, paragraphe 5, du RGPD)"
            case (.excessive, .en): "the request is excessive, in particular because of its repetitive character (GDPR Article 12(5))"
            case (.identityNotEstablished, .fr): "nous n'avons pas pu vérifier votre identité (article 12, paragraphe 6, du RGPD)"
            case (.identityNotEstablished, .en): "we could not verify your identity (GDPR Article 12(6))"
            case (.legalObligation, .fr): "une obligation légale nous impose de conserver ou de traiter ces données (article 17, paragraphe 3, du RGPD)"
            case (.legalObligation, .en): "a legal obligation requires us to keep or process this data (GDPR Article 17(3))"
            case (.compellingGrounds, .fr): "des motifs légitimes et impérieux, ou la défense de droits en justice, justifient la poursuite du traitement (article 21, paragraphe 1, du RGPD)"
            case (.compellingGrounds, .en): "compelling legitimate grounds, or the defence of legal claims, justify continuing the processing (GDPR Article 21(1))"
            }
        }
    }

    /// Where a refused requester may complain (Art. 12(4), 77).
    public static func complaint(_ language: Language) -> String {
        language == .fr
            ? "Vous pouvez introduire une réclamation auprès de la CNIL (www.cnil.fr/fr/plaintes, 3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07) et former un recours juridictionnel."
            : "You can lodge a complaint with the CNIL (www.cnil.fr/fr/plaintes, 3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07) and seek a judicial remedy."
    }
}
