/// The words of account forms and messages, in each language.
public struct AccountWording: Sendable {
    public let language: Language

    public init(_ language: Language) {
        self.language = language
    }

    private func pick(_ fr: String, _ en: String) -> String { language == .fr ? fr : en }

    public var required: String { pick("Ce champ est obligatoire.", "This field is required.") }
    public func tooLong(_ maximum: Int) -> String { pick("\(maximum) caractères au plus.", "At most \(maximum) characters.") }
    public var invalidCharacters: String { pick("Caractères non autorisés.", "Characters not allowed.") }
    public var invalidEmail: String { pick("Adresse électronique invalide.", "Not a valid email address.") }
    public var emailTaken: String { pick("Un compte existe déjà avec cette adresse.", "An account already exists with this address.") }

    public func password(_ problem: PasswordPolicy.Problem, policy: PasswordPolicy) -> String {
        switch problem {
        case .tooShort: pick("Au moins \(policy.minimumLength) caractères.", "At least \(policy.minimumLength) characters.")
        case .tooLong: pick("\(policy.maximumLength) caractères au plus.", "At most \(policy.maximumLength) characters.")
        case .common: pick("Ce mot de passe est trop courant.", "This password is too common.")
        case .containsPersonalData: pick("Le mot de passe ne doit pas contenir votre nom ou votre adresse.", "The password must not contain your name or address.")
        case .repetitive: pick("Le mot de passe est trop répétitif.", "The password is too repetitive.")
        }
    }

    public var linkInvalid: String { pick("Ce lien n'est pas valide.", "This link is not valid.") }
    public var linkUsed: String { pick("Ce lien a déjà servi.", "This link was already used.") }
    public var linkExpired: String { pick("Ce lien a expiré.", "This link has expired.") }

    public var invalidCredentials: String { pick("Adresse ou mot de passe incorrect.", "Wrong email address or password.") }

    public func throttled(minutes: Int) -> String {
        pick("Trop de tentatives échouées. Réessayez dans \(minutes) minute\(minutes > 1 ? "s" : "").",
             "Too many failed attempts. Try again in \(minutes) minute\(minutes > 1 ? "s" : "").")
    }
}
