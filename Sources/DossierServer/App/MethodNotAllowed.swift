import Vapor

/// The methods each path answers, so that a request with a method the path does not take gets
/// 405 with an `Allow` header (RFC 9110 §15.5.6) rather than the 404 of a path that does not
/// exist. Built once from the route table, after every route is registered.
final class AllowedMethods: @unchecked Sendable {
    // Immutable after `init`: read-only lookups from any thread.
    private let router: TrieRouter<[HTTPMethod]>
    /// The root, which a trie cannot hold (it has no component).
    private let root: [HTTPMethod]

    init(routes: Routes) {
        var byPath: [String: (path: [PathComponent], methods: Set<String>)] = [:]
        for route in routes.all {
            // Parameters renamed alike: two methods may name the same segment differently
            // (`:member`, `:partner`), which one trie cannot hold; only the methods matter here.
            let path = route.path.filter { $0 != .constant("") }.map { component -> PathComponent in
                if case .parameter = component { return .parameter("_") }
                return component
            }
            byPath[path.string, default: (path, [])].methods.insert(route.method.rawValue)
        }
        router = TrieRouter([HTTPMethod].self, options: routes.caseInsensitive ? [.caseInsensitive] : [])
        var root: [HTTPMethod] = []
        for (_, entry) in byPath {
            // Vapor answers HEAD wherever it answers GET.
            let methods = entry.methods.union(entry.methods.contains("GET") ? ["HEAD"] : []).sorted().map { HTTPMethod(rawValue: $0) }
            if entry.path.isEmpty { root = methods } else { router.register(methods, at: entry.path) }
        }
        self.root = root
    }

    /// The methods the path takes; empty when no route has this path.
    func methods(forPath path: String) -> [HTTPMethod] {
        let components = path.split(separator: "/").map(String.init)
        if components.isEmpty { return root }
        var parameters = Parameters()
        return router.route(path: components, parameters: &parameters) ?? []
    }
}

extension Application {
    private struct AllowedMethodsKey: StorageKey { typealias Value = AllowedMethods }

    /// Set once the routes are registered (``DossierApp``).
    var allowedMethods: AllowedMethods? {
        get { storage[AllowedMethodsKey.self] }
        set { storage[AllowedMethodsKey.self] = newValue }
    }
}

/// Answers 405 and `Allow` for a known path asked with a method it does not take.
struct MethodNotAllowedMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard request.route == nil, let allowed = request.application.allowedMethods?.methods(forPath: request.url.path),
              !allowed.isEmpty
        else { return try await next.respond(to: request) }
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        throw Abort(.methodNotAllowed, headers: ["Allow": list], reason: "This address takes \(list) only.")
    }
}
