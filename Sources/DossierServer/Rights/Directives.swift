import DossierCore
import Fluent
import Foundation
import Vapor

/// Post-mortem directives (French Data Protection Act art. 85): what the person wants done with
/// their data after their death, and whom to contact. Sealed with the person's key; staff read
/// them only when handling a post-mortem request about the account, and delete them once
/// carried out (the register keeps them until then). Deleting the account deletes them.
final class DirectiveRecord: Model, @unchecked Sendable {
    static let schema = "directives"
    static let purpose = "rights-requests"
    static let dataCategory = "post-mortem-directives"

    @ID(key: .id) var id: UUID?
    @Parent(key: "account_id") var account: Account
    @Field(key: "subject") var subject: String
    @Field(key: "sealed") var sealed: Data
    @Field(key: "updated_at") var updatedAt: Date

    var properties: [any AnyProperty] { [$id, $account, $subject, $sealed, $updatedAt] }

    init() {}

    static func context(_ subject: String) -> String { "directives:\(subject)" }
}

struct DirectiveService: Sendable {
    let database: any Database
    let services: DossierServices

    init(_ request: Request) {
        self.init(database: request.db, services: request.dossier)
    }

    init(database: any Database, services: DossierServices) {
        self.database = database
        self.services = services
    }

    /// What happens to the data: erased, kept, or handed to the person named.
    enum Choice: String, Codable, Sendable, CaseIterable {
        case erase, keep, communicate
    }

    struct Contact: Content, Equatable {
        var name: String
        var email: String?
    }

    struct Directives: Content, Equatable {
        var choice: String
        var instructions: String
        var contact: Contact?
        var updatedAt: Date?
    }

    static let maximumInstructions = 4000

    func current(of account: Account) async throws -> Directives? {
        guard let row = try await DirectiveRecord.query(on: database).filter(\.$subject == account.subject).first() else { return nil }
        var value = try await services.vault.openJSON(Directives.self, row.sealed, for: row.subject, context: DirectiveRecord.context(row.subject))
        value.updatedAt = row.updatedAt
        return value
    }

    /// Records or replaces the directives; says whether they are new.
    func put(_ account: Account, _ input: Directives, language: Language) async throws -> (Directives, created: Bool) {
        guard Choice(rawValue: input.choice) != nil else {
            throw ValidationFailure(problems: [FieldProblem(field: "choice", message: "Expected one of: erase, keep, communicate.")])
        }
        let instructions = try RequestService.text(input.instructions, field: "instructions", maximum: Self.maximumInstructions, required: false, language: language)
        var contact: Contact?
        if let given = input.contact {
            let name = try RequestService.text(given.name, field: "contact.name", maximum: 200, required: true, multiline: false, language: language)
            var email: String?
            if let typed = given.email {
                guard let address = EmailAddress(typed) else {
                    throw ValidationFailure(problems: [FieldProblem(field: "contact.email", message: "Not an email address.")])
                }
                email = address.value
            }
            contact = Contact(name: name, email: email)
        }
        if input.choice == Choice.communicate.rawValue && contact == nil {
            throw ValidationFailure(problems: [FieldProblem(field: "contact", message: language == .fr
                    ? "Nommez la personne à qui communiquer vos données." : "Name the person your data should be given to.")])
        }
        let value = Directives(choice: input.choice, instructions: instructions, contact: contact, updatedAt: nil)
        let sealed = try await services.vault.sealJSON(value, for: account.subject, context: DirectiveRecord.context(account.subject))
        let now = services.clock.now
        let created = try await services.audit.transaction(on: database) { db, audit -> Bool in
            try await ErasureService.lockAccount(try account.requireID(), on: db)
            let row = try await DirectiveRecord.query(on: db).filter(\.$subject == account.subject).first() ?? DirectiveRecord()
            let created = row.id == nil
            row.$account.id = try account.requireID()
            row.subject = account.subject
            row.sealed = sealed
            row.updatedAt = now
            try await row.save(on: db)
            audit.record(AuditEvent(action: "directives.recorded", subject: account.subject, purpose: DirectiveRecord.purpose), by: account.subject)
            return created
        }
        return (Directives(choice: value.choice, instructions: value.instructions, contact: value.contact, updatedAt: now), created)
    }

    func withdraw(_ account: Account, language: Language) async throws {
        try await services.audit.transaction(on: database) { db, audit in
            guard try await DirectiveRecord.query(on: db).filter(\.$subject == account.subject).count() > 0 else {
                throw Abort(.conflict, reason: language == .fr ? "Vous n'avez pas enregistré de directives." : "You have recorded no directives.")
            }
            try await DirectiveRecord.query(on: db).filter(\.$subject == account.subject).delete()
            audit.record(AuditEvent(action: "directives.withdrawn", subject: account.subject, purpose: DirectiveRecord.purpose), by: account.subject)
        }
    }

    /// Staff handling a post-mortem request read the directives of the account it concerns (audited).
    func forRequest(_ id: UUID, by staff: Account) async throws -> Directives {
        let request = try await RequestService(database: database, services: services).find(id)
        // The heir's request (by email or post), open, its requester's identity verified: the
        // person's own request reads nothing here (they read theirs from their account).
        guard request.right == "post-mortem", request.channel != RequestRules.Channel.account.rawValue, RequestService.mayReachAccount(request),
              let subject = request.accountSubject,
              let row = try await DirectiveRecord.query(on: database).filter(\.$subject == subject).first() else {
            throw Abort(.conflict, reason: "No directives to read: this is not an open post-mortem request, received by email or post, whose requester's identity "
                + "is verified, about an account that recorded directives.")
        }
        try await services.audit.record(AuditEvent(action: "directives.read", subject: subject, purpose: DirectiveRecord.purpose,
                                                   reason: "post-mortem request", details: ["request": request.reference]), by: staff.subject, on: database)
        var value = try await services.vault.openJSON(Directives.self, row.sealed, for: subject, context: DirectiveRecord.context(subject))
        value.updatedAt = row.updatedAt
        return value
    }
}
