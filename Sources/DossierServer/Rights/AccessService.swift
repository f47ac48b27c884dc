import DossierCore
import Fluent
import Foundation
import Vapor

/// The right of access (GDPR Art. 15): every item Dossier holds about the signed-in person,
/// listed from the database, each explained by the register (`AccessReport`): its purpose and
/// legal bases, its data categories, its recipients, and when it will be deleted or archived.
/// The API (`GET /api/v1/me/access`) and the page (`/account/data`) share it.
struct AccessService: Sendable {
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

    var files: RentalFileService { RentalFileService(database: database, services: services, logger: logger) }
    var shares: ShareService { ShareService(database: database, services: services, logger: logger) }

    /// Connection-log entries listed at most (the register keeps them 6 months).
    static let maximumConnections = 1000

    struct Report: Sendable {
        var generatedAt: Date
        var entries: [AccessReport.Entry]
    }

    func report(for account: Account, language: Language) async throws -> Report {
        let items = try await items(of: account, language: language)
        return Report(generatedAt: services.clock.now,
                      entries: AccessReport.entries(items, register: services.register.register, language: language,
                                                    subject: account.role == .tenant ? "tenant" : nil))
    }

    /// What is held, item by item, from the tables `StoredItems` declares for a tenant.
    func items(of account: Account, language: Language) async throws -> [AccessReport.Item] {
        let accountID = try account.requireID()
        let last = account.lastActivityAt
        // Staff's and organisation members' connections and messages are kept for the staff
        // accounts' purpose, a tenant's for their account's.
        let accountPurpose = account.role == .tenant ? "account" : "staff-accounts"
        let words = RightsWording(language)
        let catalogue = services.catalogue
        var items = [AccessReport.Item(kind: "account", id: accountID.uuidString.lowercased(), label: words.account(account.email),
                                       purpose: accountPurpose,
                                       categories: [account.role == .tenant ? Account.dataCategory : "staff-accounts"],
                                       collectedAt: account.createdAt, lastActivity: last)]
        if let profile = try await Profile.query(on: database).filter(\.$account.$id == accountID).first() {
            let fields = try await files.profile(of: account)
            let present = (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(fields)) as? [String: Any]).map { Set($0.keys) } ?? []
            let categories = Set(present.compactMap { RentalProfile.categories[$0] }).union([Account.dataCategory]).sorted()
            items.append(.init(kind: "profile", id: try profile.requireID().uuidString.lowercased(), label: words.profile,
                               purpose: "services", categories: categories, collectedAt: profile.updatedAt, lastActivity: last))
        }
        for document in try await files.documents(of: account) {
            items.append(.init(kind: "document", id: document.id.uuidString.lowercased(), label: catalogue.name(of: document.type, in: language),
                               purpose: document.source == .upload ? "services" : "contract-documents", categories: [Document.dataCategory],
                               // Filed by staff: collected when it was received.
                               collectedAt: document.receivedAt ?? document.createdAt, lastActivity: last))
        }
        for guarantor in try await files.guarantors(of: account) {
            let name = (try? await files.details(of: guarantor))?.name ?? ""
            items.append(.init(kind: "guarantor", id: try guarantor.requireID().uuidString.lowercased(), label: words.guarantor(name),
                               purpose: "services", categories: [Account.dataCategory], collectedAt: guarantor.createdAt, lastActivity: last))
        }
        for membership in try await ApplicationMember.query(on: database).filter(\.$account.$id == accountID).all() {
            items.append(.init(kind: "application", id: membership.$application.id.uuidString.lowercased(), label: words.application,
                               purpose: "services", categories: ["personal-life"], collectedAt: membership.joinedAt, lastActivity: last))
        }
        for share in try await shares.shares(of: account) {
            let shareID = try share.requireID()
            let recipient = (try? await shares.details(of: share))?.name ?? ""
            items.append(.init(kind: "share", id: shareID.uuidString.lowercased(), label: words.share(recipient, reference: share.reference),
                               purpose: "services", categories: [Account.dataCategory, Share.dataCategory],
                               collectedAt: share.createdAt, lastActivity: last))
            let accesses = try await ShareAccess.query(on: database).filter(\.$share.$id == shareID).count()
            // Counted from its oldest entry: the first to go.
            if accesses > 0, let oldest = try await ShareAccess.query(on: database).filter(\.$share.$id == shareID).sort(\.$occurredAt).first() {
                items.append(.init(kind: "share-accesses", id: shareID.uuidString.lowercased(),
                                   label: words.accessLog(reference: share.reference, count: accesses), purpose: "services",
                                   categories: [Share.dataCategory], collectedAt: oldest.occurredAt, lastActivity: last))
            }
        }
        for certificate in try await FileCertificateRecord.query(on: database).filter(\.$account.$id == accountID).sort(\.$createdAt).all() {
            items.append(.init(kind: "certificate", id: try certificate.requireID().uuidString.lowercased(), label: words.certificate,
                               purpose: "services", categories: [Account.dataCategory, "economic-financial", Share.dataCategory],
                               collectedAt: certificate.createdAt, lastActivity: last))
        }
        for event in try await ConnectionEvent.query(on: database).filter(\.$account.$id == accountID).sort(\.$occurredAt, .descending)
            .limit(Self.maximumConnections).all() {
            items.append(.init(kind: "connection", id: try event.requireID().uuidString.lowercased(), label: words.connection(event.kind.rawValue),
                               purpose: account.role == .tenant ? ConnectionEvent.purpose : accountPurpose, categories: [ConnectionEvent.dataCategory],
                               collectedAt: event.occurredAt, lastActivity: last))
        }
        // The consent ledger and objections, by pseudonymous subject (they outlive an erasure).
        let ledger = try await ConsentRecord.query(on: database).filter(\.$subject == account.subject).sort(\.$position).all()
        for (purpose, rows) in Dictionary(grouping: ledger, by: \.purpose).sorted(by: { $0.key < $1.key }) {
            guard let first = rows.first, let last = rows.last else { continue }
            let name = services.register.register.purpose(purpose)?.name[language] ?? purpose
            items.append(.init(kind: "consent", id: try first.requireID().uuidString.lowercased(),
                               label: "\(words.consent): \(name) (\(last.action == .given ? words.consentGiven : words.consentWithdrawn))", purpose: ConsentRecord.purpose,
                               categories: [ConsentRecord.dataCategory], collectedAt: first.occurredAt, lastActivity: last.occurredAt))
        }
        for objection in try await ObjectionRecord.query(on: database).filter(\.$subject == account.subject).sort(\.$occurredAt).all() {
            let name = services.register.register.purpose(objection.purpose)?.name[language] ?? objection.purpose
            items.append(.init(kind: "objection", id: try objection.requireID().uuidString.lowercased(), label: "\(words.objection): \(name)",
                               purpose: ObjectionRecord.purpose, categories: [ObjectionRecord.dataCategory],
                               collectedAt: objection.occurredAt, lastActivity: last))
        }
        // Rights requests about the account (kept 5 years from the answer), and directives.
        for request in try await RightsRequest.query(on: database).filter(\.$accountSubject == account.subject).sort(\.$receivedAt).all() {
            let right = services.register.register.rights.first { $0.id == request.right }?.name[language] ?? request.right
            items.append(.init(kind: "request", id: try request.requireID().uuidString.lowercased(), label: words.request(request.reference, right: right),
                               purpose: RightsRequest.purpose, categories: [RightsRequest.dataCategory], collectedAt: request.receivedAt,
                               lastActivity: last, processedAt: request.closedAt))
        }
        if let directives = try await DirectiveRecord.query(on: database).filter(\.$subject == account.subject).first() {
            items.append(.init(kind: "directives", id: try directives.requireID().uuidString.lowercased(), label: words.directives,
                               purpose: DirectiveRecord.purpose, categories: [DirectiveRecord.dataCategory], collectedAt: directives.updatedAt, lastActivity: last))
        }
        for message in try await OutboxMessage.query(on: database).filter(\.$account.$id == accountID).all() {
            items.append(.init(kind: "message", id: try message.requireID().uuidString.lowercased(), label: words.message,
                               purpose: accountPurpose, categories: [OutboxMessage.dataCategory], collectedAt: message.createdAt, lastActivity: last))
        }
        return items
    }
}
