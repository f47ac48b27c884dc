@testable import DossierServer
import DossierCore
import Foundation
import Testing
import VaporTesting

@Suite("OpenAPI document")
struct OpenAPITests {
    /// Every registered route is described, and nothing else is.
    @Test func describesExactlyTheRegisteredRoutes() async throws {
        try await withDossier(on: .sqlite) { app in
            let registered = Set(app.routes.all.map { route in
                let path = route.path.map { component -> String in
                    switch component {
                    case let .parameter(name): "{\(name)}"
                    default: component.description
                    }
                }.joined(separator: "/")
                return "\(route.method.rawValue) /\(path)"
            })
            try await app.testing().test(.GET, "openapi.json") { res in
                #expect(res.status == .ok)
                let document = try JSONDecoder().decode(JSONValue.self, from: Data(res.body.readableBytesView))
                #expect(document["openapi"] == "3.1.0")
                guard case let .object(paths)? = document["paths"] else {
                    Issue.record("no paths")
                    return
                }
                let described = Set(paths.flatMap { path, item -> [String] in
                    guard case let .object(operations) = item else { return [] }
                    return operations.keys.map { "\($0.uppercased()) \(path)" }
                })
                #expect(described.subtracting(registered).sorted() == [], "described but not routed")
                #expect(registered.subtracting(described).sorted() == [], "routed but not described")
            }
        }
    }

    /// Every `$ref` points at a schema that exists.
    @Test func referencesResolve() throws {
        let text = String(decoding: OpenAPIDocument.make(registerVersion: "x").encoded(), as: UTF8.self)
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        guard case let .object(schemas)? = document["components"]?["schemas"] else {
            Issue.record("no schemas")
            return
        }
        let references = text.components(separatedBy: "\"#/components/schemas/").dropFirst().map { $0.prefix { $0 != "\"" } }
        #expect(!references.isEmpty)
        #expect(references.filter { schemas[String($0)] == nil }.map(String.init) == [])
    }
}
