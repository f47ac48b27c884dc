import Vapor

/// Who may call a route, declared where the route is registered (`.access(…)`), in one place
/// per route. The server refuses to start with a route that has none, and the authorization
/// matrix (`AuthorizationMatrixTests`) calls every route as every role, with ids that belong to
/// someone else, and holds each route to its declaration.
enum RouteAccess: String, Sendable, Hashable, CaseIterable {
    /// Anyone, signed in or not: public pages, sign-up and sign-in, the policy, health.
    case anyone
    /// Any signed-in account, on its own data only (no id of anyone else in the path).
    case signedIn
    /// The signed-in owner of what the path names (a document, a guarantor, a member of their
    /// application); anyone else gets the 404 that a missing one gets.
    case owner
    /// A couple partner of the account the path names, once let in; anyone else gets the 404.
    case partner
    /// Staff: operators, the DPO, administrators. Tenants get 403.
    case staff
    /// Whoever holds a share link: the token in the path is the credential, whoever is signed
    /// in; an unknown token answers 404, a revoked or expired one 410.
    case linkHolder
    /// A member of a recipient organisation (administrators too), on its inbox: a file shared
    /// with another address answers as a missing one. Anyone else gets 403.
    case organisationMember
    /// An administrator of a recipient organisation, on its members: someone of another
    /// organisation answers as a missing one. Anyone else gets 403.
    case organisationAdmin
}

extension Route {
    private static let accessKey = "dossier.access"

    /// Declares who may call the route.
    @discardableResult
    func access(_ access: RouteAccess) -> Route {
        userInfo[Self.accessKey] = access
        return self
    }

    /// Who may call the route; nil when undeclared (the server then refuses to start).
    var declaredAccess: RouteAccess? { userInfo[Self.accessKey] as? RouteAccess }

    /// `METHOD /path`, as the router writes it.
    var signature: String { "\(method.rawValue) /" + path.map(\.description).joined(separator: "/") }
}

enum RouteAccessCheck {
    /// The routes with no declared access.
    static func undeclared(in routes: Routes) -> [String] {
        routes.all.filter { $0.declaredAccess == nil }.map(\.signature).sorted()
    }
}

extension Parameters {
    /// The id a path names: a UUID, else 404, as for an id that names nothing (whoever asks
    /// learns nothing more from a malformed id than from a missing one).
    func id(_ name: String) throws -> UUID {
        guard let text = get(name), let id = UUID(uuidString: text) else {
            throw Abort(.notFound, reason: "Not found.")
        }
        return id
    }
}
