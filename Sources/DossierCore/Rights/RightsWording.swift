import Foundation

/// What the pages and answers of the data-subject rights say, in French and English.
public struct RightsWording: Sendable {
    public let language: Language

    public init(_ language: Language) {
        self.language = language
    }

    private var fr: Bool { language == .fr }

    public func account(_ email: String) -> String { fr ? "Votre compte (\(email))" : "Your account (\(email))" }
    public var profile: String { fr ? "Votre profil de locataire" : "Your tenant profile" }
    public func guarantor(_ name: String) -> String { fr ? "Garant : \(name)" : "Guarantor: \(name)" }
    public var application: String { fr ? "Votre candidature (ménage)" : "Your application (household)" }
    public func share(_ recipient: String, reference: String) -> String {
        fr ? "Lien de partage \(reference) pour \(recipient)" : "Share link \(reference) for \(recipient)"
    }
    public func accessLog(reference: String, count: Int) -> String {
        fr ? "Journal des consultations du lien \(reference) (\(count))" : "Access log of link \(reference) (\(count))"
    }
    public var certificate: String { fr ? "Attestation de dossier" : "File certificate" }
    public func connection(_ kind: String) -> String {
        switch kind {
        case "sign-in": fr ? "Connexion" : "Sign-in"
        case "sign-out": fr ? "Déconnexion" : "Sign-out"
        default: fr ? "Réinitialisation du mot de passe" : "Password reset"
        }
    }
    public var message: String { fr ? "Message de service en attente d'envoi" : "Service message waiting to be sent" }
    public var thenDelete: String { fr ? "suppression" : "deletion" }
    public var thenArchive: String { fr ? "archivage" : "archiving" }
    public var thenAnonymise: String { fr ? "anonymisation" : "anonymisation" }
    public func tooManyExports(_ maximum: Int) -> String {
        fr ? "\(maximum) exports par heure au plus : réessayez dans une heure." : "At most \(maximum) exports an hour: try again in an hour."
    }
    public var noRule: String { fr ? "Aucune règle de conservation dans le registre." : "No retention rule in the register." }
    public var onEvent: String { fr ? "à l'événement indiqué" : "on the event stated" }
}
