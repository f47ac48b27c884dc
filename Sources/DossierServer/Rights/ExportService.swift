import DossierCore
import Fluent
import Foundation
import Vapor

/// The right to data portability (GDPR Art. 20): one ZIP of everything the person provided and
/// the service recorded about them, in formats other software reads. `data.json` (described by
/// `data.schema.json`, in the ZIP and in the repository as `docs/export.schema.json`), CSV files
/// for the tabular parts, and the original documents, decrypted for their owner. The API
/// (`GET /api/v1/me/export`) and the page (`/account/export`) share it.
struct ExportService: Sendable {
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

    // MARK: data.json

    struct ExportedData: Codable, Sendable {
        struct AccountData: Codable, Sendable {
            var id: UUID
            var email: String
            var firstName: String
            var lastName: String
            var language: Language
            var createdAt: Date
            var emailVerifiedAt: Date?
            var lastActivityAt: Date
        }

        struct GuarantorData: Codable, Sendable {
            var id: UUID
            var kind: PersonKind
            var name: String
            var email: String?
            var phone: String?
            var createdAt: Date
        }

        struct ApplicationData: Codable, Sendable {
            var id: UUID
            var kind: ApplicationKind
            var joinedAt: Date
            var approved: Bool
        }

        struct DocumentData: Codable, Sendable {
            struct FileData: Codable, Sendable {
                var position: Int
                var name: String
                var kind: String
                var size: Int
                /// Where the file is in the ZIP.
                var path: String
            }

            struct ReviewData: Codable, Sendable {
                var decision: String
                var reasons: [String]
                var comment: String?
                var at: Date
            }

            var id: UUID
            var type: String
            var category: String
            var guarantorId: UUID?
            var status: String
            var source: String
            var receivedAt: Date?
            var createdAt: Date
            var files: [FileData]
            var reviews: [ReviewData]
        }

        struct ShareData: Codable, Sendable {
            struct Recipient: Codable, Sendable {
                var name: String
                var email: String
                var kind: RecipientKind
            }

            struct AccessData: Codable, Sendable {
                var at: Date
                var action: String
                var documentId: UUID?
                var documentType: String?
                var viewer: String?
            }

            var id: UUID
            var reference: String
            var recipient: Recipient
            var purpose: String
            var wholeFile: Bool
            var documentIds: [UUID]
            var state: ShareState
            var createdAt: Date
            var expiresAt: Date
            var accesses: [AccessData]
        }

        struct CertificateData: Codable, Sendable {
            var id: UUID
            var issuedAt: Date
            var expiresAt: Date
            var revoked: Bool
        }

        struct ConnectionData: Codable, Sendable {
            var at: Date
            var kind: String
            var outcome: String
            var ipAddress: String
            var userAgent: String
        }

        struct ConsentData: Codable, Sendable {
            var purpose: String
            var action: String
            var at: Date
            var policyVersion: String
            var source: String
        }

        struct ObjectionData: Codable, Sendable {
            var purpose: String
            var outcome: String
            var at: Date
        }

        struct RequestData: Codable, Sendable {
            var reference: String
            var right: String
            var channel: String
            var status: String
            var receivedAt: Date
            var dueDay: String
            var details: String
            var answer: String?
            var closedAt: Date?
        }

        var format: String
        var version: Int
        var generatedAt: Date
        var account: AccountData
        var profile: RentalProfile
        var guarantors: [GuarantorData]
        var applications: [ApplicationData]
        var documents: [DocumentData]
        var shares: [ShareData]
        var certificates: [CertificateData]
        var connections: [ConnectionData]
        var consents: [ConsentData]
        var objections: [ObjectionData]
        var requests: [RequestData]
        var directives: DirectiveService.Directives?
    }

    static let format = "dossier-export"
    /// 2: consents, objections, requests and post-mortem directives.
    static let version = 2

    /// Exports an account may make in an hour (each decrypts every document).
    static let perHour = 10

    /// The ZIP, made in memory. At most `perHour` an hour (429 beyond; the export is counted
    /// before the check, so a parallel burst is counted too), one at a time per account and two
    /// in all (`DossierServices.exports`).
    func archive(for account: Account, language: Language) async throws -> Data {
        let now = services.clock.now
        let ledger = ThrottleLedger(database: database)
        let key = ThrottleLedger.Key("export", account.subject)
        try await ledger.record([key], at: now)
        guard try await ledger.times(key, since: now - 3600).count <= Self.perHour else {
            throw Throttled(retryAfter: 3600, message: RightsWording(language).tooManyExports(Self.perHour))
        }
        return try await services.exports.admit(try account.requireID(), language: language) {
            try await make(for: account, now: now)
        }
    }

