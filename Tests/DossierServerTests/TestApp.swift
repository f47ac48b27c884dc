@testable import DossierServer
import Fluent
import DossierCore
import DossierTestSupport
import Foundation
import SQLKit
import Testing
import VaporTesting

/// The databases every storage test runs on: SQLite always, PostgreSQL too when `DATABASE_URL`
/// names one (CI starts a real server; see .ci/run).
enum TestDatabase: CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres(url: String)

    static var all: [TestDatabase] {
        let url = ProcessInfo.processInfo.environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        return [.sqlite] + (url.map { [.postgres(url: $0)] } ?? [])
    }

    var testDescription: String {
        switch self {
        case .sqlite: "SQLite"
        case .postgres: "PostgreSQL"
        }
    }
}

/// A configured, migrated application on `database`, private to one test: an in-memory SQLite
/// database, or a PostgreSQL schema of its own that is dropped afterwards.
func withDossier(
    on database: TestDatabase,
    registerPath: String? = nil,
    clock: any WallClock = SystemClock(),
    configure: (inout DossierConfiguration) -> Void = { _ in },
    _ body: (Application) async throws -> Void
) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-test-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    var configuration = DossierConfiguration(dataDirectory: directory, registerPath: registerPath)
    // The lowest bcrypt cost: the tests check the rules, not the hashing's strength.
    configuration.passwordCost = 4
    // No padding of answers' time in tests (SecurityReviewTests checks the padding itself).
    configuration.uniformAnswerTime = .zero
    configure(&configuration)
    let schema = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    switch database {
    case .sqlite:
        configuration.inMemoryDatabase = true
    case let .postgres(url):
        configuration.databaseURL = url
        configuration.databaseSchema = schema
        // The key store in a schema of its own (in production, a database of its own).
        configuration.keysURL = url
        configuration.keysSchema = schema + "_keys"
    }
    let app = try await Application.make(.testing)
    do {
        try await DossierApp.configure(app, configuration, clock: clock)
        if case .postgres = database, let sql = app.db as? any SQLDatabase {
            try await sql.raw("CREATE SCHEMA \(ident: schema)").run()
            try await sql.raw("CREATE SCHEMA \(ident: schema + "_keys")").run()
        }
        try await DossierApp.migrate(app)
        try await body(app)
    } catch {
        try? await dropSchema(schema, of: database, on: app)
        try? await app.asyncShutdown()
        throw error
    }
    try await dropSchema(schema, of: database, on: app)
    try await app.asyncShutdown()
}

/// An application on `configuration` (its files on disk, as a real server's), configured, then
/// migrated (or only its storage, as `dossier keys rotate` does), used, and shut down.
func withFileApp(_ configuration: DossierConfiguration, storageOnly: Bool = false,
                 _ body: (Application) async throws -> Void) async throws {
    let app = try await Application.make(.testing)
    do {
        try await DossierApp.configure(app, configuration)
        if storageOnly {
            try await DossierApp.migrateStorage(app)
        } else {
            try await DossierApp.migrate(app)
        }
        try await body(app)
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
    try await app.asyncShutdown()
}

private func dropSchema(_ schema: String, of database: TestDatabase, on app: Application) async throws {
    guard case .postgres = database, let sql = app.db as? any SQLDatabase else { return }
    try await sql.raw("DROP SCHEMA IF EXISTS \(ident: schema) CASCADE").run()
    try await sql.raw("DROP SCHEMA IF EXISTS \(ident: schema + "_keys") CASCADE").run()
}

/// A temporary file holding `text`, removed by the caller.
func temporaryFile(_ text: String, named name: String = "register.yaml") throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-file-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
}

/// The JSON error body every failure answers with.
struct ErrorBody: Decodable {
    struct Detail: Decodable {
        struct Field: Decodable {
            var field: String
            var message: String
        }
        var code: String
        var message: String
        var fields: [Field]?
    }
    var error: Detail
}

/// A fixed starting instant for tests that move the clock.
let testEpoch = Date(timeIntervalSince1970: 1_800_000_000)

extension Application {
    /// Signs up a tenant through the API; returns the account id (read from the database: the
    /// answer does not say whether an account was made). With `verified`, follows the emailed link.
    @discardableResult
    func signUp(email: String = "jane.doe@example.org", password: String = "correct horse battery staple",
                firstName: String = "Jane", lastName: String = "Doe", language: String = "en", verified: Bool = false) async throws -> UUID {
        try await testing().test(.POST, "api/v1/accounts", beforeRequest: { req in
            try req.content.encode(["email": email, "password": password, "firstName": firstName, "lastName": lastName, "language": language])
        }, afterResponse: { res in
            #expect(res.status == .created, "sign-up: \(res.body.string)")
        })
        let key = try #require(EmailAddress(email)).canonical
        let account = try #require(try await Account.query(on: db).filter(\.$emailKey == key).first())
        if verified { try await verifyAddress(of: account) }
        return try account.requireID()
    }

