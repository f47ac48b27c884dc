import DossierCore
import Fluent
import Foundation
import Vapor

/// Recipient organisations: an agency, landlord or insurer registered by staff with the address
/// tenants share with. Every link made to that address appears in its members' inbox; a member
/// opens it there, signed in (no access code: the address is the organisation's), and each of
/// their views is logged by name for the tenant. Administrators of the organisation invite
/// members by email and remove them. The API and the pages share it.
struct OrganisationService: Sendable {
    let database: any Database
    let services: DossierServices
    let logger: Logger

    init(_ request: Request) {
        self.init(database: request.db, services: request.dossier, logger: request.logger)
    }

    init(database: any Database, services: DossierServices, logger: Logger) {
        self.database = database
        self.services = services
        self.logger = logger
    }

    var clock: any WallClock { services.clock }
    var shares: ShareService { ShareService(database: database, services: services, logger: logger) }

    /// The organisation of a member's account; nil for anyone else (403 where asked).
    func organisation(of account: Account) async throws -> Organisation? {
        guard account.role == .member, let id = account.$organisation.id else { return nil }
        return try await Organisation.find(id, on: database)
    }

    // MARK: Staff: organisations

    /// Registers an organisation with the address tenants share with (unique).
    func create(name: String, kind: OrganisationKind, email: EmailAddress?, actor: String) async throws -> Organisation {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !TextRules.isBlank(trimmed), TextRules.length(trimmed) <= OrganisationRules.maximumNameLength, !TextRules.hasForbidden(trimmed) else {
            throw ValidationFailure(problems: [FieldProblem(field: "name", message: "Expected a name of 1 to \(OrganisationRules.maximumNameLength) characters.")])
        }
        let organisation = Organisation(name: trimmed, kind: kind, now: clock.now)
        organisation.id = UUID()
        if let email {
            organisation.email = email.value
            organisation.recipientIndex = try await services.vault.recipientIndex(email)
            if try await Organisation.query(on: database).filter(\.$recipientIndex == organisation.recipientIndex).first() != nil {
                throw Abort(.conflict, reason: "Another organisation has the address \(email.value).")
            }
        }
        let id = try organisation.requireID()
        try await services.audit.transaction(on: database) { db, audit in
            try await organisation.create(on: db)
            audit.record(AuditEvent(action: "organisation.created", details: ["kind": kind.rawValue, "organisation": id.uuidString.lowercased()]),
                         by: actor)
        }
        return organisation
    }

    // MARK: The inbox

    /// The links made to the organisation's address that serve now, newest first, with their
    /// tenants. Paused, locked, revoked and expired ones leave the inbox.
    func inbox(of organisation: Organisation, limit: Int = 500) async throws -> [Share] {
        guard let index = organisation.recipientIndex else { return [] }
        return try await Share.query(on: database).filter(\.$recipientIndex == index).filter(\.$revokedAt == nil)
            .filter(\.$pausedAt == nil).filter(\.$lockedAt == nil).filter(\.$expiresAt > clock.now)
            .sort(\.$createdAt, .descending).limit(limit).with(\.$account).all()
    }

    /// A link of the inbox, whatever its state; nil for one made to another address (answered
    /// as a missing one).
    func received(_ id: UUID, by organisation: Organisation) async throws -> Share? {
        guard let index = organisation.recipientIndex else { return nil }
        return try await Share.query(on: database).filter(\.$id == id).filter(\.$recipientIndex == index).first()
    }

    /// A link of the inbox that serves now; else why not (404 for one not the organisation's,
    /// 410 revoked or expired, 403 paused or locked), as the link itself answers.
    func open(_ id: UUID, by organisation: Organisation, language: Language) async throws -> Share {
        let words = SharingWording(language)
        guard let share = try await received(id, by: organisation) else {
            throw ShareService.Refusal(status: .notFound, reason: OrganisationWording(language).noSuchFile, state: nil)
        }
        let state = share.state(at: clock.now)
        switch state {
        case .active: return share
        case .revoked, .expired: throw ShareService.Refusal(status: .gone, reason: words.goneLink(state), state: state)
        case .paused: throw ShareService.Refusal(status: .forbidden, reason: words.pausedLink, state: state)
        case .locked: throw ShareService.Refusal(status: .forbidden, reason: words.lockedLink, state: state)
        }
    }

    /// Who a member is, in the tenant's access log.
    func viewer(_ member: Account, of organisation: Organisation) -> (account: Account, seen: ShareViewer) {
        (member, ShareViewer(name: GuarantorNotice.displayName(member.firstName, member.lastName) ?? member.email, organisation: organisation.name))
    }

    // MARK: Members

