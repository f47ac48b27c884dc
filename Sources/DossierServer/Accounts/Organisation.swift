import DossierCore
import Fluent
import Foundation

/// An agency, landlord or insurer whose members receive tenants' files: the links tenants make
/// to its address appear in its members' inbox.
final class Organisation: Model, @unchecked Sendable {
    static let schema = "organisations"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Enum(key: "kind") var kind: OrganisationKind
    @Field(key: "created_at") var createdAt: Date
    /// The address tenants share with (a shared mailbox: contact@agency…), as registered by staff.
    @OptionalField(key: "email") var email: String?
    /// That address as the keyed hash share links carry (`KeyVault.recipientIndex`), once
    /// confirmed from the mailbox; unique. nil: no inbox yet.
    @OptionalField(key: "recipient_index") var recipientIndex: String?
    /// The confirmation link mailed to the address, while it is not followed: its hash.
    @OptionalField(key: "address_token_hash") var addressTokenHash: String?
    @OptionalField(key: "address_requested_at") var addressRequestedAt: Date?
    /// When the address was confirmed: only links made since reach the inbox (a link made before
    /// was made without the tenant being told whose inbox it would reach).
    @OptionalField(key: "address_confirmed_at") var addressConfirmedAt: Date?

    var properties: [any AnyProperty] { [$id, $name, $kind, $createdAt, $email, $recipientIndex, $addressTokenHash, $addressRequestedAt, $addressConfirmedAt] }

    init() {}

    init(name: String, kind: OrganisationKind, now: Date) {
        self.name = name
        self.kind = kind
        createdAt = now
    }
}

/// An invitation to join an organisation, sent by email by one of its administrators (or staff).
/// The invitee chooses their name and password when they accept; an address that already has
/// an account cannot accept, and only the address's owner is told so.
final class OrganisationInvitation: Model, @unchecked Sendable {
    static let schema = "organisation_invitations"

    @ID(key: .id) var id: UUID?
    @Parent(key: "organisation_id") var organisation: Organisation
    @Field(key: "email") var email: String
    @Field(key: "email_key") var emailKey: String
    /// Joins as an administrator of the organisation.
    @Field(key: "admin") var admin: Bool
    @Field(key: "token_hash") var tokenHash: String
    /// Who invited (an account's subject, or "cli").
    @Field(key: "invited_by") var invitedBy: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date

    var properties: [any AnyProperty] { [$id, $organisation, $email, $emailKey, $admin, $tokenHash, $invitedBy, $createdAt, $expiresAt] }

    init() {}

    init(organisationID: UUID, email: EmailAddress, admin: Bool, tokenHash: String, invitedBy: String, now: Date) {
        $organisation.id = organisationID
        self.email = email.value
        emailKey = email.canonical
        self.admin = admin
        self.tokenHash = tokenHash
        self.invitedBy = invitedBy
        createdAt = now
        expiresAt = now + OrganisationRules.invitationLifetime
    }
}
