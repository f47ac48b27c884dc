import DossierCore
import Fluent
import Foundation
import SQLKit
import Vapor

/// Recipient organisations: an agency, landlord or insurer registered by staff with the address
/// tenants share with, once confirmed from that mailbox. Every link made to the address since
/// appears in its members' inbox; a member opens it there, signed in (with the link's access
/// code, if it has one), and each of their views is logged by name for the tenant. Administrators of the organisation invite
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

    /// Registers an organisation. With an address, a confirmation link is sent to it: only once
    /// someone who reads that mailbox follows it do links made to the address reach the inbox
    /// (where members open them without their access codes).
    func create(name: String, kind: OrganisationKind, email: EmailAddress?, actor: String, language: Language) async throws -> Organisation {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !TextRules.isBlank(trimmed), TextRules.length(trimmed) <= OrganisationRules.maximumNameLength, !TextRules.hasForbidden(trimmed) else {
            throw ValidationFailure(problems: [FieldProblem(field: "name", message: "Expected a name of 1 to \(OrganisationRules.maximumNameLength) characters.")])
        }
        if let email, try await Organisation.query(on: database).filter(\.$recipientIndex == services.vault.recipientIndex(email)).first() != nil {
            throw Abort(.conflict, reason: "Another organisation has the address \(email.value).")
        }
        let organisation = Organisation(name: trimmed, kind: kind, now: clock.now)
        organisation.id = UUID()
        let id = try organisation.requireID()
        try await services.audit.transaction(on: database) { db, audit in
            try await organisation.create(on: db)
            audit.record(AuditEvent(action: "organisation.created", details: ["kind": kind.rawValue, "organisation": id.uuidString.lowercased()]),
                         by: actor)
        }
        if let email { try await setAddress(email, of: organisation, actor: actor, language: language) }
        return organisation
    }

    /// Sets the address tenants share with, pending its confirmation: the inbox stops receiving
    /// what was shared with the former address at once, and receives what is shared with the new
    /// one once the confirmation link mailed to it is followed. Refused (409) when another
    /// organisation's confirmed address.
    func setAddress(_ email: EmailAddress, of organisation: Organisation, actor: String, language: Language) async throws {
        let index = try await services.vault.recipientIndex(email)
        let id = try organisation.requireID()
        // The address it has, confirmed: nothing to do (its inbox keeps what it holds).
        if organisation.recipientIndex == index, organisation.addressConfirmedAt != nil { return }
        if try await Organisation.query(on: database).filter(\.$recipientIndex == index).filter(\.$id != id).first() != nil {
            throw Abort(.conflict, reason: "Another organisation has the address \(email.value).")
        }
        let token = SecretToken.generate()
        organisation.email = email.value
        organisation.recipientIndex = nil
        organisation.addressConfirmedAt = nil
        organisation.addressTokenHash = SecretToken.hash(token)
        organisation.addressRequestedAt = clock.now
        try await services.audit.transaction(on: database) { db, audit in
            try await organisation.save(on: db)
            let link = services.mailer.link("/organisation/confirm", token: token, language: language)
            try await services.mailer.enqueue(.organisationAddress(organisation: organisation.name, link: link,
                                                                   validDays: Int(OrganisationRules.invitationLifetime / 86400)),
                                              to: email.value, language: language, subject: Self.mailSubject(id), accountID: nil, on: db)
            audit.record(AuditEvent(action: "organisation.address-requested", details: ["organisation": id.uuidString.lowercased()]), by: actor)
        }
    }

    /// The organisation whose address a confirmation token names, while it may be confirmed.
    func addressToConfirm(token: String, language: Language) async throws -> Organisation {
        guard let organisation = try await Organisation.query(on: database).filter(\.$addressTokenHash == SecretToken.hash(token)).first(),
              let requested = organisation.addressRequestedAt, requested + OrganisationRules.invitationLifetime > clock.now else {
            throw Abort(.notFound, reason: OrganisationWording(language).confirmationInvalid)
        }
        return organisation
    }

    /// Confirms the address: from now on, links made to it are in the inbox.
    func confirmAddress(token: String, language: Language) async throws -> Organisation {
        let organisation = try await addressToConfirm(token: token, language: language)
        let now = clock.now
        guard let email = organisation.email.flatMap(EmailAddress.init) else {
            throw Abort(.notFound, reason: OrganisationWording(language).confirmationInvalid)
        }
        let index = try await services.vault.recipientIndex(email)
        let id = try organisation.requireID()
        do {
            try await services.audit.transaction(on: database) { db, audit in
                try await db.takeWriteLock()
                let claimed = try await db.requireSQL().update(Organisation.schema).set("address_token_hash", to: SQLLiteral.null)
                    .set("recipient_index", to: index).set("address_confirmed_at", to: now).where("id", .equal, id).where("address_token_hash", .equal, organisation.addressTokenHash)
                    .returning("id").all()
                guard !claimed.isEmpty else { throw Abort(.notFound, reason: OrganisationWording(language).confirmationInvalid) }
                audit.record(AuditEvent(action: "organisation.address-confirmed", details: ["organisation": id.uuidString.lowercased()]),
                             by: "organisation:\(id.uuidString.lowercased())")
            }
        } catch where (error as? any DatabaseError)?.isConstraintFailure == true {
            throw Abort(.conflict, reason: "Another organisation has this address.")
        }
        organisation.recipientIndex = index
        organisation.addressTokenHash = nil
        organisation.addressConfirmedAt = now
        return organisation
    }

    /// On PostgreSQL, holds the organisation's row until the transaction ends: its members and
    /// invitations are counted and changed by one transaction at a time, across instances. With
    /// `admin`, checks again under the lock that they still administer it (removed meanwhile by
    /// another administrator: 403).
    static func lock(_ organisation: UUID, admin: Account? = nil, on db: any Database) async throws {
        try await db.takeWriteLock()
        try await db.lockRow(Organisation.schema, organisation)
        if let admin {
            guard let current = try await Account.find(admin.requireID(), on: db), current.role == .member,
                  current.$organisation.id == organisation, current.organisationAdmin else {
                throw Abort(.forbidden, reason: OrganisationWording(admin.language).adminsOnly)
            }
        }
    }

    // MARK: The inbox

    /// The links made to the organisation's address since it was confirmed that serve now,
    /// newest first, with their tenants. Paused, locked, revoked and expired ones leave the inbox.
    func inbox(of organisation: Organisation, limit: Int = 500) async throws -> [Share] {
        guard let index = organisation.recipientIndex, let confirmed = organisation.addressConfirmedAt else { return [] }
        var query = Share.query(on: database).filter(\.$recipientIndex == index).filter(\.$createdAt >= confirmed).filter(\.$revokedAt == nil)
            .filter(\.$pausedAt == nil).filter(\.$lockedAt == nil).filter(\.$expiresAt > clock.now)
        // The list shows each tenant's name and purpose, and writes no audit entry: a tenant who
        // restricted processing (Art. 18) is left out here, before the limit (opening is refused
        // by the audit trail).
        let restricted = try await RestrictionService.allRestricted(on: database)
        if !restricted.isEmpty { query = query.filter(\.$subject !~ restricted) }
        return try await query.sort(\.$createdAt, .descending).limit(limit).with(\.$account).all()
    }

    /// A link of the inbox, whatever its state; nil for one made to another address (answered
    /// as a missing one).
    func received(_ id: UUID, by organisation: Organisation) async throws -> Share? {
        guard let index = organisation.recipientIndex, let confirmed = organisation.addressConfirmedAt else { return nil }
        return try await Share.query(on: database).filter(\.$id == id).filter(\.$recipientIndex == index).filter(\.$createdAt >= confirmed).first()
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
        let perAddress = ThrottleLedger.Key("organisation-invite:address",
                                            Digest.sha256Hex(Data("\(organisationID.uuidString.lowercased())|\(email.canonical)".utf8)))
        do {
            try await services.audit.transaction(on: database) { db, audit in
                try await Self.lock(organisationID, admin: actor, on: db)
                let ledger = ThrottleLedger(database: db)
                guard try await ledger.times(perOrganisation, since: now - 86400).count < OrganisationRules.invitationsPerDay,
                      try await ledger.times(perAddress, since: now - 86400).count < OrganisationRules.invitationsPerAddressPerDay else {
                    throw Abort(.tooManyRequests, reason: words.tooManyInvitations)
                }
            if try await Account.query(on: db).filter(\.$organisation.$id == organisationID).filter(\.$emailKey == email.canonical).first() != nil {
                throw Abort(.conflict, reason: language == .fr ? "Cette adresse est déjà membre de l'organisation." : "This address is already a member of the organisation.")
            }
            // A pending invitation of the address is replaced, its unsent message withdrawn.
            let replaced = try await OrganisationInvitation.query(on: db).filter(\.$organisation.$id == organisationID)
                .filter(\.$emailKey == email.canonical).all()
            try await Self.dropQueuedInvitations(to: replaced.map(\.email), of: organisationID, on: db)
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
                                              accountID: nil, on: db)
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

    /// Withdraws a pending invitation of the organisation (404 for another's): its link stops working.
    func cancel(_ invitationID: UUID, of organisation: Organisation, by admin: Account, language: Language) async throws {
        let organisationID = try organisation.requireID()
        try await services.audit.transaction(on: database) { db, audit in
            try await Self.lock(organisationID, admin: admin, on: db)
            guard let invitation = try await OrganisationInvitation.query(on: db).filter(\.$id == invitationID)
                .filter(\.$organisation.$id == organisationID).first() else {
                throw Abort(.notFound, reason: OrganisationWording(language).noSuchInvitation)
            }
            try await invitation.delete(on: db)
            // Its message too, if it is still waiting to go.
            try await Self.dropQueuedInvitations(to: [invitation.email], of: organisationID, on: db)
            audit.record(AuditEvent(action: "organisation.invitation-cancelled", purpose: "account",
                                    details: ["organisation": organisationID.uuidString.lowercased()]), by: admin.subject)
        }
    }

    /// Invitation messages of the organisation to `addresses` not sent yet: withdrawn with
    /// their invitations.
    static func dropQueuedInvitations(to addresses: [String], of organisation: UUID, on db: any Database) async throws {
        guard !addresses.isEmpty else { return }
        try await OutboxMessage.query(on: db).filter(\.$subject == mailSubject(organisation)).filter(\.$recipient ~~ addresses)
            .filter(\.$sentAt == nil).delete()
    }

    /// Deletes invitations past their week, and forgets confirmation links past theirs (run by
    /// the background loop): an address nobody answered for is not kept waiting. Returns how
    /// many invitations went.
    @discardableResult
    static func sweepExpiredInvitations(on database: any Database, now: Date) async throws -> Int {
        try await Organisation.query(on: database).filter(\.$addressTokenHash != nil)
            .filter(\.$addressRequestedAt <= now - OrganisationRules.invitationLifetime).set(\.$addressTokenHash, to: nil).update()
        let expired = try await OrganisationInvitation.query(on: database).filter(\.$expiresAt <= now).count()
        guard expired > 0 else { return 0 }
        try await OrganisationInvitation.query(on: database).filter(\.$expiresAt <= now).delete()
        return expired
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
            try await Self.lock(organisationID, admin: admin, on: db)
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
            // What they set in motion goes with them: the invitations they sent.
            let sent = try await OrganisationInvitation.query(on: db).filter(\.$organisation.$id == organisationID)
                .filter(\.$invitedBy == member.subject).all()
            try await OrganisationInvitation.query(on: db).filter(\.$organisation.$id == organisationID)
                .filter(\.$invitedBy == member.subject).delete()
            try await Self.dropQueuedInvitations(to: sent.map(\.email), of: organisationID, on: db)
            try await member.delete(on: db)
            audit.record(AuditEvent(action: "organisation.member-removed", subject: member.subject, purpose: "account",
                                    details: ["organisation": organisationID.uuidString.lowercased()]), by: admin.subject)
            return ([member.subject] + guarantors, blobs)
        }
        for subject in subjects { try await services.vault.shred(subject) }
        try? await BlobJournal.completeDeletion(of: blobs, blobs: services.blobs, on: database)
    }
}