    struct Members: Sendable {
        var accounts: [Account]
        var invitations: [OrganisationInvitation]
    }

    func members(of organisation: Organisation) async throws -> Members {
        let id = try organisation.requireID()
        let accounts = try await Account.query(on: database).filter(\.$organisation.$id == id).sort(\.$createdAt).all()
        let invitations = try await OrganisationInvitation.query(on: database).filter(\.$organisation.$id == id)
            .filter(\.$expiresAt > clock.now).sort(\.$createdAt).all()
        return Members(accounts: accounts, invitations: invitations)
    }

    /// Invites `email` to join; a pending invitation of the same address is replaced (its link
    /// stops working). Whether the address has an account elsewhere is not told to the inviter:
    /// the invitation is sent alike, and only its recipient learns they cannot accept it.
    @discardableResult
    func invite(_ rawEmail: String, admin: Bool, to organisation: Organisation, by actor: Account?, language: Language) async throws -> OrganisationInvitation {
        guard let email = EmailAddress(rawEmail) else {
            throw ValidationFailure(problems: [FieldProblem(field: "email", message: AccountWording(language).invalidEmail)])
        }
        let organisationID = try organisation.requireID()
        let words = OrganisationWording(language)
        let token = SecretToken.generate()
        let now = clock.now
        let invitedBy = actor?.subject ?? "cli"
        let invitation = OrganisationInvitation(organisationID: organisationID, email: email, admin: admin, tokenHash: SecretToken.hash(token),
                                                invitedBy: invitedBy, now: now)
        let inviteeLanguage = actor?.language ?? language
        // Invitations are mail to addresses an administrator types: bounded per organisation
        // and per address (counted as a hash of it), so that they cannot make Dossier a mailer.
        let perOrganisation = ThrottleLedger.Key("organisation-invite", organisationID.uuidString)
        let perAddress = ThrottleLedger.Key("organisation-invite:address", Digest.sha256Hex(Data(email.canonical.utf8)))
        do {
            try await services.audit.transaction(on: database) { db, audit in
                try await db.takeWriteLock()
                let ledger = ThrottleLedger(database: db)
                guard try await ledger.times(perOrganisation, since: now - 86400).count < OrganisationRules.invitationsPerDay,
                      try await ledger.times(perAddress, since: now - 86400).count < OrganisationRules.invitationsPerAddressPerDay else {
                    throw Abort(.tooManyRequests, reason: words.tooManyInvitations)
                }
            if try await Account.query(on: db).filter(\.$organisation.$id == organisationID).filter(\.$emailKey == email.canonical).first() != nil {
                throw Abort(.conflict, reason: language == .fr ? "Cette adresse est déjà membre de l'organisation." : "This address is already a member of the organisation.")
            }
            try await OrganisationInvitation.query(on: db).filter(\.$organisation.$id == organisationID)
                .filter(\.$emailKey == email.canonical).delete()
            let members = try await Account.query(on: db).filter(\.$organisation.$id == organisationID).count()
            let pending = try await OrganisationInvitation.query(on: db).filter(\.$organisation.$id == organisationID)
                .filter(\.$expiresAt > now).count()
            guard members + pending < OrganisationRules.maximumMembers else {
                throw Abort(.conflict, reason: words.tooManyMembers(OrganisationRules.maximumMembers))
            }
            try await invitation.create(on: db)
            try await ledger.record([perOrganisation, perAddress], at: now)
            let link = services.mailer.link("/organisation/join", token: token, language: inviteeLanguage)
            try await services.mailer.enqueue(.organisationInvitation(organisation: organisation.name, link: link,
                                                                      validDays: Int(OrganisationRules.invitationLifetime / 86400)),
                                              to: email.value, language: inviteeLanguage, subject: Self.mailSubject(organisationID),
                                              accountID: actor?.id, on: db)
            audit.record(AuditEvent(action: "organisation.member-invited", purpose: "account",
                                    details: ["organisation": organisationID.uuidString.lowercased(), "admin": admin ? "true" : "false"]),
                         by: invitedBy)
            }
        } catch where (error as? any DatabaseError)?.isConstraintFailure == true {
            // The same address invited twice at once (PostgreSQL): one invitation stands.
            throw Abort(.conflict, reason: words.invitationRace)
        }
        return invitation
    }

    /// What seals an invitation's message (the invitee has no key yet): the organisation's.
    static func mailSubject(_ organisation: UUID) -> String { "organisation:\(organisation.uuidString.lowercased())" }

    /// The invitation a token names, if it can still be accepted.
    func invitation(token: String, language: Language) async throws -> OrganisationInvitation {
        guard let invitation = try await OrganisationInvitation.query(on: database).filter(\.$tokenHash == SecretToken.hash(token))
            .with(\.$organisation).first(), invitation.expiresAt > clock.now else {
            throw Abort(.notFound, reason: OrganisationWording(language).invitationInvalid)
        }
        return invitation
    }

