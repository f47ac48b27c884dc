import DossierCore
import Fluent
import Foundation
import SQLKit
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

    /// Everything held about an account, read in one statement (`heldRows`): the profile, the
    /// documents with their files, the guarantors, the links, and the small tables (the household,
    /// certificates, the latest connections, the consent ledger, objections, requests,
    /// directives, queued mail, the links' access counts and cached copies, invitations to the
    /// address). The access view lists it (invitations aside: only the erasure uses them); the
    /// erasure erases what it names. Every statement is a round trip: on PostgreSQL, most of
    /// what either costs (`scripts/bench`).
    struct Holdings: Sendable {
        /// A row of the union: what each kind needs of its row, no more.
        struct Row: Sendable {
            var id: UUID
            var at: Date
            /// A request's answer.
            var closed: Date?
            /// A connection's kind, a consent's or objection's purpose, a request's right, a
            /// certificate's subject, a cached copy's blob.
            var text: String?
            /// A consent's action, a request's reference, the link of a cached copy.
            var detail: String?
            /// A consent's position, the number of a link's accesses.
            var number: Int?
        }

        var profile: (row: Profile, fields: RentalProfile)?
        var documents: [DocumentListing]
        var guarantors: [Guarantor]
        var shares: [Share]
        /// By link: how many accesses, and the oldest (`Row.number`, `Row.at`).
        var accesses: [UUID: Row]
        var renditions: [Row]
        var applications: [Row]
        var certificates: [Row]
        /// The latest first, `maximumConnections` at most.
        var connections: [Row]
        /// By position.
        var consents: [Row]
        var objections: [Row]
        var requests: [Row]
        var directives: Row?
        var messages: [Row]
        /// Invitations to join an organisation sent to the account's address (an erasure
        /// deletes them).
        var invitations: [Row]
    }

    func holdings(of account: Account) async throws -> Holdings {
        let accountID = try account.requireID()
        var held = Holdings(profile: nil, documents: [], guarantors: [], shares: [], accesses: [:], renditions: [],
                            applications: [], certificates: [], connections: [], consents: [], objections: [], requests: [],
                            directives: nil, messages: [], invitations: [])
        var stored: Profile?
        // Each row is of one part (see `heldRows`).
        for row in try await heldRows(accountID: accountID, subject: account.subject, emailKey: account.emailKey) {
            if try Self.has(row, "u_kind") {
                let item = Holdings.Row(id: try row.decode(column: "u_id", as: UUID.self), at: try row.decode(column: "u_at", as: Date.self),
                                        closed: try row.decode(column: "u_closed", as: Date?.self),
                                        text: try row.decode(column: "u_text", as: String?.self),
                                        detail: try row.decode(column: "u_detail", as: String?.self),
                                        number: try row.decode(column: "u_number", as: Int?.self))
                switch try row.decode(column: "u_kind", as: String.self) {
                case "application": held.applications.append(item)
                case "certificate": held.certificates.append(item)
                case "connection": held.connections.append(item)
                case "consent": held.consents.append(item)
                case "objection": held.objections.append(item)
                case "request": held.requests.append(item)
                case "directives": held.directives = item
                case "message": held.messages.append(item)
                case "share-accesses": held.accesses[item.id] = item
                case "rendition": held.renditions.append(item)
                case "invitation": held.invitations.append(item)
                default: continue
                }
            } else if try Self.has(row, "d_id") {
                try DocumentListing.collect(row, into: &held.documents)
            } else if try Self.has(row, "s_id") {
                held.shares.append(try PrefixedRow.decode(Share.self, from: row, prefix: "s_"))
            } else if try Self.has(row, "g_id") {
                held.guarantors.append(try PrefixedRow.decode(Guarantor.self, from: row, prefix: "g_"))
            } else if try Self.has(row, "p_id") {
                stored = try PrefixedRow.decode(Profile.self, from: row, prefix: "p_")
            }
        }
        if let stored { held.profile = try await files.opened(stored, of: account) }
        // The parts have no order of their own but the documents'.
        held.guarantors.sort { ($0.createdAt, $0.id?.uuidString ?? "") < ($1.createdAt, $1.id?.uuidString ?? "") }
        held.shares.sort { ($0.createdAt, $0.id?.uuidString ?? "") > ($1.createdAt, $1.id?.uuidString ?? "") }
        held.certificates.sort { $0.at < $1.at }
        held.connections.sort { $0.at > $1.at }
        held.consents.sort { ($0.number ?? 0) < ($1.number ?? 0) }
        held.objections.sort { $0.at < $1.at }
        held.requests.sort { $0.at < $1.at }
        return held
    }

    /// Whether the row is of the part whose never-NULL column is `column` (a row of another part
    /// has it NULL, or not at all).
    private static func has(_ row: any SQLRow, _ column: String) throws -> Bool {
        try row.contains(column: column) && !row.decodeNil(column: column)
    }

    private static let guarantorColumns = PrefixedRow.columns(of: Guarantor.self, table: "g", prefix: "g_")
    private static let shareColumns = PrefixedRow.columns(of: Share.self, table: "s", prefix: "s_")

    /// Everything held, in its parts: the profile, the guarantors, the links, the documents
    /// joined with their files and reviews, and the union of the small tables. On PostgreSQL in
    /// one statement (a round trip each otherwise): the parts side by side, each joined to the
    /// others `ON FALSE`, so that each row is of one part and the others' columns are NULL (a
    /// union would need every part to have the same columns; PostgreSQL plans a full join on a
    /// constant for this very use, as a merge of the parts). On SQLite, in the process, one
    /// statement a part: its full joins would compare every row of a part with every row of
    /// the next.
    private func heldRows(accountID: UUID, subject: String, emailKey: String) async throws -> [any SQLRow] {
        let sql = try database.requireSQL()
        let parts: [(alias: String, query: SQLQueryString)] = [
            ("p", RentalFileService.profileQuery(of: accountID)),
            ("g", """
                SELECT \(unsafeRaw: Self.guarantorColumns) FROM "guarantors" g WHERE g."account_id" = \(bind: accountID)
                """),
            ("s", """
                SELECT \(unsafeRaw: Self.shareColumns) FROM "shares" s WHERE s."account_id" = \(bind: accountID)
                """),
            ("d", RentalFileService.documentsQuery(of: accountID)),
            ("u", unionOfSmallTables(accountID: accountID, subject: subject, emailKey: emailKey)),
        ]
        // A document's rows follow each other (`DocumentListing.collect`).
        let documentOrder = #"ORDER BY d."d_created_at", d."d_id", d."f_position", d."r_created_at""#
        guard sql.dialect.name == "postgresql" else {
            var rows: [any SQLRow] = []
            for part in parts {
                rows += try await sql.raw("""
                    SELECT * FROM (\(part.query)) \(unsafeRaw: part.alias)\(unsafeRaw: part.alias == "d" ? " " + documentOrder : "")
                    """).all()
            }
            return rows
        }
        var joined: SQLQueryString = "SELECT p.*, g.*, s.*, d.*, u.* FROM (\(parts[0].query)) p"
        for part in parts.dropFirst() {
            joined = joined + " FULL JOIN (\(part.query)) \(unsafeRaw: part.alias) ON FALSE"
        }
        // Prepared: its text is the same for every person, and PostgreSQL's parsing and
        // planning of it was half of what it cost.
        return try await PreparedQuery.rows(joined + " \(unsafeRaw: documentOrder)", as: HoldingsRead.self, on: database)
    }

    enum HoldingsRead: PreparedQueryName {
        static let name = "holdings"
    }

    /// The small tables, in one union: what each kind needs of its row, no more.
    private func unionOfSmallTables(accountID: UUID, subject: String, emailKey: String) -> SQLQueryString {
        // NULLs are typed in the first branch, for PostgreSQL's union.
        """
        SELECT 'application' AS "u_kind", m."application_id" AS "u_id", m."joined_at" AS "u_at", CAST(NULL AS TIMESTAMPTZ) AS "u_closed",
               CAST(NULL AS TEXT) AS "u_text", CAST(NULL AS TEXT) AS "u_detail", CAST(NULL AS BIGINT) AS "u_number"
          FROM "application_members" m WHERE m."account_id" = \(bind: accountID)
        UNION ALL SELECT 'certificate', c."id", c."created_at", NULL, c."subject", NULL, NULL
          FROM "certificates" c WHERE c."account_id" = \(bind: accountID)
        UNION ALL SELECT 'connection', e."id", e."occurred_at", NULL, e."kind", NULL, NULL FROM (
            SELECT "id", "occurred_at", CAST("kind" AS TEXT) AS "kind" FROM "connection_events" WHERE "account_id" = \(bind: accountID)
            ORDER BY "occurred_at" DESC LIMIT \(unsafeRaw: String(Self.maximumConnections))) e
        UNION ALL SELECT 'consent', k."id", k."occurred_at", NULL, k."purpose", CAST(k."action" AS TEXT), k."position"
          FROM "consents" k WHERE k."subject" = \(bind: subject)
        UNION ALL SELECT 'objection', o."id", o."occurred_at", NULL, o."purpose", NULL, NULL
          FROM "objections" o WHERE o."subject" = \(bind: subject)
        UNION ALL SELECT 'request', q."id", q."received_at", q."closed_at", q."right_id", q."reference", NULL
          FROM "rights_requests" q WHERE q."account_subject" = \(bind: subject)
        UNION ALL SELECT 'directives', d."id", d."updated_at", NULL, NULL, NULL, NULL
          FROM "directives" d WHERE d."subject" = \(bind: subject)
        UNION ALL SELECT 'message', x."id", x."created_at", NULL, NULL, NULL, NULL
          FROM "outbox_messages" x WHERE x."account_id" = \(bind: accountID)
        UNION ALL SELECT 'share-accesses', a."share_id", MIN(a."occurred_at"), NULL, NULL, NULL, COUNT(*)
          FROM "share_accesses" a JOIN "shares" s ON s."id" = a."share_id" WHERE s."account_id" = \(bind: accountID) GROUP BY a."share_id"
        UNION ALL SELECT 'rendition', r."id", r."created_at", NULL, r."blob_key", NULL, NULL
          FROM "share_renditions" r JOIN "shares" s ON s."id" = r."share_id" WHERE s."account_id" = \(bind: accountID)
        UNION ALL SELECT 'invitation', i."id", i."created_at", NULL, NULL, NULL, NULL
          FROM "organisation_invitations" i WHERE i."email_key" = \(bind: emailKey)
        """
    }

    /// What is held, item by item, from the tables `StoredItems` declares for a tenant.
    func items(of account: Account, language: Language) async throws -> [AccessReport.Item] {
        try await items(of: account, holdings: holdings(of: account), language: language)
    }

    func items(of account: Account, holdings held: Holdings, language: Language) async throws -> [AccessReport.Item] {
        let accountID = try account.requireID()
        let last = account.lastActivityAt
        // Staff's and organisation members' connections and messages are kept for the staff
        // accounts' purpose, a tenant's for their account's.
        let accountPurpose = account.role == .tenant ? "account" : "staff-accounts"
        let words = RightsWording(language)
        let catalogue = services.catalogue
        let register = services.register.register
        var items = [AccessReport.Item(kind: "account", id: accountID.uuidString.lowercased(), label: words.account(account.email),
                                       purpose: accountPurpose,
                                       categories: [account.role == .tenant ? Account.dataCategory : "staff-accounts"],
                                       collectedAt: account.createdAt, lastActivity: last)]
        if let (profile, fields) = held.profile {
            let present = (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(fields)) as? [String: Any]).map { Set($0.keys) } ?? []
            let categories = Set(present.compactMap { RentalProfile.categories[$0] }).union([Account.dataCategory]).sorted()
            items.append(.init(kind: "profile", id: try profile.requireID().uuidString.lowercased(), label: words.profile,
                               purpose: "services", categories: categories, collectedAt: profile.updatedAt, lastActivity: last))
        }
        for document in held.documents {
            items.append(.init(kind: "document", id: document.id.uuidString.lowercased(), label: catalogue.name(of: document.type, in: language),
                               purpose: document.source == .upload ? "services" : "contract-documents", categories: [Document.dataCategory],
                               // Filed by staff: collected when it was received.
                               collectedAt: document.receivedAt ?? document.createdAt, lastActivity: last))
        }
        for guarantor in held.guarantors {
            let name = (try? await files.details(of: guarantor))?.name ?? ""
            items.append(.init(kind: "guarantor", id: try guarantor.requireID().uuidString.lowercased(), label: words.guarantor(name),
                               purpose: "services", categories: [Account.dataCategory], collectedAt: guarantor.createdAt, lastActivity: last))
        }
        for membership in held.applications {
            items.append(.init(kind: "application", id: membership.id.uuidString.lowercased(), label: words.application,
                               purpose: "services", categories: ["personal-life"], collectedAt: membership.at, lastActivity: last))
        }
        for share in held.shares {
            let shareID = try share.requireID()
            let recipient = (try? await shares.details(of: share))?.name ?? ""
            items.append(.init(kind: "share", id: shareID.uuidString.lowercased(), label: words.share(recipient, reference: share.reference),
                               purpose: "services", categories: [Account.dataCategory, Share.dataCategory],
                               collectedAt: share.createdAt, lastActivity: last))
            // Counted from its oldest entry: the first to go.
            if let accesses = held.accesses[shareID], let count = accesses.number, count > 0 {
                items.append(.init(kind: "share-accesses", id: shareID.uuidString.lowercased(),
                                   label: words.accessLog(reference: share.reference, count: count), purpose: "services",
                                   categories: [Share.dataCategory], collectedAt: accesses.at, lastActivity: last))
            }
        }
        for certificate in held.certificates {
            items.append(.init(kind: "certificate", id: certificate.id.uuidString.lowercased(), label: words.certificate,
                               purpose: "services", categories: [Account.dataCategory, "economic-financial", Share.dataCategory],
                               collectedAt: certificate.at, lastActivity: last))
        }
        for event in held.connections {
            items.append(.init(kind: "connection", id: event.id.uuidString.lowercased(), label: words.connection(event.text ?? ""),
                               purpose: account.role == .tenant ? ConnectionEvent.purpose : accountPurpose, categories: [ConnectionEvent.dataCategory],
                               collectedAt: event.at, lastActivity: last))
        }
        // The consent ledger and objections, by pseudonymous subject (they outlive an erasure).
        for (purpose, rows) in Dictionary(grouping: held.consents, by: { $0.text ?? "" }).sorted(by: { $0.key < $1.key }) {
            guard let first = rows.first, let latest = rows.last else { continue }
            let name = register.purpose(purpose)?.name[language] ?? purpose
            let given = latest.detail == ConsentRecord.Action.given.rawValue
            items.append(.init(kind: "consent", id: first.id.uuidString.lowercased(),
                               label: "\(words.consent): \(name) (\(given ? words.consentGiven : words.consentWithdrawn))", purpose: ConsentRecord.purpose,
                               categories: [ConsentRecord.dataCategory], collectedAt: first.at, lastActivity: latest.at))
        }
        for objection in held.objections {
            let purpose = objection.text ?? ""
            let name = register.purpose(purpose)?.name[language] ?? purpose
            items.append(.init(kind: "objection", id: objection.id.uuidString.lowercased(), label: "\(words.objection): \(name)",
                               purpose: ObjectionRecord.purpose, categories: [ObjectionRecord.dataCategory],
                               collectedAt: objection.at, lastActivity: last))
        }
        // Rights requests about the account (kept 5 years from the answer), and directives.
        for request in held.requests {
            let rightID = request.text ?? ""
            let right = register.rights.first { $0.id == rightID }?.name[language] ?? rightID
            items.append(.init(kind: "request", id: request.id.uuidString.lowercased(), label: words.request(request.detail ?? "", right: right),
                               purpose: RightsRequest.purpose, categories: [RightsRequest.dataCategory], collectedAt: request.at,
                               lastActivity: last, processedAt: request.closed))
        }
        if let directives = held.directives {
            items.append(.init(kind: "directives", id: directives.id.uuidString.lowercased(), label: words.directives,
                               purpose: DirectiveRecord.purpose, categories: [DirectiveRecord.dataCategory], collectedAt: directives.at, lastActivity: last))
        }
        for message in held.messages {
            items.append(.init(kind: "message", id: message.id.uuidString.lowercased(), label: words.message,
                               purpose: accountPurpose, categories: [OutboxMessage.dataCategory], collectedAt: message.at, lastActivity: last))
        }
        return items
    }
}
