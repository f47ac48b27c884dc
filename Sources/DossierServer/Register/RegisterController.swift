import DossierCore
import Vapor

/// The register as data: JSON, and the Art. 30 record as CSV and DPV JSON-LD.
struct RegisterController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let register = routes.grouped("api", "v1", "register")
        register.get(use: Self.json).access(.anyone)
        register.get("record.csv", use: Self.csv).access(.anyone)
        register.get("record.jsonld", use: Self.jsonLD).access(.anyone)
    }

    /// `GET /api/v1/register`
    static func json(req: Request) async throws -> Response {
        let body = try RegisterJSON.encode(req.register)
        return response(body, type: "application/json; charset=utf-8", req: req)
    }

    /// `GET /api/v1/register/record.csv?lang=fr|en`
    static func csv(req: Request) async throws -> Response {
        let language = try req.policyLanguage()
        let text = ProcessingRecord.csv(req.register, language: language, capabilities: req.capabilities)
        let response = response(Data(text.utf8), type: "text/csv; charset=utf-8; header=present", req: req)
        response.headers.replaceOrAdd(
            name: .contentDisposition,
            value: "attachment; filename=\"record-of-processing-\(req.register.version)-\(language.rawValue).csv\""
        )
        return response
    }

    /// `GET /api/v1/register/record.jsonld?lang=fr|en`
    static func jsonLD(req: Request) async throws -> Response {
        let document = DPVRecord.document(req.register, language: try req.policyLanguage(), capabilities: req.capabilities)
        return response(document.encoded(), type: "application/ld+json; charset=utf-8", req: req)
    }

    /// A response tagged with the register's digest, so clients can cache it until it changes.
    private static func response(_ body: Data, type: String, req: Request) -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: type)
        headers.replaceOrAdd(name: .eTag, value: "\"\(req.dossier.register.digest)\"")
        return Response(status: .ok, headers: headers, body: .init(data: body))
    }
}
