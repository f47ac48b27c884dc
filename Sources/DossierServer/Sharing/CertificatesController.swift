import DossierCore
import Fluent
import Vapor

/// File certificates: the tenant's API (issue, list, download, revoke) and the public check at
/// `/verify/{code}`. Both translate to `CertificateService`.
struct CertificatesController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let me = routes.grouped("api", "v1").grouped(BearerAuthMiddleware()).grouped("me")
        me.post("certificates", use: Self.issue).access(.signedIn)
        me.get("certificates", use: Self.list).access(.signedIn)
        me.get("certificates", ":certificate", "certificate.pdf", use: Self.pdf).access(.owner)
        me.delete("certificates", ":certificate", use: Self.revoke).access(.owner)
        routes.get("verify", ":code", use: Self.verify).access(.anyone)
    }

    struct NewCertificateBody: Content {
        var rent: Int?
    }

    struct CertificateBody: Content {
        var id: UUID
        var code: String
        /// Where anyone checks it (its QR code's address).
        var url: String
        /// Where the tenant downloads it.
        var pdf: String
        var rent: Int?
        var status: CertificateStatus
        var issuedAt: Date
        var expiresAt: Date
    }

    static func body(_ record: FileCertificateRecord, _ service: CertificateService) async throws -> CertificateBody {
        let content = try await service.content(of: record)
        let id = try record.requireID()
        return CertificateBody(id: id, code: content.code, url: service.verifyURL(code: content.code),
                               pdf: "/api/v1/me/certificates/\(id.uuidString.lowercased())/certificate.pdf", rent: content.facts.rent,
                               status: try await service.status(of: record), issuedAt: record.createdAt, expiresAt: record.expiresAt)
    }

    static func issue(req: Request) async throws -> Response {
        let account = try req.requireAuthenticated().account
        let input = try req.decodeBody(NewCertificateBody.self, language: account.language)
        let service = CertificateService(req)
        let (record, _) = try await service.issue(for: account, rent: input.rent, language: account.language)
        return try await body(record, service).encodeResponse(status: .created, for: req)
    }

    static func list(req: Request) async throws -> [CertificateBody] {
        let service = CertificateService(req)
        var result: [CertificateBody] = []
        for record in try await service.certificates(of: req.requireAuthenticated().account) {
            result.append(try await body(record, service))
        }
        return result
    }

    static func owned(_ req: Request) async throws -> (FileCertificateRecord, CertificateService, Account) {
        let account = try req.requireAuthenticated().account
        let service = CertificateService(req)
        guard let record = try await service.certificate(try req.parameters.id("certificate"), of: account) else {
            throw Abort(.notFound, reason: "No such certificate.")
        }
        return (record, service, account)
    }

    static func pdf(req: Request) async throws -> Response {
        let (record, service, _) = try await owned(req)
        let pdf = try await service.pdf(of: record)
        return SharesController.pdfResponse(pdf, name: "certificate-\(try record.requireID().uuidString.prefix(8).lowercased()).pdf")
    }

    static func revoke(req: Request) async throws -> HTTPStatus {
        let (record, service, account) = try await owned(req)
        try await service.revoke(record, by: account)
        return .noContent
    }

    struct VerifyPage: Encodable {
        var genuine: Bool
        var status: String
        var message: String
        var issued: String?
        var expires: String?
        /// What the certificate states (without the tenant's name), on request (`?details=1`): to
        /// compare with the document one was given, which could have been altered.
        var facts: [String]?
        var code: String
    }

    /// Whether a code is a genuine certificate's, and where it stands: nothing about the tenant.
    static func verify(req: Request) async throws -> Response {
        let language = req.webLanguage
        let service = CertificateService(req)
        let words = CertificateWording(language)
        let day = ShareWatermark.day(of:)
        let page: VerifyPage
        let status: HTTPResponseStatus
        if let record = try await service.verify(code: req.parameters.get("code") ?? "", client: req.clientAddress, language: language) {
            let state = try await service.status(of: record)
            var facts: [String]?
            if (try? req.query.get(String.self, at: "details")) == "1" {
                let content = try await service.content(of: record)
                let catalogue = req.dossier.catalogue
                facts = words.statedFacts(content.facts) { catalogue.name(of: $0, in: language) }
            }
            page = VerifyPage(genuine: true, status: state.rawValue, message: words.status(state), issued: day(record.createdAt),
                              expires: day(record.expiresAt), facts: facts, code: req.parameters.get("code") ?? "")
            status = .ok
        } else {
            page = VerifyPage(genuine: false, status: "unknown", message: words.status(nil), issued: nil, expires: nil, facts: nil, code: "")
            status = .notFound
        }
        let response = try await req.page("certificate", titleKey: "certificateCheck", body: page, status: status, language: language)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        response.headers.replaceOrAdd(name: "Referrer-Policy", value: "no-referrer")
        response.headers.replaceOrAdd(name: "X-Robots-Tag", value: "noindex, nofollow")
        return response
    }
}

extension CertificatesController.NewCertificateBody: APIRequestBody {
    static func schema(_ context: APIContext) -> Schema {
        .object([
            .optional("rent", .nullable(.integer(CertificateFacts.rentRange))
                .described("A monthly rent in euros: the certificate then states the household income's ratio to it (null or absent: none)")),
        ])
    }
}
