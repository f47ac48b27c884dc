@testable import DossierServer
import DossierCore
import Fluent
import Foundation
import Testing
import VaporTesting

/// The browser flow through the server: cookies, CSRF tokens, forms and redirects.
@Suite("Web pages")
struct WebTests {
    /// A browser's cookie jar, kept between requests.
    final class Browser: @unchecked Sendable {
        var cookies: [String: String] = [:]

        var cookieHeader: HTTPHeaders {
            cookies.isEmpty ? [:] : ["Cookie": cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")]
        }

        func keep(_ response: TestingHTTPResponse) {
            for header in response.headers[.setCookie] {
                let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
                cookies[String(pair[0])] = pair.count > 1 ? String(pair[1]) : ""
            }
        }

        func csrf(in html: String) -> String? {
            guard let range = html.range(of: "name=\"csrf\" value=\"") else { return nil }
            return String(html[range.upperBound...].prefix { $0 != "\"" })
        }

        func form(_ fields: [String: String]) -> String {
            fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        }
    }

    @Test(arguments: TestDatabase.all)
    func signUpInTheBrowserThenSignOut(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            let browser = Browser()
            var csrf = ""
            try await app.testing().test(.GET, "signup?lang=en") { res in
                #expect(res.status == .ok)
                browser.keep(res)
                csrf = try #require(browser.csrf(in: res.body.string))
                #expect(browser.cookies["dossier_csrf"] == csrf)
                let setCookie = res.headers[.setCookie].joined()
                #expect(setCookie.contains("HttpOnly"))
                #expect(setCookie.contains("SameSite=Strict"))
                // Mandatory fields come from the register and are marked.
                #expect(res.body.string.contains("First name *"))
            }
            // A bad form comes back with the values kept and each field's message.
            var headers = browser.cookieHeader
            headers.contentType = .urlEncodedForm
            try await app.testing().test(.POST, "signup?lang=en", headers: headers,
                                         body: .init(string: browser.form(["csrf": csrf, "email": "jane@example", "password": "short", "firstName": "Jane", "lastName": "Doe", "language": "en"]))) { res in
                #expect(res.status == .unprocessableEntity)
                #expect(res.body.string.contains("Not a valid email address."))
                #expect(res.body.string.contains("value=\"Jane\""))
            }
            try await app.testing().test(.POST, "signup?lang=en", headers: headers,
                                         body: .init(string: browser.form(["csrf": csrf, "email": "jane@example.org", "password": "correct horse battery staple", "firstName": "Jane", "lastName": "Doe", "language": "en"]))) { res in
                // The same page whether or not the address had an account: no session yet.
                #expect(res.status == .created)
                #expect(res.body.string.contains("If this address can be used, a message was just sent to it"))
                #expect(!res.headers[.setCookie].contains { $0.hasPrefix("dossier_session=") })
            }
            try await app.testing().test(.POST, "signin", headers: headers,
                                         body: .init(string: browser.form(["csrf": csrf, "email": "jane@example.org", "password": "correct horse battery staple"]))) { res in
                #expect(res.status == .seeOther)
                browser.keep(res)
                let session = res.headers[.setCookie].first { $0.hasPrefix("dossier_session=") } ?? ""
                #expect(session.contains("HttpOnly"))
                #expect(session.contains("SameSite=Lax"))
            }
            // The kind is part of the session's lookup: the browser's token is no API token.
            let webToken = try #require(browser.cookies["dossier_session"])
            try await app.testing().test(.GET, "api/v1/me", headers: ["Authorization": "Bearer \(webToken)"]) { res in
                #expect(res.status == .unauthorized)
            }
            var sessionToken = ""
            try await app.testing().test(.GET, "account", headers: browser.cookieHeader) { res in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("Hello Jane"))
                #expect(res.body.string.contains("id=\"not-verified\""))
                #expect(res.body.string.contains("<td>sign-in</td><td>success</td>"))
                sessionToken = try #require(browser.csrf(in: res.body.string))
            }
            // Signed in, forms carry a token bound to the session: the cookie's no longer counts.
            #expect(sessionToken != csrf)
            var signOut = browser.cookieHeader
            signOut.contentType = .urlEncodedForm
            try await app.testing().test(.POST, "signout", headers: signOut, body: .init(string: browser.form(["csrf": csrf]))) { res in
                #expect(res.status == .forbidden)
            }
            try await app.testing().test(.POST, "signout", headers: signOut, body: .init(string: browser.form(["csrf": sessionToken]))) { res in
                #expect(res.status == .seeOther)
                browser.keep(res)
            }
            try await app.testing().test(.GET, "account", headers: browser.cookieHeader) { res in
                #expect(res.status == .seeOther)
                #expect(res.headers.first(name: .location) == "/signin")
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func formsWithoutTheCSRFTokenAreRefused(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp()
            let browser = Browser()
            var csrf = ""
            try await app.testing().test(.GET, "signin") { res in
                browser.keep(res)
                csrf = try #require(browser.csrf(in: res.body.string))
            }
            let credentials = ["email": "jane.doe@example.org", "password": "correct horse battery staple"]
            // No token, a wrong token, or a token without its cookie (another site's form): 403, no session.
            let attempts: [(HTTPHeaders, [String: String])] = [
                (browser.cookieHeader, credentials),
                (browser.cookieHeader, credentials.merging(["csrf": String(repeating: "x", count: 43)]) { $1 }),
                ([:], credentials.merging(["csrf": csrf]) { $1 }),
            ]
            for (cookies, fields) in attempts {
                var headers = cookies
                headers.contentType = .urlEncodedForm
                try await app.testing().test(.POST, "signin", headers: headers, body: .init(string: browser.form(fields))) { res in
                    #expect(res.status == .forbidden)
                    #expect(!res.headers[.setCookie].contains { $0.hasPrefix("dossier_session=") })
                }
            }
            var headers = browser.cookieHeader
            headers.contentType = .urlEncodedForm
            try await app.testing().test(.POST, "signin", headers: headers,
                                         body: .init(string: browser.form(credentials.merging(["csrf": csrf]) { $1 }))) { res in
                #expect(res.status == .seeOther)
                #expect(res.headers[.setCookie].contains { $0.hasPrefix("dossier_session=") })
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func multipartUploadsNeedTheCSRFTokenToo(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp(verified: true)
            let (browser, csrf, _) = try await app.browserSignedIn()
            // The token travels in the query (the body is read only after the check); a token in
            // the multipart body alone no longer counts.
            for (query, field) in [(nil, nil), (nil, csrf), ("wrong-token-wrong-token-wrong-token-x", nil), (csrf, nil)] as [(String?, String?)] {
                var form = MultipartBody()
                if let field { form.field("csrf", field) }
                form.field("type", "tax-notice")
                form.file(fileName: "avis.pdf", type: "application/pdf", bytes: try upload("payslip.pdf"))
                var multipart = browser.cookieHeader
                multipart.replaceOrAdd(name: .contentType, value: form.headers.first(name: .contentType)!)
                try await app.testing().test(.POST, "file/documents" + (query.map { "?csrf=\($0)" } ?? ""), headers: multipart, body: form.body) { res in
                    #expect(res.status == (query == csrf ? .seeOther : .forbidden))
                }
            }
            let stored = try await Document.query(on: app.db).count()
            #expect(stored == 1)
        }
    }

    @Test func verificationLinkOpensInTheBrowser() async throws {
        try await withDossier(on: .sqlite) { app in
            try await app.signUp()
            let message = try await app.outboxTexts().first ?? ""
            let verify = try #require(link(in: message, startingWith: "http://127.0.0.1:8080/verify-email?token="))
            let path = String(verify.dropFirst("http://127.0.0.1:8080/".count))
            let browser = Browser()
            var csrf = ""
            // Opening the link (as a mail scanner would) confirms nothing: it asks.
            try await app.testing().test(.GET, path) { res in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("id=\"verify-form\""))
                browser.keep(res)
                csrf = try #require(browser.csrf(in: res.body.string))
            }
            #expect(try await Account.query(on: app.db).first()?.emailVerifiedAt == nil)
            var headers = browser.cookieHeader
            headers.contentType = .urlEncodedForm
            let form = browser.form(["csrf": csrf, "token": try #require(token(of: verify))])
            try await app.testing().test(.POST, "verify-email?lang=en", headers: headers, body: .init(string: form)) { res in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("Thank you, your email address is confirmed."))
            }
            try await app.testing().test(.POST, "verify-email?lang=en", headers: headers, body: .init(string: form)) { res in
                #expect(res.status == .gone)
            }
            try await app.testing().test(.POST, "verify-email", headers: headers,
                                         body: .init(string: browser.form(["csrf": csrf, "token": "nonsense"]))) { res in
                #expect(res.status == .notFound)
            }
        }
    }

    @Test(arguments: ["/", "/signin", "/signup", "/password/forgot", "/password/reset?token=x", "/privacy"])
    func pagesRenderInBothLanguages(path: String) async throws {
        try await withDossier(on: .sqlite) { app in
            for (language, marker) in [("fr", "lang=\"fr\""), ("en", "lang=\"en\"")] {
                let separator = path.contains("?") ? "&" : "?"
                try await app.testing().test(.GET, String(path.dropFirst()) + "\(separator)lang=\(language)") { res in
                    #expect(res.status == .ok)
                    #expect(res.body.string.contains(marker))
                }
            }
        }
    }

    /// A browser that opens an address with no page gets a page in its language (with the
    /// page's title and language, a way back); a client of the API gets its JSON error.
    @Test func anUnknownAddressAnswersAPageToABrowserAndJSONToTheAPI() async throws {
        try await withDossier(on: .sqlite) { app in
            for (language, title, text) in [("en", "Page not found", "There is no page at this address"),
                                             ("fr", "Page introuvable", "Aucune page ne se trouve à cette adresse")] {
                try await app.testing().test(.GET, "sign-up?lang=\(language)", headers: ["Accept": "text/html,application/xhtml+xml,*/*;q=0.8"]) { res in
                    #expect(res.status == .notFound)
                    #expect(res.headers.contentType?.subType == "html")
                    let html = res.body.string
                    #expect(html.contains("lang=\"\(language)\"") && html.contains("<title>\(title)") && html.contains(text), "\(html)")
                    #expect(html.contains("href=\"/?lang=\(language)\""))
                }
            }
            // What a page refuses keeps its status, with its reason on the page.
            try await app.testing().test(.GET, "staff/reviews?lang=en", headers: ["Accept": "text/html"]) { res in
                #expect(res.status.code >= 300)
            }
            // JSON to whoever does not ask for HTML by name, or refuses it (q=0), or asks for JSON first.
            for (path, accept) in [("sign-up", "application/json"), ("api/v1/nothing", "text/html"), ("sign-up", "*/*"),
                                   ("sign-up", "text/html;q=0, */*"), ("sign-up", "text/html;q=0.5, application/json")] {
                try await app.testing().test(.GET, path, headers: ["Accept": accept]) { res in
                    #expect(res.status == .notFound)
                    #expect((try? res.content.decode(ErrorBody.self))?.error.code == "not_found", "\(path) \(accept)")
                    // Kept by no cache, and cached apart from the page by Accept.
                    #expect(res.headers[.cacheControl] == ["no-store"])
                    #expect(res.headers[.vary].contains("Accept"))
                }
            }
            // A form a browser sends gets a page too (a script asking for JSON, JSON).
            try await app.testing().test(.POST, "sign-up?lang=en", headers: ["Accept": "text/html,*/*;q=0.8"]) { res in
                #expect(res.status == .notFound)
                #expect(res.headers.contentType?.subType == "html")
                #expect(res.body.string.contains("Page not found"))
                #expect(res.headers[.vary].contains("Accept"))
            }
            try await app.testing().test(.POST, "sign-up", headers: ["Accept": "application/json;q=0, text/html"]) { res in
                #expect(res.headers.contentType?.subType == "html")
            }
            try await app.testing().test(.POST, "sign-up", headers: ["Accept": "application/json"]) { res in
                #expect(res.status == .notFound)
                #expect(res.headers.contentType == .json)
            }
            // A busy server's words are ours to show, on the page as in JSON, with its Retry-After;
            // any other failure of ours is not described.
            app.post("test-busy") { _ -> String in throw UploadGate.Busy(status: .serviceUnavailable, reason: "Busy: try again in a few seconds.") }
            app.post("test-failure") { _ -> String in throw Abort(.internalServerError, reason: "database password is hunter2") }
            for accept in ["text/html", "application/json"] {
                try await app.testing().test(.POST, "test-busy?lang=en", headers: ["Accept": accept]) { res in
                    #expect(res.status == .serviceUnavailable)
                    #expect(res.headers.first(name: "Retry-After") == "5")
                    #expect(res.body.string.contains("Busy: try again in a few seconds."), "\(accept)")
                }
                try await app.testing().test(.POST, "test-failure?lang=en", headers: ["Accept": accept]) { res in
                    #expect(res.status == .internalServerError)
                    #expect(!res.body.string.contains("hunter2"))
                }
            }
        }
    }

    /// Every word a template shows (`t.key`) exists in both languages: a missing one renders
    /// as nothing (a button without a name, as the staff's "Decline" once was).
    @Test func everyLabelATemplateUsesExistsInBothLanguages() throws {
        let views = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/DossierServer/Resources/Views")
        let templates = try FileManager.default.contentsOfDirectory(at: views, includingPropertiesForKeys: nil).filter { $0.pathExtension == "leaf" }
        #expect(templates.count > 20)
        let pattern = try Regex(#"\bt\.([A-Za-z0-9_]+)"#)
        for language in Language.allCases {
            let labels = WebWording.labels(language)
            for template in templates {
                let text = try String(contentsOf: template, encoding: .utf8)
                for match in text.matches(of: pattern) {
                    let key = String(text[match.range].dropFirst(2))
                    #expect(labels[key]?.isEmpty == false, "\(template.lastPathComponent) shows t.\(key), which \(language) does not have")
                }
            }
        }
    }
}
