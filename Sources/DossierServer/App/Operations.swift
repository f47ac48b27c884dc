import DossierCore
import Fluent
import Foundation
import Vapor

/// An error the CLI reports as one plain line.
public protocol CommandFailure: Error {
    var message: String { get }
}

extension ValidationFailure: CommandFailure {
    public var message: String { reason }
}

extension Abort: CommandFailure {
    public var message: String { reason }
}

/// What `dossier user create` returns.
public struct CreatedAccount: Sendable {
    public var id: UUID
    public var email: String
}

/// Staff accounts made from the command line.
public enum StaffAccounts {
    public static func create(on app: Application, email: EmailAddress, password: String, firstName: String,
                              lastName: String, role: Role, organisationID: UUID? = nil, organisationAdmin: Bool = false,
                              language: Language) async throws -> CreatedAccount {
        if let organisationID, try await Organisation.find(organisationID, on: app.db) == nil {
            throw Abort(.notFound, reason: "No organisation \(organisationID.uuidString.lowercased()).")
        }
        let service = AccountService(database: app.db, services: app.dossier,
                                     passwords: app.password.async(on: app.threadPool, hopTo: app.eventLoopGroup.next()),
                                     logger: app.logger)
        let account = try await service.createAccount(email: email, password: password, firstName: firstName,
                                                      lastName: lastName, role: role, organisationID: organisationID,
                                                      language: language, actor: "cli")
        if organisationAdmin {
            account.organisationAdmin = true
            try await account.save(on: app.db)
        }
        return CreatedAccount(id: try account.requireID(), email: account.email)
    }
}

/// Recipient organisations made from the command line.
public enum Organisations {
    /// Registers an organisation; with `email`, the links tenants make to that address appear in
    /// its members' inbox.
    public static func create(on app: Application, name: String, kind: OrganisationKind, email: EmailAddress? = nil,
                              language: Language = .fr) async throws -> UUID {
        try await service(app).create(name: name, kind: kind, email: email, actor: "cli", language: language).requireID()
    }

    /// Invites `email` to join the organisation (as an administrator with `admin`): the first
    /// administrator comes this way, the others from the organisation's members page too.
    public static func invite(on app: Application, organisation id: UUID, email: String, admin: Bool, language: Language) async throws {
        guard let organisation = try await Organisation.find(id, on: app.db) else {
            throw Abort(.notFound, reason: "No organisation \(id.uuidString.lowercased()).")
        }
        try await service(app).invite(email, admin: admin, to: organisation, by: nil, language: language)
    }

    /// Sets (or changes) the address tenants share with; a confirmation link is mailed to it.
    public static func setAddress(on app: Application, organisation id: UUID, email: EmailAddress, language: Language) async throws {
        guard let organisation = try await Organisation.find(id, on: app.db) else {
            throw Abort(.notFound, reason: "No organisation \(id.uuidString.lowercased()).")
        }
        try await service(app).setAddress(email, of: organisation, actor: "cli", language: language)
    }

    private static func service(_ app: Application) -> OrganisationService {
        OrganisationService(database: app.db, services: app.dossier, logger: app.logger)
    }
}

/// `dossier audit verify`.
public enum AuditVerification {
    public static func run(on app: Application) async throws -> AuditChain.Verification {
        try await app.dossier.audit.verify(on: app.db)
    }

    /// `dossier audit upgrade`: seals a chain written before the chain was keyed; returns how
    /// many entries. Refused once anything was keyed.
    public static func upgrade(on app: Application) async throws -> Int {
        do {
            return try await app.dossier.audit.upgradeUnkeyedEntries(on: app.db)
        } catch let refused as AuditTrail.UpgradeRefused {
            throw Abort(.conflict, reason: "not upgraded: \(refused.description)")
        }
    }
}
