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

    // Erasure (Art. 17).
    public var archivedWhat: String {
        fr ? "la preuve que votre compte a existé : vos nom, prénom et adresse électronique, les coordonnées et la date de naissance de votre profil, le nom et les coordonnées de vos garants, les dates d'ouverture, de dernière activité et de suppression ; chiffrée sous une clé propre, réservée au délégué sur motif écrit"
           : "the proof that your account existed: your names and email address, your profile's contact details and date of birth, your guarantors' names and contact details, the dates of opening, last activity and erasure; encrypted under a key of its own, for the DPO alone, for a stated reason"
    }
    public var requestRecordWhat: String {
        fr ? "la trace de cette demande : sa date et ce reçu (sans vos données)" : "the record of this request: its date and this receipt (without your data)"
    }
    public var auditTrailWhat: String {
        fr ? "le journal d'audit des actions sur votre compte, sous un identifiant pseudonyme que seule l'archive ci-dessus relie à vous, tant qu'elle est conservée"
           : "the audit trail of actions on your account, under a pseudonymous identifier that only the archive above links to you, while it is kept"
    }
    public func recordWhat(_ category: String) -> String {
        switch category {
        case "rights-requests": fr ? "vos demandes d'exercice de droits et nos réponses (le justificatif d'identité, s'il y en eut, est supprimé dès la vérification)" : "your rights requests and our answers (any proof of identity is deleted once checked)"
        case "consent-records": fr ? "la trace des consentements que vous avez donnés et retirés (finalité, dates, version de la politique), pour en apporter la preuve"
            : "the record of the consents you gave and withdrew (purpose, dates, policy version), to prove them"
        case "objections": fr ? "vos oppositions, et votre adresse sous forme d'empreinte chiffrée sur la liste d'opposition, pour ne plus jamais vous démarcher"
            : "your objections, and your address as a keyed hash on the objection list, so that you are never prospected again"
        default: fr ? "la trace de vos demandes" : "the record of your requests"
        }
    }
    public var consent: String { fr ? "Consentement" : "Consent" }
    public var objection: String { fr ? "Opposition" : "Objection" }
    public func request(_ reference: String, right: String) -> String { fr ? "Demande \(reference) (\(right))" : "Request \(reference) (\(right))" }
    public var directives: String { fr ? "Directives post mortem" : "Post-mortem directives" }
    public var consentGiven: String { fr ? "donné" : "given" }
    public var consentWithdrawn: String { fr ? "retiré" : "withdrawn" }
    public func erasedKind(_ kind: String) -> String {
        switch kind {
        case "account": fr ? "Compte (mot de passe, sessions, liens de connexion ; votre identité va à l'archive)" : "Account (password, sessions, sign-in links; your identity goes to the archive)"
        case "profile": fr ? "Profil de locataire" : "Tenant profile"
        case "document": fr ? "Pièces justificatives et leurs fichiers (clés détruites)" : "Supporting documents and their files (keys destroyed)"
        case "guarantor": fr ? "Garants" : "Guarantors"
        case "application": fr ? "Candidature (ménage)" : "Application (household)"
        case "share": fr ? "Liens de partage (fermés)" : "Share links (closed)"
        case "share-accesses": fr ? "Journaux des consultations" : "Access logs"
        case "certificate": fr ? "Attestations de dossier" : "File certificates"
        case "connection": fr ? "Journal de connexions" : "Connection log"
        case "message": fr ? "Messages en attente d'envoi" : "Messages waiting to be sent"
        case "directives": fr ? "Directives post mortem" : "Post-mortem directives"
        default: kind
        }
    }
    public var staffCannotErase: String {
        fr ? "Un compte du personnel est fermé par un administrateur (dossier user), pas depuis le compte lui-même."
           : "A staff account is closed by an administrator (dossier user), not from the account itself."
    }
    public var lastAdminCannotErase: String {
        fr ? "Vous êtes le dernier administrateur de votre organisation : nommez-en un autre avant de supprimer votre compte."
           : "You are your organisation's last administrator: make someone else an administrator before deleting your account."
    }
    public var heldCannotErase: String {
        fr ? "Vos données sont conservées pour la défense d'un droit en justice (RGPD, art. 17.3.e) : elles ne peuvent pas être effacées tant que cette conservation dure. Écrivez à notre délégué pour en savoir plus."
           : "Your data is kept for a legal claim (GDPR Art. 17(3)(e)): it cannot be erased while this lasts. Write to our DPO to know more."
    }
    public var alreadyErased: String { fr ? "Ce compte a déjà été supprimé." : "This account has already been deleted." }
    public var wrongPassword: String { fr ? "Mot de passe incorrect : rien n'a été supprimé." : "Wrong password: nothing was deleted." }
    public var receiptTitle: String { fr ? "Reçu de suppression" : "Erasure receipt" }
    public var erasedHeading: String { fr ? "Effacé" : "Erased" }
    public var keptHeading: String { fr ? "Conservé, pourquoi et jusqu'à quand" : "Kept, why and until when" }
    public func until(_ day: String) -> String { fr ? "jusqu'au \(day)" : "until \(day)" }
    public func reference(_ reference: String) -> String { fr ? "Référence : \(reference)" : "Reference: \(reference)" }
}