    private func make(for account: Account, now: Date) async throws -> Data {
        let accountID = try account.requireID()
        var zip = ZipArchive()
        var documents: [ExportedData.DocumentData] = []
        for document in try await files.documents(of: account) {
            var exported: [ExportedData.DocumentData.FileData] = []
            let stored = Dictionary(try await DocumentFile.query(on: database).filter(\.$document.$id == document.id).all().map { ($0.id, $0) }) { first, _ in first }
            for (file, name) in try await files.namedFiles(of: document) {
                let path = "documents/\(document.id.uuidString.lowercased())/\(file.position)-\(Self.safeName(name))"
                guard let stored = stored[file.id] else { continue }
                let opened = try await files.open(stored, of: document.subject)
                defer { opened.close() }
                var data = Data(capacity: file.size)
                while let piece = try opened.next() { data.append(piece) }
                try zip.add(path, data, date: document.createdAt)
                exported.append(.init(position: file.position, name: name, kind: file.kind, size: data.count, path: path))
            }
            documents.append(.init(id: document.id, type: document.type, category: document.category, guarantorId: document.guarantorID,
                                   status: document.status.rawValue, source: document.source.rawValue, receivedAt: document.receivedAt,
                                   createdAt: document.createdAt, files: exported,
                                   reviews: document.reviews.map { .init(decision: $0.decision.rawValue, reasons: $0.reasonIDs, comment: $0.comment, at: $0.createdAt) }))
        }
        var guarantors: [ExportedData.GuarantorData] = []
        for guarantor in try await files.guarantors(of: account) {
            let details = try await files.details(of: guarantor)
            guarantors.append(.init(id: try guarantor.requireID(), kind: guarantor.kind, name: details.name, email: details.email, phone: details.phone,
                                    createdAt: guarantor.createdAt))
        }
        var applications: [ExportedData.ApplicationData] = []
        for membership in try await ApplicationMember.query(on: database).filter(\.$account.$id == accountID).with(\.$application).all() {
            applications.append(.init(id: membership.$application.id, kind: membership.application.kind, joinedAt: membership.joinedAt,
                                      approved: membership.approvedAt != nil))
        }
        var exportedShares: [ExportedData.ShareData] = []
        for share in try await shares.shares(of: account) {
            let details = try await shares.details(of: share)
            var accesses: [ExportedData.ShareData.AccessData] = []
            for access in try await shares.accesses(of: share, limit: 100_000) {
                let viewer = try await shares.viewer(of: access, share: share)
                accesses.append(.init(at: access.occurredAt, action: access.action.rawValue, documentId: access.documentID, documentType: access.documentType,
                                      viewer: viewer.map { "\($0.name) (\($0.organisation))" }))
            }
            exportedShares.append(.init(id: try share.requireID(), reference: share.reference,
                                        recipient: .init(name: details.name, email: details.email, kind: share.recipientKind),
                                        purpose: details.purpose, wholeFile: share.wholeFile,
                                        documentIds: share.wholeFile ? [] : try await shares.chosenDocuments(of: share),
                                        state: share.state(at: now), createdAt: share.createdAt, expiresAt: share.expiresAt, accesses: accesses))
        }
        let certificates = try await FileCertificateRecord.query(on: database).filter(\.$account.$id == accountID).sort(\.$createdAt).all().map {
            ExportedData.CertificateData(id: try $0.requireID(), issuedAt: $0.createdAt, expiresAt: $0.expiresAt, revoked: $0.revokedAt != nil)
        }
        let connections = try await ConnectionEvent.query(on: database).filter(\.$account.$id == accountID).sort(\.$occurredAt).all().map {
            ExportedData.ConnectionData(at: $0.occurredAt, kind: $0.kind.rawValue, outcome: $0.outcome.rawValue, ipAddress: $0.ipAddress, userAgent: $0.userAgent)
        }
        let consents = try await ConsentRecord.query(on: database).filter(\.$subject == account.subject).sort(\.$purpose).sort(\.$position).all().map {
            ExportedData.ConsentData(purpose: $0.purpose, action: $0.action.rawValue, at: $0.occurredAt, policyVersion: $0.policyVersion, source: $0.source)
        }
        let objections = try await ObjectionRecord.query(on: database).filter(\.$subject == account.subject).sort(\.$occurredAt).all().map {
            ExportedData.ObjectionData(purpose: $0.purpose, outcome: $0.outcome, at: $0.occurredAt)
        }
        let requestService = RequestService(database: database, services: services)
        var requests: [ExportedData.RequestData] = []
        for row in try await RightsRequest.query(on: database).filter(\.$accountSubject == account.subject).sort(\.$receivedAt).all() {
            let payload = try await requestService.payload(of: row)
            requests.append(.init(reference: row.reference, right: row.right, channel: row.channel, status: row.status, receivedAt: row.receivedAt,
                                  dueDay: row.dueDay, details: payload.details, answer: payload.answer, closedAt: row.closedAt))
        }
        let directives = try await DirectiveService(database: database, services: services).current(of: account)
        let data = ExportedData(format: Self.format, version: Self.version, generatedAt: now,
                                account: .init(id: accountID, email: account.email, firstName: account.firstName, lastName: account.lastName,
                                               language: account.language, createdAt: account.createdAt, emailVerifiedAt: account.emailVerifiedAt,
                                               lastActivityAt: account.lastActivityAt),
                                profile: try await files.profile(of: account), guarantors: guarantors, applications: applications,
                                documents: documents, shares: exportedShares, certificates: certificates, connections: connections,
                                consents: consents, objections: objections, requests: requests, directives: directives)
        try zip.add("data.json", try Self.encoder.encode(data), date: now)
        try zip.add("data.schema.json", Self.schemaDocument(register: services.register.register, catalogue: services.catalogue), date: now)
        try zip.add("documents.csv", Self.csv(["id", "type", "category", "status", "source", "received_at", "created_at", "files"],
                                                documents.map { [$0.id.uuidString.lowercased(), $0.type, $0.category, $0.status, $0.source,
                                                                 $0.receivedAt.map(Self.timestamp) ?? "", Self.timestamp($0.createdAt), String($0.files.count)] }), date: now)
        try zip.add("share-accesses.csv", Self.csv(["share_id", "reference", "at", "action", "document_id", "document_type", "viewer"],
                                                     exportedShares.flatMap { share in share.accesses.map {
                                                         [share.id.uuidString.lowercased(), share.reference, Self.timestamp($0.at), $0.action,
                                                          $0.documentId?.uuidString.lowercased() ?? "", $0.documentType ?? "", $0.viewer ?? ""]
                                                     } }), date: now)
        try zip.add("consents.csv", Self.csv(["purpose", "action", "at", "policy_version", "source"],
                                               consents.map { [$0.purpose, $0.action, Self.timestamp($0.at), $0.policyVersion, $0.source] }), date: now)
        try zip.add("connections.csv", Self.csv(["at", "kind", "outcome", "ip_address", "user_agent"],
                                                  connections.map { [Self.timestamp($0.at), $0.kind, $0.outcome, $0.ipAddress, $0.userAgent] }), date: now)
        let count = documents.count
        try await services.audit.transaction(on: database) { _, audit in
            audit.record(AuditEvent(action: "data.exported", subject: account.subject, purpose: "account",
                                    details: ["documents": String(count)]), by: account.subject)
        }
        return try zip.finished()
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func csv(_ header: [String], _ rows: [[String]]) -> Data { Data(CSV.table(header, rows).utf8) }

    static func timestamp(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// A file's original name as a ZIP path segment: no separators, no control characters.
    static func safeName(_ name: String) -> String {
        let cleaned = String(name.unicodeScalars.map { scalar -> Character in
            "/\\:*?\"<>|".unicodeScalars.contains(scalar) || scalar.properties.generalCategory == .control
                || scalar.properties.generalCategory == .format ? "_" : Character(scalar)
        })
        var trimmed = cleaned.trimmingCharacters(in: .whitespaces)
        // At most 120 bytes, cut between characters.
        while trimmed.utf8.count > 120 { trimmed.removeLast() }
        return trimmed.isEmpty || trimmed == "." || trimmed == ".." ? "file" : trimmed
    }

    // MARK: data.schema.json

    /// The JSON Schema of `data.json` (2020-12), built from the same rules as the API's.
    static func schema(register: Register, catalogue: DocumentCatalogue) -> Schema {
        let text = Schema.text
        let recipientKinds = ShareRules.recipients(in: register).map(\.kind.rawValue)
        return .object([
            .required("format", .constant(format)),
            .required("version", .integer(version...version)),
            .required("generatedAt", .dateTime),
            .required("account", .object([
                .required("id", .uuid), .required("email", text), .required("firstName", text), .required("lastName", text),
                .required("language", .choice(Language.allCases.map(\.rawValue))), .required("createdAt", .dateTime),
                .optional("emailVerifiedAt", .dateTime), .required("lastActivityAt", .dateTime),
            ])),
            .required("profile", ProfileSchemas.stored.described("The tenant profile, as on GET /api/v1/me/profile")),
            .required("guarantors", .array(.object([
                .required("id", .uuid), .required("kind", .choice(PersonKind.allCases.map(\.rawValue))), .required("name", text),
                .optional("email", text), .optional("phone", text), .required("createdAt", .dateTime),
            ]))),
            .required("applications", .array(.object([
                .required("id", .uuid), .required("kind", .choice(ApplicationKind.allCases.map(\.rawValue))),
                .required("joinedAt", .dateTime), .required("approved", .boolean),
            ]))),
            .required("documents", .array(.object([
                .required("id", .uuid), .required("type", .choice(catalogue.categories.flatMap(\.types).map(\.id))),
                .required("category", text), .optional("guarantorId", .uuid),
                .required("status", .choice(Document.Status.allCases.map(\.rawValue))),
                .required("source", .choice(Document.Source.allCases.map(\.rawValue))),
                .optional("receivedAt", .dateTime), .required("createdAt", .dateTime),
                .required("files", .array(.object([
                    .required("position", .integer()), .required("name", text), .required("kind", .choice(FileInspector.Kind.allCases.map(\.rawValue))),
                    .required("size", .integer()), .required("path", text.described("Where the original file is in this ZIP")),
                ]))),
                .required("reviews", .array(.object([
                    .required("decision", .choice(["validated", "declined"])), .required("reasons", .array(text)),
                    .optional("comment", text), .required("at", .dateTime),
                ]))),
            ]))),
            .required("shares", .array(.object([
                .required("id", .uuid), .required("reference", text),
                .required("recipient", .object([.required("name", text), .required("email", text), .required("kind", .choice(recipientKinds))])),
                .required("purpose", text), .required("wholeFile", .boolean), .required("documentIds", .array(.uuid)),
                .required("state", .choice(ShareState.allCases.map(\.rawValue))),
                .required("createdAt", .dateTime), .required("expiresAt", .dateTime),
                .required("accesses", .array(.object([
                    .required("at", .dateTime), .required("action", .choice(ShareAccess.Action.allCases.map(\.rawValue))),
                    .optional("documentId", .uuid), .optional("documentType", text),
                    .optional("viewer", text.described("Through a recipient organisation's inbox: the member, and the organisation")),
                ]))),
            ]))),
            .required("certificates", .array(.object([
                .required("id", .uuid), .required("issuedAt", .dateTime), .required("expiresAt", .dateTime), .required("revoked", .boolean),
            ]))),
            .required("connections", .array(.object([
                .required("at", .dateTime), .required("kind", .choice(ConnectionEvent.Kind.allCases.map(\.rawValue))),
                .required("outcome", .choice(ConnectionEvent.Outcome.allCases.map(\.rawValue))),
                .required("ipAddress", text), .required("userAgent", text),
            ]))),
            .required("consents", .array(.object([
                .required("purpose", text), .required("action", .choice(["given", "withdrawn"])), .required("at", .dateTime),
                .required("policyVersion", text.described("The register's version the person saw")),
                .required("source", .choice(["account", "objection", "erasure"])),
            ])).described("The consent ledger, purpose by purpose, in order")),
            .required("objections", .array(.object([
                .required("purpose", text), .required("outcome", .choice(["upheld", "to-review", "refused"])), .required("at", .dateTime),
            ]))),
            .required("requests", .array(.object([
                .required("reference", text), .required("right", text), .required("channel", .choice(RequestRules.Channel.allCases.map(\.rawValue))),
                .required("status", .choice(RequestRules.Status.allCases.map(\.rawValue))), .required("receivedAt", .dateTime),
                .required("dueDay", .string(format: "date")), .required("details", text), .optional("answer", text), .optional("closedAt", .dateTime),
            ])).described("Rights requests about the account")),
            .optional("directives", .object([
                .required("choice", .choice(DirectiveService.Choice.allCases.map(\.rawValue))), .required("instructions", text),
                .optional("contact", .object([.required("name", text), .optional("email", text)])), .optional("updatedAt", .dateTime),
            ]).described("Post-mortem directives, if recorded")),
        ])
    }

    /// The schema as a document of its own (`$schema`, `$id`, title), pretty-printed.
    static func schemaDocument(register: Register, catalogue: DocumentCatalogue) -> Data {
        guard case var .object(fields) = schema(register: register, catalogue: catalogue).json else { return Data() }
        fields["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        fields["$id"] = .string("https://dossier.example/schemas/export-v\(version).json")
        fields["title"] = "Dossier: a person's data export (data.json)"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(JSONValue.object(fields))) ?? Data()
    }
}