    /// Follows the newest verification link sent to the account.
    func verifyAddress(of account: Account) async throws {
        let texts = try await outboxTexts(to: account.email)
        let verifyLink = try #require(texts.reversed().lazy.compactMap { link(in: $0, startingWith: "http://127.0.0.1:8080/verify-email?token=") }.first)
        try await testing().test(.POST, "api/v1/accounts/verify", beforeRequest: { req in
            try req.content.encode(["token": try #require(token(of: verifyLink))])
        }, afterResponse: { res in #expect(res.status == .ok, "verify: \(res.body.string)") })
    }

    /// The text of every message in the outbox not yet delivered (delivered ones are erased),
    /// oldest first, optionally only those to `recipient`; those sealed under a shredded key are
    /// unreadable for good and left out.
    func outboxTexts(to recipient: String? = nil) async throws -> [String] {
        var texts: [String] = []
        for message in try await outbox() where recipient == nil || message.recipient == recipient {
            do {
                texts.append(try await dossier.outbox.text(of: message, on: db))
            } catch is KeyVault.Shredded {
                continue
            }
        }
        return texts
    }

    /// Signs in through the API; returns the bearer token.
    func signIn(email: String = "jane.doe@example.org", password: String = "correct horse battery staple") async throws -> String {
        var token: String?
        try await testing().test(.POST, "api/v1/sessions", beforeRequest: { req in
            try req.content.encode(["email": email, "password": password])
        }, afterResponse: { res in
            #expect(res.status == .created, "sign-in: \(res.body.string)")
            token = try? res.content.decode(SessionsController.SessionBody.self).token
        })
        return try #require(token)
    }

    /// Every message waiting in or sent from the outbox, oldest first.
    func outbox() async throws -> [OutboxMessage] {
        try await OutboxMessage.query(on: db).sort(\.$createdAt).all()
    }
}

/// The link in a message's text that starts with `prefix`, e.g. "http://127.0.0.1:8080/verify-email".
func link(in message: String, startingWith prefix: String) -> String? {
    message.components(separatedBy: .whitespacesAndNewlines).first { $0.hasPrefix(prefix) }
}

/// The `token` query value of a link.
func token(of link: String) -> String? {
    URLComponents(string: link)?.queryItems?.first { $0.name == "token" }?.value
}

/// A multipart/form-data body: text fields, then files.
struct MultipartBody {
    let boundary = "dossier-test-\(UUID().uuidString)"
    var data = Data()

    mutating func field(_ name: String, _ value: String) {
        data += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }

    mutating func file(_ name: String = "file", fileName: String, type: String, bytes: Data) {
        data += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(fileName)\"\r\nContent-Type: \(type)\r\n\r\n".utf8)
        data += bytes
        data += Data("\r\n".utf8)
    }

    var body: ByteBuffer {
        var buffer = ByteBuffer(data: data)
        buffer.writeString("--\(boundary)--\r\n")
        return buffer
    }

    var headers: HTTPHeaders {
        ["Content-Type": "multipart/form-data; boundary=\(boundary)"]
    }
}

extension Application {
    /// Uploads through the API; returns the response for the test to check.
    func upload(token: String, type: String, files: [(name: String, type: String, bytes: Data)], guarantor: UUID? = nil,
                path: String = "api/v1/me/documents", fields: [String: String] = [:],
                _ check: (TestingHTTPResponse) async throws -> Void) async throws {
        var form = MultipartBody()
        form.field("type", type)
        if let guarantor { form.field("guarantor", guarantor.uuidString) }
        for (name, value) in fields { form.field(name, value) }
        for file in files { form.file(fileName: file.name, type: file.type, bytes: file.bytes) }
        var headers = form.headers
        headers.bearerAuthorization = .init(token: token)
        try await testing().test(.POST, path, headers: headers, body: form.body) { res in try await check(res) }
    }
}

func upload(_ name: String) throws -> Data {
    try Data(contentsOf: Fixtures.url("uploads/\(name)"))
}

extension Application {
    /// A browser signed in through the sign-in form, with the token its signed-in forms carry
    /// (and the anonymous one the sign-in form carried).
    func browserSignedIn(email: String = "jane.doe@example.org", password: String = "correct horse battery staple")
        async throws -> (browser: WebTests.Browser, csrf: String, anonymousCSRF: String) {
        let browser = WebTests.Browser()
        var anonymous = ""
        try await testing().test(.GET, "signin") { res in
            browser.keep(res)
            anonymous = try #require(browser.csrf(in: res.body.string))
        }
        var headers = browser.cookieHeader
        headers.contentType = .urlEncodedForm
        try await testing().test(.POST, "signin", headers: headers,
                                 body: .init(string: browser.form(["csrf": anonymous, "email": email, "password": password]))) { res in
            #expect(res.status == .seeOther, "sign-in: \(res.body.string)")
            browser.keep(res)
        }
        var csrf = ""
        try await testing().test(.GET, "file", headers: browser.cookieHeader) { res in
            csrf = try #require(browser.csrf(in: res.body.string))
        }
        return (browser, csrf, anonymous)
    }
}
