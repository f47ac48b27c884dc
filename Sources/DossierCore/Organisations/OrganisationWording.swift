import Foundation

/// What recipient organisations' pages and answers say, in French and English.
public struct OrganisationWording: Sendable {
    public let language: Language

    public init(_ language: Language) {
        self.language = language
    }

    private var fr: Bool { language == .fr }

    public var membersOnly: String {
        fr ? "Réservé aux membres d'une organisation destinataire." : "For members of a recipient organisation only."
    }

    public var adminsOnly: String {
        fr ? "Réservé aux administrateurs de l'organisation." : "For the organisation's administrators only."
    }

    public var noSuchFile: String { fr ? "Aucun dossier de ce nom dans votre boîte." : "No such file in your inbox." }

    public var noSuchMember: String { fr ? "Aucun membre de ce nom." : "No such member." }

    public var lastAdmin: String {
        fr ? "C'est le dernier administrateur de l'organisation : invitez-en un autre d'abord."
            : "This is the organisation's last administrator: invite another one first."
    }

    public var noSuchInvitation: String { fr ? "Aucune invitation de ce nom." : "No such invitation." }

    public var confirmationInvalid: String {
        fr ? "Ce lien de confirmation est inconnu, déjà utilisé ou expiré." : "This confirmation link is unknown, used or expired."
    }

    public func addressConfirmed(_ organisation: String) -> String {
        fr ? "Merci : les dossiers partagés avec cette adresse arrivent désormais dans la boîte de « \(organisation) »."
            : "Thank you: files shared with this address now reach the inbox of \"\(organisation)\"."
    }

    /// Told to a tenant sharing with an organisation's confirmed address.
    public func sharedWithOrganisation(_ organisation: String) -> String {
        fr ? "Cette adresse est celle de « \(organisation) » sur Dossier : ses membres ouvrent le lien depuis leur boîte, connectés (avec le code d'accès s'il en a un) ; chacune de leurs consultations vous est montrée à leur nom."
            : "This address is that of \"\(organisation)\" on Dossier: its members open the link from their inbox, signed in (with the access code, if it has one); each of their views is shown to you under their name."
    }

    public func tooManyMembers(_ maximum: Int) -> String {
        fr ? "\(maximum) membres et invitations en attente au plus." : "At most \(maximum) members and pending invitations."
    }

    public var invitationInvalid: String {
        fr ? "Ce lien d'invitation est inconnu, déjà utilisé ou expiré : demandez une nouvelle invitation."
            : "This invitation link is unknown, used or expired: ask for a new invitation."
    }

    /// Told to whoever holds the invitation (the address's owner), never to the inviting admin.
    public var addressHasAccount: String {
        fr ? "Cette adresse a déjà un compte Dossier : demandez à votre organisation d'inviter une autre adresse."
            : "This address already has a Dossier account: ask your organisation to invite another address."
    }

    public var tooManyInvitations: String {
        fr ? "Trop d'invitations aujourd'hui (pour l'organisation ou pour cette adresse) : réessayez demain."
            : "Too many invitations today (for the organisation or for this address): try again tomorrow."
    }

    public var invitationRace: String {
        fr ? "Une invitation à cette adresse vient d'être envoyée." : "An invitation to this address was just sent."
    }
}

/// The bounds of recipient organisations.
public enum OrganisationRules {
    /// Members and pending invitations of one organisation.
    public static let maximumMembers = 200
    /// How long an invitation link works.
    public static let invitationLifetime: TimeInterval = 7 * 24 * 3600
    public static let maximumNameLength = 200
    /// Invitations an organisation sends in a day, and one address receives.
    public static let invitationsPerDay = 50
    public static let invitationsPerAddressPerDay = 3
}
