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
                              lastName: String, role: Role, language: Language) async throws -> CreatedAccount {
        let service = AccountService(database: app.db, services: app.dossier,
                                     passwords: app.password.async(on: app.threadPool, hopTo: app.eventLoopGroup.next()),
                                     logger: app.logger)
        let account = try await service.createAccount(email: email, password: password, firstName: firstName,
                                                      lastName: lastName, role: role, language: language, actor: "cli")
        return CreatedAccount(id: try account.requireID(), email: account.email)
    }
}

/// `dossier audit verify`.
public enum AuditVerification {
    public static func run(on app: Application) async throws -> AuditChain.Verification {
        try await AuditTrail.verify(on: app.db)
    }
}
