import Foundation

/// What sharing says to tenants and recipients, in French and English.
public struct SharingWording: Sendable {
    public let language: Language

    public init(_ language: Language) {
        self.language = language
    }

    private var fr: Bool { language == .fr }

    public func kinds(_ allowed: [String]) -> String {
        fr ? "Destinataire attendu : \(allowed.joined(separator: ", "))." : "Expected recipient: \(allowed.joined(separator: ", "))."
    }

    public var dateTime: String {
        fr ? "Date et heure attendues (RFC 3339), par exemple 2027-03-01T18:00:00Z." : "Expected a date and time (RFC 3339), e.g. 2027-03-01T18:00:00Z."
    }

    public var expiryInPast: String { fr ? "La date d'expiration doit être dans le futur." : "The expiry must be in the future." }

    public func expiryTooLate(_ latest: Date) -> String {
        let day = ShareWatermark.day(of: latest)
        return fr ? "Pour ce destinataire, un lien dure au plus jusqu'au \(day) (registre des traitements)."
            : "For this recipient, a link lasts until \(day) at most (processing register)."
    }

    public var documentsList: String {
        fr ? "Une liste de 1 à 100 pièces distinctes est attendue (ou aucune liste, pour tout le dossier)."
            : "Expected a list of 1 to 100 distinct documents (or no list, for the whole file)."
    }

    public var documentsNotShareable: String {
        fr ? "Une de ces pièces n'est pas dans votre dossier, est refusée, ou ne peut être transmise à ce destinataire."
            : "One of these documents is not in your file, was declined, or cannot be given to this recipient."
    }

    public func tooManyShares(_ maximum: Int) -> String {
        fr ? "\(maximum) liens ouverts au plus : révoquez-en un d'abord." : "At most \(maximum) open links: revoke one first."
    }

    public var notOpen: String { fr ? "Ce lien est révoqué ou expiré." : "This link is revoked or expired." }
    public var unknownLink: String { fr ? "Ce lien n'existe pas. Vérifiez l'adresse reçue." : "This link does not exist. Check the address you were given." }

    public func goneLink(_ state: ShareState) -> String {
        switch (state, fr) {
        case (.revoked, true): "Le locataire a retiré ce partage : le dossier n'est plus consultable."
        case (.revoked, false): "The tenant withdrew this share: the file can no longer be viewed."
        case (_, true): "Ce lien a expiré : demandez au locataire un nouveau partage."
        case (_, false): "This link has expired: ask the tenant to share their file again."
        }
    }

    public var pausedLink: String {
        fr ? "Le locataire a suspendu ce partage pour le moment." : "The tenant has paused this share for now."
    }

    public func tooManyPages(_ perDocument: Int, _ perFile: Int) -> String {
        fr ? "Trop de pages pour une seule copie (\(perDocument) par pièce, \(perFile) pour tout le dossier) : téléchargez les pièces une à une."
            : "Too many pages for one copy (\(perDocument) per document, \(perFile) for the whole file): download the documents one by one."
    }

    public var codeFormat: String {
        fr ? "Un code d'accès a 6 chiffres." : "An access code has 6 digits."
    }

    public var lockedLink: String {
        fr ? "Ce lien est verrouillé après trop de codes erronés. Le locataire en a été prévenu ; demandez-lui de le rouvrir."
            : "This link is locked after too many wrong codes. The tenant was told; ask them to open it again."
    }

    public func codeAsked(wrong: Bool, triesLeft: Int) -> String {
        switch (wrong, fr) {
        case (false, true): "Ce partage est protégé par un code d'accès à 6 chiffres, que le locataire vous a transmis à part."
        case (false, false): "This share is protected by a 6-digit access code, which the tenant gave you separately."
        case (true, true): "Code erroné. Encore \(triesLeft) essai(s) avant que le lien ne soit verrouillé."
        case (true, false): "Wrong code. \(triesLeft) more try(ies) before the link locks."
        }
    }

    public var renditionFailed: String {
        fr ? "Cette pièce n'a pas pu être préparée. Réessayez plus tard." : "This document could not be prepared. Try again later."
    }

    public func coverTitle(_ tenant: String) -> String { fr ? "Dossier de location de \(tenant)" : "Rental file of \(tenant)" }

    public func coverIntro(recipient: String, purpose: String, day: String, link: String, until: Date) -> [String] {
        let end = ShareWatermark.day(of: until)
        return fr
            ? ["Transmis à : \(recipient)", "Pour : \(purpose)", "Partagé le \(day) par le lien \(link), valable jusqu'au \(end).",
               "Chaque page porte le nom du destinataire : ces copies ne valent que pour cet usage."]
            : ["Given to: \(recipient)", "For: \(purpose)", "Shared on \(day) through link \(link), valid until \(end).",
               "Every page bears the recipient's name: these copies are valid for this use only."]
    }

    public var contents: String { fr ? "Contenu :" : "Contents:" }
    public var ofGuarantor: String { fr ? " (garant)" : " (guarantor)" }
    public var validated: String { fr ? " — vérifiée par notre équipe" : " — checked by our staff" }
    public var noSuchLink: String { fr ? "Ce lien n'existe pas." : "No such link." }
    public var noSuchCertificate: String { fr ? "Cette attestation n'existe pas." : "No such certificate." }
    public var noSuchDocument: String { fr ? "Cette pièce ne fait pas partie de ce partage." : "This document is not part of this share." }
}
