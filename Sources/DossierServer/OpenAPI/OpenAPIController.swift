import Vapor

/// `GET /openapi.json`
struct OpenAPIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("openapi.json", use: Self.document).access(.anyone)
    }

    static func document(req: Request) async throws -> Response {
        let body = OpenAPIDocument.make(req.apiContext).encoded()
        return Response(status: .ok, headers: ["Content-Type": "application/json; charset=utf-8"], body: .init(data: body))
    }
}
