import DossierCore
import Fluent
import Foundation

/// A person who signs in: a tenant, a staff member or a member of a recipient organisation.
final class Account: Model, @unchecked Sendable {
    static let schema = "accounts"
    /// The register category of what this table holds (name, address…).
    static let dataCategory = "identification"

    @ID(key: .id) var id: UUID?
    /// The pseudonymous id the audit trail uses; it outlives the account.
    @Field(key: "subject_id") var subjectID: UUID
    /// As typed (domain lower-cased), for display and mail.
    @Field(key: "email") var email: String
    /// Lower-cased, unique: two spellings of one address are one account.
    @Field(key: "email_key") var emailKey: String
    @Field(key: "password_hash") var passwordHash: String
    @Field(key: "first_name") var firstName: String
    @Field(key: "last_name") var lastName: String
    @Enum(key: "language") var language: Language
    @Enum(key: "role") var role: Role
    @OptionalParent(key: "organisation_id") var organisation: Organisation?
    /// A member of an organisation who manages its members (invites, removes).
    @Field(key: "organisation_admin") var organisationAdmin: Bool
    @OptionalField(key: "email_verified_at") var emailVerifiedAt: Date?
    @Field(key: "created_at") var createdAt: Date
    /// Drives the "inactive for 1 year" retention rule.
    @Field(key: "last_activity_at") var lastActivityAt: Date
    /// When the retention engine warned the person their account would be closed for
    /// inactivity (`InactiveAccounts`); an activity after it answers the warning.
    @OptionalField(key: "inactivity_reminded_at") var inactivityRemindedAt: Date?

    /// Listed, not found by reflection: Fluent reflects on the type for every row it reads
    /// otherwise (a fifth of an authenticated read, profiled). `ModelPropertiesTests` keeps
    /// the list equal to the declarations above.
    var properties: [any AnyProperty] { [$id, $subjectID, $email, $emailKey, $passwordHash, $firstName, $lastName, $language, $role, $organisation, $organisationAdmin, $emailVerifiedAt, $createdAt, $lastActivityAt, $inactivityRemindedAt] }

    init() {}

    init(email: EmailAddress, passwordHash: String, firstName: String, lastName: String,
         language: Language, role: Role, organisationID: UUID? = nil, now: Date) {
        subjectID = UUID()
        self.email = email.value
        emailKey = email.canonical
        self.passwordHash = passwordHash
        self.firstName = firstName
        self.lastName = lastName
        self.language = language
        self.role = role
        $organisation.id = organisationID
        organisationAdmin = false
        createdAt = now
        lastActivityAt = now
    }

    var subject: String { subjectID.uuidString.lowercased() }
}

