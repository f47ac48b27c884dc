import Vapor

/// `GET /.well-known/gpc.json`: the Global Privacy Control support statement (the GPC
/// specification's "GPC support resource"). How Dossier honours the signal: a person who signs
/// in from a browser sending `Sec-GPC: 1` objects, by automated means (GDPR Art. 21(5)), to the
/// register's direct-marketing purposes (`ConsentService.honourGlobalPrivacyControl`); Dossier
/// sells no data, and this build sets no advertising or measurement cookie. `lastUpdate` is the
/// day the register in force took effect.
struct GPCController: RouteCollection {
    struct Support: Content {
        var gpc: Bool
        var lastUpdate: String
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get(".well-known", "gpc.json", use: Self.support).access(.anyone)
    }

    static func support(req: Request) async throws -> Response {
        let support = Support(gpc: true, lastUpdate: req.register.effectiveDate)
        let response = try await support.encodeResponse(for: req)
        response.headers.cacheControl = .init(isPublic: true, maxAge: 86_400)
        return response
    }
}