    /// Accepts an invitation: the member's account, its address proved by the link. The
    /// invitation is used up in the same transaction (of two accepts, one wins).
    func accept(token: String, firstName: String, lastName: String, password: String, language: Language,
                passwords: AsyncPasswordHasher) async throws -> Account {
        let invitation = try await invitation(token: token, language: language)
        let words = OrganisationWording(language)
        var problems: [FieldProblem] = []
        problems += ShareService.textProblems(firstName, field: "firstName", maximum: SignUpRules.maximumNameLength, language: language)
        problems += ShareService.textProblems(lastName, field: "lastName", maximum: SignUpRules.maximumNameLength, language: language)
        guard let email = EmailAddress(invitation.email) else { throw Abort(.notFound, reason: words.invitationInvalid) }
        problems += SignUpRules.passwordProblems(password, email: email.value, names: [firstName, lastName], language: language)
        guard problems.isEmpty else { throw ValidationFailure(problems: problems) }
        let hash = try await passwords.hash(password)
        let now = clock.now
        let account = Account(email: email, passwordHash: hash, firstName: firstName.trimmingCharacters(in: .whitespacesAndNewlines),
                              lastName: lastName.trimmingCharacters(in: .whitespacesAndNewlines), language: language, role: .member,
                              organisationID: invitation.$organisation.id, now: now)
        account.organisationAdmin = invitation.admin
        account.emailVerifiedAt = now
        let invitationID = try invitation.requireID()
        do {
            try await services.audit.transaction(on: database) { db, audit in
                try await db.takeWriteLock()
                guard try await Account.query(on: db).filter(\.$emailKey == email.canonical).first() == nil else {
                    throw Abort(.conflict, reason: words.addressHasAccount)
                }
                // Used up by one statement: of two accepts at once, one finds it gone.
                let claimed = try await db.requireSQL().delete(from: OrganisationInvitation.schema).where("id", .equal, invitationID)
                    .returning("id").all()
                guard !claimed.isEmpty else { throw Abort(.notFound, reason: words.invitationInvalid) }
                try await account.create(on: db)
                audit.record(AuditEvent(action: "account.created", subject: account.subject, purpose: "account",
                                        details: ["role": Role.member.rawValue, "organisation": invitation.$organisation.id.uuidString.lowercased()]),
                             by: account.subject)
            }
        } catch where (error as? any DatabaseError)?.isConstraintFailure == true {
            // The address took an account meanwhile (PostgreSQL: the unique address decides).
            throw Abort(.conflict, reason: words.addressHasAccount)
        }
        return account
    }

    /// Removes a member: their account and sessions are deleted and their key destroyed (with
    /// anything they kept on the account); what they saw stays in tenants' access logs under
    /// their name. The last administrator stays.
    func remove(_ memberID: UUID, from organisation: Organisation, by admin: Account, language: Language) async throws {
        let organisationID = try organisation.requireID()
        let words = OrganisationWording(language)
        let now = clock.now
        let (subjects, blobs) = try await services.audit.transaction(on: database) { db, audit -> ([String], [String]) in
            try await db.takeWriteLock()
            guard let member = try await Account.query(on: db).filter(\.$id == memberID).filter(\.$organisation.$id == organisationID).first() else {
                throw Abort(.notFound, reason: words.noSuchMember)
            }
            if member.organisationAdmin {
                let admins = try await Account.query(on: db).filter(\.$organisation.$id == organisationID).filter(\.$organisationAdmin == true).count()
                guard admins > 1 else { throw Abort(.conflict, reason: words.lastAdmin) }
            }
            // Rows go with the account (cascades); blobs and keys once it commits.
            let documents = try await Document.query(on: db).filter(\.$account.$id == memberID).with(\.$files).all()
            let blobs = documents.flatMap { $0.files.map(\.blobKey) }
            try await BlobJournal.record(blobs, .delete, at: now, on: db)
            let guarantors = try await Guarantor.query(on: db).filter(\.$account.$id == memberID).all().map(\.subject)
            try await member.delete(on: db)
            audit.record(AuditEvent(action: "organisation.member-removed", subject: member.subject, purpose: "account",
                                    details: ["organisation": organisationID.uuidString.lowercased()]), by: admin.subject)
            return ([member.subject] + guarantors, blobs)
        }
        for subject in subjects { try await services.vault.shred(subject) }
        try? await BlobJournal.completeDeletion(of: blobs, blobs: services.blobs, on: database)
    }
}
