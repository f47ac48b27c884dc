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
    @Test func referencesResolve() async throws {
        var encoded = Data()
        try await withDossier(on: .sqlite) { app in
            encoded = OpenAPIDocument.make(APIContext(register: app.dossier.register.register, catalogue: app.dossier.catalogue, today: Date())).encoded()
        }
        let text = String(decoding: encoded, as: UTF8.self)
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        guard case let .object(schemas)? = document["components"]?["schemas"] else {
            Issue.record("no schemas")
            return
        }
        let references = text.components(separatedBy: "\"#/components/schemas/").dropFirst().map { $0.prefix { $0 != "\"" } }
        #expect(!references.isEmpty)
        #expect(references.filter { schemas[String($0)] == nil }.map(String.init) == [])
    }

    /// A path the router knows, asked with a method it does not take: 405 and the methods it
    /// takes; an unknown path is still 404.
    @Test func undeclaredMethodsAre405WithAllow() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.testing().test(.PUT, "api/v1/me/profile") { res in
                #expect(res.status == .methodNotAllowed)
                #expect(res.headers.first(name: .allow) == "GET, HEAD, PATCH")
                let body = try res.content.decode(ErrorBody.self)
                #expect(body.error.code == "method_not_allowed")
            }
            try await app.testing().test(.DELETE, "") { res in
                #expect(res.status == .methodNotAllowed)
                #expect(res.headers.first(name: .allow) == "GET, HEAD")
            }
            try await app.testing().test(.PUT, "api/v1/me/application/members/\(UUID())/documents/\(UUID())/content") { res in
                #expect(res.headers.first(name: .allow) == "GET, HEAD")
            }
            try await app.testing().test(.PUT, "api/v1/nowhere") { res in
                #expect(res.status == .notFound)
            }
        }
    }

    /// A JSON body field the schema does not name is refused (422), and nothing is stored.
    @Test func unknownFieldsAreRefused() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.testing().test(.POST, "api/v1/accounts", beforeRequest: { req in
                try req.content.encode(["email": "unknown.field@example.org", "password": "correct horse battery staple",
                                        "firstName": "Jo", "lastName": "Doe", "role": "admin"])
            }) { res in
                #expect(res.status == .unprocessableEntity)
                let body = try res.content.decode(ErrorBody.self)
                #expect(body.error.fields?.map(\.field) == ["role"])
            }
            #expect(try await Account.query(on: app.db).count() == 0)
        }
    }

    /// The request schemas name exactly the fields the server reads: the profile's from
    /// ProfilePatch's own table, and the patterns agree with TextRules scalar by scalar.
    @Test func schemasComeFromTheRules() async throws {
        try await withDossier(on: .sqlite) { app in
            let context = APIContext(register: app.dossier.register.register, catalogue: app.dossier.catalogue, today: Date())
            #expect(ProfileSchemas.patch(context).propertyNames == Set(ProfilePatch.fields.map(\.name) + ["firstName", "lastName"]))
            #expect(AccountsController.SignUpBody.schema(context).propertyNames == ["email", "password", "firstName", "lastName", "language"])
            #expect(StaffController.ReviewBody.schema(context).propertyNames == ["decision", "reasons", "comment"])
        }
        for multiline in [false, true] {
            let expression = try NSRegularExpression(pattern: TextRules.pattern(multiline: multiline, required: true))
            // The whole Basic Multilingual Plane, and a few scalars beyond it.
            let samples: [Unicode.Scalar] = (Array(0...0xFFFF) + [0x1F600, 0xE0020, 0x1D173]).compactMap(Unicode.Scalar.init)
            for scalar in samples {
                let text = "a\(Character(scalar))b"
                let matches = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
                #expect(matches == !TextRules.hasForbidden(text, multiline: multiline), "U+\(String(scalar.value, radix: 16))")
            }
            for blank in [" ", "\u{3000}", " \u{00A0} ", "\u{200C}", " \u{200D} "] {
                let matches = expression.firstMatch(in: blank, range: NSRange(blank.startIndex..., in: blank)) != nil
                #expect(!matches && TextRules.isBlank(blank))
            }
        }
    }

    /// Every birth date the document's pattern describes is one the profile accepts, and the
    /// profile's empty date clears the field.
    @Test func theBirthDatePatternOnlyDescribesPlausibleDates() throws {
        let today = testEpoch
        let expression = try NSRegularExpression(pattern: ProfilePatch.birthDatePattern(today: today))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let thisYear = calendar.component(.year, from: today)
        var day = calendar.date(byAdding: .year, value: -125, to: today)!
        var described = 0
        while day < today {
            let year = calendar.component(.year, from: day)
            let text = String(format: "%04d-%02d-%02d", year, calendar.component(.month, from: day), calendar.component(.day, from: day))
            let matches = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
            let accepted = (try? ProfilePatch.apply(["birthDate": .string(text)], to: RentalProfile(), language: .en, today: today).get())?.birthDate == text
            // Described ⇒ accepted; and, away from the two boundary years, accepted ⇒ described.
            if matches { #expect(accepted, "\(text)") }
            if accepted, year > thisYear - 121, year < thisYear - 16 { #expect(matches, "\(text)") }
            described += matches ? 1 : 0
            day = calendar.date(byAdding: .day, value: 1, to: day)!
        }
        #expect(described > 35_000)
        for leap in ["2000-02-29", "1996-02-29"] {
            let matches = expression.firstMatch(in: leap, range: NSRange(leap.startIndex..., in: leap)) != nil
            #expect(matches, "\(leap)")
        }
        #expect(expression.firstMatch(in: "1999-02-29", range: NSRange(location: 0, length: 10)) == nil)
        var profile = RentalProfile()
        profile.birthDate = "1990-01-01"
        #expect((try? ProfilePatch.apply(["birthDate": ""], to: profile, language: .en, today: today).get())?.birthDate == nil)
    }
}
