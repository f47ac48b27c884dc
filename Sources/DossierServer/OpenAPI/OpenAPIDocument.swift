import DossierCore
import Foundation

/// The OpenAPI 3.1 description of every route, built from the types and rules the server
/// enforces: request bodies from their ``APIRequestBody`` schemas (the server refuses fields
/// they do not name), limits from the validators' constants, enumerations from the Swift enums,
/// document types and reasons from the catalogue, mandatory names from the register.
///
/// It is checked, not trusted: a test keeps its operations equal to the router's,
/// `openapi-spec-validator` checks it, and schemathesis (Tests/Robustness/test_api_schema.py)
/// sends thousands of generated requests and holds every answer to it: status documented,
/// content type, body schema (response objects are closed: an undocumented field fails).
enum OpenAPIDocument {
    static func make(_ context: APIContext) -> JSONValue {
        let builder = Builder(context: context)
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Dossier",
                "version": "1",
                "description": .string("Tenants' rental files with an executable privacy policy. Register version \(context.register.version)."),
            ],
            "paths": .object(builder.paths),
            "components": [
                "schemas": .object(builder.components.mapValues(\.json)),
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "description": "Token from POST /api/v1/sessions"]],
            ],
        ]
    }
}

/// One operation's answers: status → (description, media type → schema).
private struct Answer {
    var description: String
    var content: [String: Schema] = [:]

    static func json(_ description: String, _ schema: Schema) -> Answer { Answer(description: description, content: ["application/json": schema]) }
    static func error(_ description: String) -> Answer { .json(description, .ref("Error")) }
    static func empty(_ description: String) -> Answer { Answer(description: description) }

    var json: JSONValue {
        var answer: [String: JSONValue] = ["description": .string(description)]
        if !content.isEmpty {
            answer["content"] = .object(content.mapValues { ["schema": $0.json] })
        }
        return .object(answer)
    }
}

private struct Builder {
    let context: APIContext

    // MARK: Operations

    /// A JSON API operation. Adds the answers every such operation can give: 401 when it needs
    /// a token; 400, 413, 415 and 422 when it reads a JSON body; 400 and 404 when its path
    /// names something by id.
    func api(_ summary: String, body: Schema? = nil, auth: Bool = false, parameters: [JSONValue] = [],
             _ answers: [Int: Answer]) -> JSONValue {
        var all = answers
        if auth { all[401] = all[401] ?? .error("Not signed in, or the token expired") }
        if body != nil {
            all[400] = all[400] ?? .error("Not a JSON object, or a field of the wrong type")
            all[413] = all[413] ?? .error("Body over 16 kB")
            all[415] = all[415] ?? .error("Not JSON")
            all[422] = all[422] ?? .error("A field is invalid or unknown: one message per field in error.fields")
        }
        if parameters.contains(where: { $0["in"] == "path" && $0["schema"]?["format"] == "uuid" }) {
            all[404] = all[404] ?? .error("No such thing, not yours, or not an id: the same answer")
        }
        if parameters.contains(where: { $0["in"] == "query" }) {
            all[400] = all[400] ?? .error("An invalid query parameter")
        }
        var operation: [String: JSONValue] = [
            "summary": .string(summary),
            "responses": .object(Dictionary(uniqueKeysWithValues: all.map { (String($0.key), $0.value.json) })),
        ]
        if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
        if let body {
            operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": body.json]]]
        }
        if auth { operation["security"] = [["bearer": []]] }
        return .object(operation)
    }

    /// An operation of the web pages: its answer (`status`: a page, or JSON for a script), a
    /// redirect, and anything else as a page or a JSON error (`failure` says which).
    func web(_ summary: String, body: (type: String, schema: Schema)? = nil, answer: (status: Int, answer: Answer),
             redirect: String, failure: String, parameters: [JSONValue]) -> JSONValue {
        let failure = Answer(description: failure, content: ["text/html": .text, "application/json": .ref("Error")])
        var operation: [String: JSONValue] = [
            "summary": .string(summary),
            "responses": [String(answer.status): answer.answer.json, "303": Answer.empty(redirect).json, "default": failure.json],
        ]
        if let body { operation["requestBody"] = ["required": true, "content": .object([body.type: ["schema": body.schema.json]])] }
        if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
        return .object(operation)
    }

    /// A browser page: HTML, a redirect (to sign in, or after a form), or an error page.
    func page(_ summary: String, parameters: [JSONValue] = []) -> JSONValue {
        web(summary, answer: (200, Answer(description: "HTML page", content: ["text/html": .text])),
            redirect: "Redirect (to sign in when the page needs it)", failure: "A page or JSON error saying what went wrong", parameters: parameters)
    }

    /// A file a browser downloads (a PDF, a ZIP), or a page saying why not.
    func download(_ summary: String, type: String = "application/pdf", parameters: [JSONValue] = []) -> JSONValue {
        web(summary, answer: (200, Answer(description: "The file", content: [type: Schema.string(format: "binary")])),
            redirect: "Redirect (to sign in when it needs it)", failure: "A page or JSON error saying what went wrong", parameters: parameters)
    }

    /// A form a page posts, with its CSRF token (a browser's cookie session, not the API's token).
    func form(_ summary: String, fields: [String], parameters: [JSONValue] = []) -> JSONValue {
        web(summary, body: ("application/x-www-form-urlencoded", .object((["csrf"] + fields).map { .required($0, .text) }, closed: false)),
            answer: (200, Answer(description: "The page again, with what to fix", content: ["text/html": .text])),
            redirect: "Done: redirect", failure: "The CSRF token is missing or wrong (403), or another error, as a page or JSON",
            parameters: parameters)
    }

    /// A share link's token: 43 characters of base64url (anything else is an unknown link).
    let linkToken: JSONValue = [
        "name": "token", "in": "path", "required": true, "schema": ["type": "string"], "description": "The share link's token (from its address)",
    ]

    /// A share link's access code, for clients that send it on each request (browsers type it once).
    let accessCodeHeader: JSONValue = [
        "name": "X-Access-Code", "in": "header", "required": false, "schema": ["type": "string", "pattern": "^[0-9]{6}$"],
        "description": "The link's access code, when it has one",
    ]

    func path(_ name: String) -> JSONValue {
        ["name": .string(name), "in": "path", "required": true, "schema": Schema.uuid.json]
    }

    /// A page's path id: any text (a page first sends whoever is not signed in to sign in).
    func pagePath(_ name: String) -> JSONValue {
        ["name": .string(name), "in": "path", "required": true, "schema": ["type": "string"], "description": "An id (UUID)"]
    }

    let lang: JSONValue = [
        "name": "lang", "in": "query", "required": false,
        "schema": Schema.choice(Language.allCases.map(\.rawValue)).json,
        "description": "Language; defaults to the best of Accept-Language, else French.",
    ]

    let fileQuery: JSONValue = [
        "name": "file", "in": "query", "required": false, "schema": Schema.integer(1...RentalFileService.maximumFiles).json,
        "description": "Which file of the document (default 1)",
    ]

    var fileContent: Answer {
        Answer(description: "The file as stored (metadata stripped)",
               content: Dictionary(uniqueKeysWithValues: FileInspector.Kind.allCases.map { ($0.mediaType, Schema.string(format: "binary")) }))
    }

    func upload(_ summary: String, extra: [Schema.Property] = [], parameters: [JSONValue] = [], staffOnly: Bool = false) -> JSONValue {
        let types = context.catalogue.categories.flatMap(\.types).map(\.id)
        let schema = Schema.object([
            .required("type", .choice(types).described("A document type from GET /api/v1/catalogue/documents")),
            .required("file", .array(.string(format: "binary"), minItems: 1, maxItems: RentalFileService.maximumFiles)
                .described("1 to \(RentalFileService.maximumFiles) files: PDF, JPEG, PNG or WebP, \(FileInspector.maximumSize / 1_000_000) MB each at most")),
            .optional("guarantor", Schema.string(pattern: "^$|^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
                .described("For a guarantor's document: the guarantor's id (empty: the tenant's own)")),
        ] + extra)
        var answers: [Int: Answer] = [
            201: .json("The stored document", .ref("Document")),
            400: .error("Not a well-formed multipart body"),
            404: .error("No such guarantor (or tenant, for staff)"),
            413: .error("A file over the limit, too many files, a body over the total limit, or a file already at \(RentalFileService.maximumDocuments) documents or \(RentalFileService.maximumStoredBytes / 1024 / 1024) MiB"),
            415: .error("Not multipart, not a PDF, JPEG, PNG or WebP by content, or content and name disagree"),
            422: .error("A forbidden or unknown document type, a missing field, or a PDF with active content"),
            429: .error("Another upload of this account is under way; see Retry-After"),
            503: .error("Too many uploads under way; see Retry-After"),
        ]
        if staffOnly {
            answers[403] = .error("Staff only")
            answers[409] = .error("The tenant has not confirmed their address yet")
        } else {
            answers[403] = .error("Address not confirmed yet")
        }
        var operation = api(summary, auth: true, parameters: parameters, answers)
        if case var .object(fields) = operation {
            fields["requestBody"] = ["required": true, "content": ["multipart/form-data": ["schema": schema.json]]]
            operation = .object(fields)
        }
        return operation
    }

    // MARK: Paths

    var paths: [String: JSONValue] {
        var all = base
        all.merge(accounts) { first, _ in first }
        all.merge(file) { first, _ in first }
        all.merge(staff) { first, _ in first }
        all.merge(web) { first, _ in first }
        return all
    }

    var base: [String: JSONValue] {
        [
            "/health": ["get": api("Readiness: 200 when the database answers", [
                200: .json("Ready", .ref("Health")),
                503: .error("The database is unreachable"),
            ])],
            "/health/ready": ["get": api("Readiness: 200 when the database, the key store and the blob store answer", [
                200: .json("Ready", .ref("Readiness")),
                503: .json("Not ready: which part does not answer", .ref("Readiness")),
            ])],
            "/metrics": ["get": api("Metrics in Prometheus' text format (a bearer token when DOSSIER_METRICS_TOKEN is set)", [
                200: Answer(description: "Prometheus text format 0.0.4", content: ["text/plain": .text]),
                401: .error("DOSSIER_METRICS_TOKEN is set and was not sent"),
            ])],
            "/.well-known/gpc.json": ["get": api("Global Privacy Control support statement", [
                200: .json("GPC support resource", .ref("GPCSupport")),
            ])],
            "/openapi.json": ["get": api("This document", [200: .json("OpenAPI 3.1 document", .map(.any))])],
            "/privacy": ["get": api("The privacy policy now in force, rendered from the register", parameters: [lang], [
                200: Answer(description: "Policy page", content: ["text/html": .text]),
            ])],
            "/privacy/versions": ["get": api("Every published policy version (JSON with Accept: application/json)", parameters: [lang], [
                200: Answer(description: "Published versions, newest first",
                            content: ["application/json": .array(.ref("PolicyVersion")), "text/html": .text]),
            ])],
            "/privacy/versions/{version}": ["get": api("A published policy version, rendered from its own register text",
                                                       parameters: [["name": "version", "in": "path", "required": true, "schema": ["type": "string"]], lang], [
                200: Answer(description: "Policy page", content: ["text/html": .text]),
                404: .error("No such version"),
            ])],
            "/api/v1/register": ["get": api("The register as JSON", [200: .json("The register", .ref("Register"))])],
            "/api/v1/register/record.csv": ["get": api("GDPR Art. 30 record of processing activities (CNIL template fields), one row per purpose",
                                                       parameters: [lang], [200: Answer(description: "CSV with a header row", content: ["text/csv": .text])])],
            "/api/v1/register/record.jsonld": ["get": api("The Art. 30 record in W3C DPV terms", parameters: [lang], [
                200: Answer(description: "JSON-LD", content: ["application/ld+json": .map(.any)]),
            ])],
            "/assets/upload.js": ["get": api("The upload script (progress bar)", [200: Answer(description: "JavaScript", content: ["text/javascript": .text])])],
        ]
    }

    var accounts: [String: JSONValue] {
        [
            "/api/v1/accounts": ["post": api(
                "Sign up (tenant); sends an email verification link. The same answer whether or not the address already has an account (its owner is told by email); rate-limited per client and per address",
                body: AccountsController.SignUpBody.schema(context), [
                    201: .json("Accepted: check the inbox", .ref("SignUpAccepted")),
                    429: .error("Too many sign-ups from this client or for this address; see Retry-After"),
                    503: .error("The server's keys are being renewed; try again later"),
                ]
            )],
            "/api/v1/accounts/verify": ["post": api("Confirm an email address with the token from the link", body: AccountsController.TokenBody.schema(context), [
                200: .json("The account", .ref("Account")), 404: .error("Unknown token"), 410: .error("Used or expired token"),
            ])],
            "/api/v1/sessions": ["post": api("Sign in; returns a bearer token", body: SessionsController.SignInBody.schema(context), [
                201: .json("A session", .ref("Session")),
                401: .error("Wrong address or password"),
                429: .error("Too many failed attempts; see Retry-After"),
            ])],
            "/api/v1/sessions/current": ["delete": api("Sign out", auth: true, [204: .empty("Signed out")])],
            "/api/v1/password/forgot": ["post": api("Ask for a password reset link (always 202)", body: SessionsController.ForgotBody.schema(context), [
                202: .empty("Sent if the account exists"),
                429: .error("Too many requests from this client; see Retry-After"),
                503: .error("The server's keys are being renewed; try again later"),
            ])],
            "/api/v1/password/reset": ["post": api("Set a new password with the single-use token; ends every session", body: SessionsController.ResetBody.schema(context), [
                204: .empty("Changed"), 404: .error("Unknown token"), 410: .error("Used or expired token"),
                429: .error("Too many attempts from this client; see Retry-After"),
            ])],
            "/api/v1/me": ["get": api("The signed-in account", auth: true, [200: .json("The account", .ref("Account"))]),
                           "delete": api("Right to erasure (GDPR Art. 17): delete the signed-in account. Documents and keys are destroyed, the profile, "
                                         + "links, logs and sessions deleted; what the register obliges the service to keep goes to a restricted archive. "
                                         + "The answer (also mailed) is the receipt: what was erased, what is kept, why and until when",
                                         auth: true, [200: .json("The receipt", .ref("ErasureReceipt")),
                                                      409: .error("A staff account, or an organisation's last administrator: closed otherwise"),
                                                      503: .error("The server's keys are being renewed; try again later")])],
            "/api/v1/me/connections": ["get": api("The account's connection log, newest first", auth: true, [
                200: .json("Connection events", .array(.ref("Connection"))),
            ])],
            "/api/v1/me/verification": ["post": api("Send the email verification link again", auth: true, [
                202: .empty("Sent"), 409: .error("Already verified"), 429: .error("Sent too often; see Retry-After"),
            ])],
        ]
    }

    var file: [String: JSONValue] {
        [
            "/api/v1/catalogue/documents": ["get": api("Document types (decree 2015-1437), and the forbidden ones with why (art. 22-2 law 89-462)", [
                200: .json("Catalogue entries", .array(.ref("CatalogueEntry"))),
            ])],
            "/api/v1/me/profile": [
                "get": api("The tenant's profile", auth: true, [200: .json("Profile", .ref("Profile"))]),
                "patch": api("Rectify the profile: present fields set, null (or an empty text) clears; all or nothing",
                             body: ProfileSchemas.patch(context), auth: true, [
                                 200: .json("Profile", .ref("Profile")), 503: .error("The server's keys are being renewed; try again later"),
                             ]),
            ],
            "/api/v1/me/guarantors": [
                "get": api("The tenant's guarantors", auth: true, [200: .json("Guarantors", .array(.ref("Guarantor")))]),
                "post": api("Add a guarantor (\(GuarantorRules.maximumPerTenant) at most): a person, a company or an organisation",
                            body: RentalFileController.NewGuarantor.schema(context), auth: true, [
                                201: .json("The guarantor", .ref("Guarantor")),
                                403: .error("An address given before the account's own is confirmed"),
                                409: .error("Already \(GuarantorRules.maximumPerTenant)"),
                                429: .error("Too many notices sent; see Retry-After"),
                                503: .error("The server's keys are being renewed; try again later"),
                            ]),
            ],
            "/api/v1/me/guarantors/{guarantor}": ["delete": api("Remove a guarantor, their documents and their key", auth: true,
                                                                parameters: [path("guarantor")], [204: .empty("Removed")])],
            "/api/v1/me/documents": [
                "get": api("The file's documents, with their review", auth: true, [200: .json("Documents", .array(.ref("Document")))]),
                "post": upload("Upload a document: its type and one or more files"),
            ],
            "/api/v1/me/documents/{document}": ["delete": api("Delete a document and its files", auth: true, parameters: [path("document")],
                                                              [204: .empty("Deleted")])],
            "/api/v1/me/documents/{document}/content": ["get": api("A file of a document", auth: true, parameters: [path("document"), fileQuery],
                                                                   [200: fileContent])],
            "/api/v1/me/completeness": ["get": api("Per person (tenant, guarantors): which required categories are covered", auth: true, [
                200: .json("Completeness", .array(.ref("Completeness"))),
            ])],
            "/api/v1/me/application": [
                "get": api("The application the tenant belongs to; a couple's partner's file is included", auth: true, [
                    200: .json("Application", .ref("Application")), 404: .error("None"),
                ]),
                "post": api("Start an application (alone, couple, group); the answer carries the join code once",
                            body: RentalFileController.NewApplication.schema(context), auth: true, [
                                201: .json("Application", .ref("Application")), 403: .error("Address not confirmed yet"),
                                409: .error("Already in one"),
                            ]),
                "delete": api("Leave the application, or withdraw a request to join; the last to leave closes it", auth: true, [
                    204: .empty("Left"), 404: .error("Not in one"),
                ]),
            ],
            "/api/v1/me/application/join": ["post": api("Ask to join an application with its code; a member already in must approve (status pending until then)",
                                                        body: RentalFileController.JoinBody.schema(context), auth: true, [
                                                            200: .json("Application", .ref("Application")), 403: .error("Address not verified"),
                                                            404: .error("Unknown code"), 409: .error("Full, or already in one"),
                                                            429: .error("Too many codes tried; see Retry-After"),
                                                        ])],
            "/api/v1/me/application/members/{member}/approve": ["post": api("Let a tenant waiting to join in", auth: true, parameters: [path("member")], [
                200: .json("Application", .ref("Application")),
            ])],
            "/api/v1/me/application/members/{member}": ["delete": api("Turn away a tenant waiting to join", auth: true, parameters: [path("member")], [
                204: .empty("Declined"),
            ])],
            "/api/v1/me/application/members/{partner}/documents/{document}/content": ["get": api(
                "A couple partner's document file (audited)", auth: true, parameters: [path("partner"), path("document"), fileQuery], [200: fileContent]
            )],
        ]
    }

    var staff: [String: JSONValue] {
        [
            "/api/v1/staff/reviews": ["get": api("Staff: documents awaiting review, oldest first", auth: true, [
                200: .json("Queue", .array(.ref("QueueEntry"))), 403: .error("Staff only"),
            ])],
            "/api/v1/staff/documents/{document}/content": ["get": api("Staff: read a file under review (audited)", auth: true,
                                                                      parameters: [path("document"), fileQuery], [200: fileContent, 403: .error("Staff only")])],
            "/api/v1/staff/requests": [
                "get": api("Staff: rights requests, open ones first by deadline, then closed ones (reading is audited)", auth: true,
                           parameters: [["name": "status", "in": "query", "required": false, "schema": Schema.choice(RequestRules.Status.allCases.map(\.rawValue)).json]],
                           [200: .json("Requests", .array(.ref("RightsRequest"))), 403: .error("Staff only")]),
                "post": api("Staff: record a request received by email or post; its deadline is counted from the day received (Regulation 1182/71) "
                            + "and the requester is acknowledged by email when an address is given",
                            body: RequestsController.ReceiveBody.schema(context), auth: true,
                            [201: .json("The request", .ref("RightsRequest")), 403: .error("Staff only")]),
            ],
            "/api/v1/staff/requests/{request}": ["get": api("Staff: one request, with who asked and what (audited)", auth: true, parameters: [path("request")],
                                                            [200: .json("The request", .ref("RightsRequest")), 403: .error("Staff only")])],
            "/api/v1/staff/requests/{request}/extension": ["post": api(
                "Staff: extend the deadline by two months (GDPR Art. 12(3)), within the first month; the requester is told why",
                body: RequestsController.ExtensionBody.schema(context), auth: true, parameters: [path("request")],
                [200: .json("The request", .ref("RightsRequest")), 403: .error("Staff only"), 409: .error("Closed, already extended, or past the first month")])],
            "/api/v1/staff/requests/{request}/identity-request": ["post": api(
                "Staff: ask the requester for proof of identity (Art. 12(6)), by email", auth: true, parameters: [path("request")],
                [200: .json("The request", .ref("RightsRequest")), 403: .error("Staff only"), 409: .error("Closed, or identity already checked")])],
            "/api/v1/staff/requests/{request}/identity-proof": [
                "post": api("Staff: file the proof of identity received (the body, or the `file` of a multipart form; \(RequestService.maximumProofBytes / 1024 / 1024) MiB at most), "
                            + "sealed until checked", auth: true, parameters: [path("request")],
                            [201: .json("The request", .ref("RightsRequest")), 403: .error("Staff only"), 409: .error("Closed, or identity already checked"),
                             413: .error("Over the limit"), 422: .error("No file")]),
                "get": api("Staff: read the proof waiting to be checked (audited)", auth: true, parameters: [path("request")],
                           [200: Answer(description: "The proof", content: ["application/octet-stream": Schema.string(format: "binary")]), 403: .error("Staff only"),
                            409: .error("No proof waits to be checked")]),
            ],
            "/api/v1/staff/requests/{request}/identity": ["post": api(
                "Staff: record the identity check; the proof is deleted at once and only the outcome is kept",
                body: RequestsController.IdentityBody.schema(context), auth: true, parameters: [path("request")],
                [200: .json("The request", .ref("RightsRequest")), 403: .error("Staff only"), 409: .error("Closed, or identity already checked")])],
            "/api/v1/staff/requests/{request}/answer": ["post": api(
                "Staff: close the request as handled, with an answer mailed to the requester (an objection to review is upheld; post-mortem directives carried out are deleted)",
                body: RequestsController.AnswerBody.schema(context), auth: true, parameters: [path("request")],
                [200: .json("The request", .ref("RightsRequest")), 403: .error("Staff only"), 409: .error("Closed")])],
            "/api/v1/staff/requests/{request}/refusal": ["post": api(
                "Staff: refuse the request with its reason; the requester is told, with the right to complain to the CNIL (Art. 12(4))",
                body: RequestsController.RefusalBody.schema(context), auth: true, parameters: [path("request")],
                [200: .json("The request", .ref("RightsRequest")), 403: .error("Staff only"), 409: .error("Closed")])],
            "/api/v1/staff/requests/{request}/export": ["get": api(
                "Staff: the export (ZIP) of the account an open access or portability request concerns, once identity is not in doubt (audited)",
                auth: true, parameters: [path("request")],
                [200: Answer(description: "ZIP", content: ["application/zip": Schema.string(format: "binary")]), 403: .error("Staff only"),
                 404: .error("No such request, or it names no account"), 409: .error("Not an open access or portability request, or the identity of a requester by email or post not verified"),
                 429: .error("Too many exports of this account in the hour")])],
            "/api/v1/staff/requests/{request}/directives": ["get": api(
                "Staff: the post-mortem directives of the account a post-mortem request concerns (audited)", auth: true, parameters: [path("request")],
                [200: .json("The directives", .ref("Directives")), 403: .error("Staff only"),
                 409: .error("Not a post-mortem request about an account that recorded directives")])],
            "/api/v1/staff/retention": ["get": api(
                "Staff: the retention engine: what a sweep now would do, per rule of the register (counts and examples), "
                    + "the receipts of the latest sweeps, and the legal holds that stand", auth: true,
                [200: .json("Retention", .object([
                    .required("next", .ref("RetentionReport")),
                    .required("history", .array(.object([.required("sequence", .integer()), .required("at", .dateTime),
                                                         .required("details", .map(.text))]))),
                    .required("holds", .array(.ref("LegalHold"))),
                ])), 403: .error("Staff only")])],
            "/api/v1/staff/holds": ["get": api("Staff: the legal holds that stand, oldest first", auth: true,
                                               [200: .json("Holds", .array(.ref("LegalHold"))), 403: .error("Staff only")])],
            "/api/v1/staff/accounts/{account}/hold": [
                "post": api("Staff: hold a person's data for a dispute or a legal claim (audited): nothing of theirs is deleted, "
                            + "by the retention engine or their own erasure, until it is lifted",
                            body: RetentionController.HoldBody.schema(context), auth: true, parameters: [path("account")],
                            [201: .json("The hold", .ref("LegalHold")), 403: .error("Staff only"), 409: .error("A hold already stands")]),
                "delete": api("Staff: lift the hold that stands on the account (audited); none standing, nothing to do", auth: true,
                              parameters: [path("account")], [204: .empty("No hold stands"), 403: .error("Staff only")]),
            ],
            "/api/v1/staff/documents/{document}/review": ["post": api(
                "Staff: validate or decline, with reasons from the catalogue and a comment; the tenant is emailed",
                body: StaffController.ReviewBody.schema(context), auth: true, parameters: [path("document")],
                [204: .empty("Recorded"), 403: .error("Staff only")]
            )],
            "/api/v1/me/shares": [
                "get": api("The tenant's share links, newest first, with their state and how often they were used", auth: true,
                           [200: .json("Share links", .array(.ref("Share")))]),
                "post": api("Share the whole file, or chosen documents, with a named agency, landlord or insurer, for a purpose, until a date "
                            + "(30 days by default, at most what the register allows for the recipient). The link's address is in `url`, given once",
                            body: SharesController.NewShareBody.schema(context), auth: true, [
                                201: .json("The link", .ref("Share")),
                                403: .error("The account's address is not confirmed yet"),
                                409: .error("Too many open links (\(ShareService.maximumOpenShares))"),
                                503: .error("The server's keys are being renewed; try again later"),
                            ]),
            ],
            "/api/v1/me/shares/{share}": ["delete": api("Revoke a link for good: its recipient is refused from now on, its cached copies deleted",
                                                        auth: true, parameters: [path("share")], [204: .empty("Revoked")])],
            "/api/v1/me/shares/{share}/pause": ["post": api("Pause a link (its recipient is refused until it is resumed)", auth: true,
                                                            parameters: [path("share")], [200: .json("The link", .ref("Share")), 409: .error("Revoked or expired")])],
            "/api/v1/me/shares/{share}/resume": ["post": api("Resume a paused link, or unlock one locked by wrong access codes", auth: true,
                                                             parameters: [path("share")], [200: .json("The link", .ref("Share")), 409: .error("Revoked or expired")])],
            "/api/v1/me/shares/{share}/accesses": ["get": api("The link's access log: every view and download by its recipient, newest first (the latest 1,000)",
                                                              auth: true, parameters: [path("share")], [200: .json("Accesses", .array(.ref("ShareAccess")))])],
            "/api/v1/me/certificates": [
                "get": api("The tenant's file certificates, newest first, with where each stands", auth: true,
                           [200: .json("Certificates", .array(.ref("Certificate")))]),
                "post": api("Issue a file certificate: verified facts (household income and its ratio to a rent, documents our staff validated, "
                            + "guarantors) with a verification code and its QR code; valid \(CertificateStatus.validity)",
                            body: CertificatesController.NewCertificateBody.schema(context), auth: true, [
                                201: .json("The certificate", .ref("Certificate")),
                                403: .error("The account's address is not confirmed yet"),
                                409: .error("Too many valid certificates (\(CertificateService.maximumOpen))"),
                                503: .error("The server's keys are being renewed; try again later"),
                            ]),
            ],
            "/api/v1/me/certificates/{certificate}": ["delete": api("Revoke a certificate: its check says so from now on", auth: true,
                                                                    parameters: [path("certificate")], [204: .empty("Revoked")])],
            "/api/v1/me/certificates/{certificate}/certificate.pdf": ["get": api("The certificate as a PDF, with its QR code", auth: true,
                                                                                 parameters: [path("certificate")],
                                                                                 [200: Answer(description: "PDF", content: ["application/pdf": Schema.string(format: "binary")])])],
            "/api/v1/me/restriction": [
                "get": api("Whether the processing of the signed-in person's data is restricted (GDPR Art. 18), and since when", auth: true,
                           [200: .json("The state", .ref("Restriction"))]),
                "post": api("Restrict processing (GDPR Art. 18): the data stays stored but cannot be shared (links answer 403), reviewed or changed "
                            + "(409), until lifted; recipients are told (Art. 19)", auth: true,
                            [201: .json("Restricted now", .ref("Restriction")), 200: .json("Already restricted", .ref("Restriction")),
                             403: .error("The account's address is not confirmed yet"), 409: .error("Not a tenant's account")]),
                "delete": api("Lift the restriction", auth: true, [204: .empty("Lifted"), 409: .error("Nothing is restricted")]),
            ],
            "/api/v1/me/consents": [
                "get": api("The consent ledger (GDPR Art. 7): each purpose the register bases on consent, given, withdrawn or never", auth: true,
                           [200: .json("Each consent purpose", .array(.ref("Consent")))]),
                "post": api("Give consent to a purpose (recorded with the register's version, to prove it)", body: RightsController.ConsentBody.schema(context),
                            auth: true, [201: .json("Given now", .ref("Consent")), 200: .json("Already given", .ref("Consent")),
                                         403: .error("The account's address is not confirmed yet"),
                                         409: .error("The person objected to this purpose (an objection to direct marketing is absolute)"),
                                         422: .error("Not a purpose based on consent, or a field is invalid")]),
            ],
            "/api/v1/me/consents/{purpose}": ["delete": api("Withdraw consent (Art. 7(3)): as easy as giving it", auth: true,
                                                            parameters: [["name": "purpose", "in": "path", "required": true, "schema": Schema.choice(ConsentRules.purposes(in: context.register).map(\.id)).json,
                                                                          "description": "A purpose id of the register"]],
                                                            [204: .empty("Withdrawn"), 409: .error("Not given"), 422: .error("Not a purpose based on consent")])],
            "/api/v1/me/objections": [
                "get": api("The person's objections (GDPR Art. 21)", auth: true, [200: .json("Objections", .array(.ref("Objection")))]),
                "post": api("Object to a purpose: to direct marketing it is upheld at once and the address joins the objection list (201); "
                            + "to a purpose of legitimate interests staff review it within the month (202)", body: RightsController.ObjectionBody.schema(context),
                            auth: true, [201: .json("Upheld", .ref("Objection")), 202: .json("To review", .ref("Objection")),
                                         200: .json("Already made", .ref("Objection")),
                                         403: .error("The account's address is not confirmed yet"),
                                         422: .error("No such purpose, or one resting on the contract or the law (no objection applies)")]),
            ],
            "/api/v1/me/requests": [
                "get": api("The person's rights requests, newest first, with their deadlines", auth: true, [200: .json("Requests", .array(.ref("RightsRequest")))]),
                "post": api("File a request to exercise a right, for staff to answer within the deadline (Regulation 1182/71: one month, extendable by two); "
                            + "acknowledged by email", body: RequestsController.FileBody.schema(context), auth: true,
                            [201: .json("The request", .ref("RightsRequest")), 403: .error("The account's address is not confirmed yet"),
                             409: .error("Too many requests under way (\(RequestService.openPerAccount))")]),
            ],
            "/api/v1/me/directives": [
                "get": api("The person's post-mortem directives (French Data Protection Act art. 85)", auth: true,
                           [200: .json("The directives", .ref("Directives")), 404: .error("None recorded")]),
                "put": api("Record or replace post-mortem directives: what to do with the data after death, and whom to contact (sealed with the person's key)",
                           body: RequestsController.DirectivesBody.schema(context), auth: true,
                           [201: .json("Recorded", .ref("Directives")), 200: .json("Replaced", .ref("Directives"))]),
                "delete": api("Withdraw the directives", auth: true, [204: .empty("Withdrawn"), 409: .error("None recorded")]),
            ],
            "/api/v1/me/access": ["get": api("Right of access (GDPR Art. 15): every item held about the signed-in person, each with its purpose, "
                                             + "legal bases, data categories, possible recipients, and when it will be deleted or archived (from the register's rules)",
                                             auth: true, [200: .json("What is held", .ref("AccessReport"))])],
            "/api/v1/me/export": ["get": api("Right to portability (GDPR Art. 20): a ZIP of data.json (described by data.schema.json, also in the repository "
                                             + "as docs/export.schema.json), CSV tables and the original documents, decrypted; \(ExportService.perHour) an hour at most",
                                             auth: true, [200: Answer(description: "ZIP", content: ["application/zip": Schema.string(format: "binary")]),
                                                          429: .error("Too many exports in the hour")])],
            "/api/v1/organisation": ["get": api("The signed-in member's recipient organisation, with the address tenants share with", auth: true,
                                                [200: .json("The organisation", .ref("Organisation")), 403: .error("Not a member of an organisation")])],
            "/api/v1/organisation/inbox": ["get": api("The files tenants share with the organisation's address whose links serve now, newest first",
                                                      auth: true, [200: .json("Files received", .array(.ref("ReceivedFile"))), 403: .error("Not a member of an organisation")])],
            "/api/v1/organisation/inbox/{received}": ["get": api("One file of the inbox, with its documents (logged in the tenant's access log under the member's name; "
                                                                 + "410 revoked or expired, 403 paused or locked)", auth: true, parameters: [path("received"), accessCodeHeader],
                                                                 [200: .json("The file", .ref("ReceivedFile")), 401: .error("Not signed in; or the link has an access code, not sent or wrong"), 400: .error("A malformed X-Access-Code"), 403: .error("Not a member, or the link is paused or locked"),
                                                                  410: .error("The link was revoked or expired")])],
            "/api/v1/organisation/inbox/{received}/documents/{document}": ["get": api("One document of a file of the inbox, watermarked for the recipient, as PDF (logged)",
                                                                                      auth: true, parameters: [path("received"), path("document"), accessCodeHeader], [
                                                                                          401: .error("Not signed in; or the link has an access code, not sent or wrong"), 400: .error("A malformed X-Access-Code"),
                                                                                          200: Answer(description: "PDF", content: ["application/pdf": Schema.string(format: "binary")]),
                                                                                          403: .error("Not a member, or the link is paused or locked"), 410: .error("The link was revoked or expired"),
                                                                                          422: .error("Too many pages to render"),
                                                                                      ])],
            "/api/v1/organisation/inbox/{received}/file.pdf": ["get": api("A file of the inbox as one watermarked PDF with a cover page (logged)", auth: true,
                                                                          parameters: [path("received"), accessCodeHeader], [
                                                                              401: .error("Not signed in; or the link has an access code, not sent or wrong"), 400: .error("A malformed X-Access-Code"),
                                                                              200: Answer(description: "PDF", content: ["application/pdf": Schema.string(format: "binary")]),
                                                                              403: .error("Not a member, or the link is paused or locked"), 410: .error("The link was revoked or expired"),
                                                                              422: .error("Too many pages to render"),
                                                                          ])],
            "/api/v1/organisation/inbox/{received}/file.zip": ["get": api("A file of the inbox as a ZIP of watermarked PDFs (logged)", auth: true,
                                                                          parameters: [path("received"), accessCodeHeader], [
                                                                              401: .error("Not signed in; or the link has an access code, not sent or wrong"), 400: .error("A malformed X-Access-Code"),
                                                                              200: Answer(description: "ZIP", content: ["application/zip": Schema.string(format: "binary")]),
                                                                              403: .error("Not a member, or the link is paused or locked"), 410: .error("The link was revoked or expired"),
                                                                              422: .error("Too many pages to render"),
                                                                          ])],
            "/api/v1/organisation/members": [
                "get": api("The organisation's members and pending invitations (its administrators)", auth: true,
                           [200: .json("Members", .ref("OrganisationMembers")), 403: .error("Not an administrator of an organisation")]),
                "post": api("Invite an address to join the organisation, by email (valid \(Int(OrganisationRules.invitationLifetime / 86400)) days; "
                            + "a pending invitation of the same address is replaced)",
                            body: OrganisationsController.InviteBody.schema(context), auth: true, [
                                201: .json("The invitation", .ref("OrganisationInvitation")), 403: .error("Not an administrator of an organisation"),
                                409: .error("Already a member, or too many members (\(OrganisationRules.maximumMembers))"),
                                429: .error("More than \(OrganisationRules.invitationsPerDay) invitations from the organisation, or "
                                            + "\(OrganisationRules.invitationsPerAddressPerDay) to the address, in a day"),
                            ]),
            ],
            "/api/v1/organisation/members/{colleague}": ["delete": api("Remove a member: their account is deleted; their views stay in tenants' access logs",
                                                                       auth: true, parameters: [path("colleague")], [
                                                                           204: .empty("Removed"), 403: .error("Not an administrator of an organisation"),
                                                                           409: .error("The organisation's last administrator"),
                                                                       ])],
            "/api/v1/organisation/invitations/{invitation}": ["delete": api("Withdraw a pending invitation: its link stops working", auth: true,
                                                                            parameters: [path("invitation")], [
                                                                                204: .empty("Withdrawn"), 403: .error("Not an administrator of an organisation"),
                                                                            ])],
            "/api/v1/organisation/join": ["post": api("Accept an emailed invitation: the member's account, with the name and password chosen",
                                                      body: OrganisationsController.JoinBody.schema(context), [
                                                          201: .json("The member", .ref("OrganisationMember")),
                                                          404: .error("Unknown, used or expired invitation"),
                                                          409: .error("The address already has an account"),
                                                      ])],
            "/api/v1/staff/tenants/{account}/documents": ["post": upload(
                "Staff: file a document a tenant sent by email or post",
                extra: [.required("source", .choice(["email", "post"])), .required("receivedAt", .string(format: "date").described("The day it was received, not in the future"))],
                parameters: [path("account")], staffOnly: true
            )],
        ]
    }

    var web: [String: JSONValue] {
        [
            "/": ["get": page("Home page")],
            "/signup": ["get": page("Sign-up form"), "post": form("Sign up", fields: ["email", "password", "firstName", "lastName", "language"])],
            "/signin": ["get": page("Sign-in form"), "post": form("Sign in", fields: ["email", "password"])],
            "/signout": ["post": form("Sign out", fields: [])],
            "/account": ["get": page("The account and its connection log")],
            "/account/verification": ["post": form("Send the verification link again", fields: [])],
            "/password/forgot": ["get": page("Forgotten password form"), "post": form("Ask for a reset link", fields: ["email"])],
            "/password/reset": ["get": page("New password form (token in the query)"), "post": form("Set a new password", fields: ["token", "password"])],
            "/verify-email": ["get": page("Asks to confirm the address (the emailed link's token)"), "post": form("Confirm the address", fields: ["token"])],
            "/file": ["get": page("The tenant's file: completeness, documents, guarantors, profile")],
            "/file/profile": ["post": form("Save the profile", fields: [])],
            "/file/guarantors": ["post": form("Add a guarantor", fields: ["kind", "name"])],
            "/file/guarantors/{guarantor}/delete": ["post": form("Remove a guarantor", fields: [], parameters: [pagePath("guarantor")])],
            "/file/household/{member}/approve": ["post": form("Let a tenant waiting to join the application in", fields: [], parameters: [pagePath("member")])],
            "/file/household/{member}/decline": ["post": form("Turn away a tenant waiting to join the application", fields: [], parameters: [pagePath("member")])],
            "/file/household/leave": ["post": form("Leave the application", fields: [])],
            "/file/documents": ["post": web(
                "Upload a document from the page (multipart, with the CSRF token in X-CSRF-Token or the csrf query parameter; JSON back when asked)",
                body: ("multipart/form-data", .object([.required("type", .text), .required("file", .array(.string(format: "binary")))], closed: false)),
                answer: (201, .json("Stored (JSON)", .ref("Document"))), redirect: "Stored: redirect",
                failure: "CSRF token missing or wrong (403), or why the file was refused", parameters: []
            )],
            "/file/documents/{document}/delete": ["post": form("Delete a document", fields: [], parameters: [pagePath("document")])],
            "/file/documents/{document}/content": ["get": page("A file of one of the tenant's documents", parameters: [pagePath("document")])],
            "/file/sharing": ["get": page("The tenant's share links with their access logs, and file certificates"),
                              "post": form("Create a share link (the page shows its address once)",
                                           fields: ["kind", "name", "email", "purpose", "scope", "documents[]", "until", "protect"])],
            "/file/sharing/{share}/revoke": ["post": form("Revoke a share link", fields: [], parameters: [pagePath("share")])],
            "/file/sharing/{share}/pause": ["post": form("Pause a share link", fields: [], parameters: [pagePath("share")])],
            "/file/sharing/{share}/resume": ["post": form("Resume a share link", fields: [], parameters: [pagePath("share")])],
            "/file/certificates": ["post": form("Issue a file certificate", fields: ["rent"])],
            "/file/certificates/{certificate}/revoke": ["post": form("Revoke a file certificate", fields: [], parameters: [pagePath("certificate")])],
            "/file/certificates/{certificate}/certificate.pdf": ["get": download("A file certificate as PDF", type: "application/pdf", parameters: [pagePath("certificate")])],
            "/staff/reviews": ["get": page("Staff: the review queue")],
            "/account/export": ["post": web("Right to portability: the ZIP of the signed-in person's data (a form, with its CSRF token)",
                                            body: ("application/x-www-form-urlencoded", .object([.required("csrf", .text)], closed: false)),
                                            answer: (200, Answer(description: "The ZIP", content: ["application/zip": Schema.string(format: "binary")])),
                                            redirect: "Redirect to sign in", failure: "The CSRF token is missing or wrong (403), or too many exports (429)",
                                            parameters: [])],
            "/account/delete": ["get": page("Right to erasure: what deleting the account erases and keeps, and the form to confirm it with the password"),
                                "post": form("Delete the signed-in account (password confirms); the page shows the receipt", fields: ["password"])],
            "/account/requests": ["post": form("File a rights request (and optional details)", fields: ["right"])],
            "/account/directives": ["post": form("Record post-mortem directives (optional instructions, contactName, contactEmail)", fields: ["choice"])],
            "/account/directives/withdraw": ["post": form("Withdraw post-mortem directives", fields: [])],
            "/staff/retention": ["get": page("Staff: the retention engine: what is due now, the latest sweeps, the legal holds")],
            "/staff/requests": ["get": page("Staff: the rights requests queue, and the form to record one received by email or post"),
                                "post": form("Staff: record a request received", fields: ["right", "channel", "receivedAt", "name"])],
            "/staff/requests/{request}": ["get": page("Staff: one request and what to do with it (audited)", parameters: [pagePath("request")])],
            "/staff/requests/{request}/extension": ["post": form("Staff: extend the deadline by two months", fields: ["reason"], parameters: [pagePath("request")])],
            "/staff/requests/{request}/identity-request": ["post": form("Staff: ask the requester for proof of identity", fields: [], parameters: [pagePath("request")])],
            "/staff/requests/{request}/identity": ["post": form("Staff: record the identity check (the proof is deleted)", fields: ["outcome"], parameters: [pagePath("request")])],
            "/staff/requests/{request}/answer": ["post": form("Staff: close the request as handled (an optional answer)", fields: [], parameters: [pagePath("request")])],
            "/staff/requests/{request}/refusal": ["post": form("Staff: refuse the request with a reason (and optional details)", fields: ["reason"], parameters: [pagePath("request")])],
            "/staff/requests/{request}/identity-proof": [
                "post": web("Staff: file the proof of identity received (multipart, CSRF token in the csrf query parameter)",
                            body: ("multipart/form-data", .object([.required("file", .string(format: "binary"))], closed: false)),
                            answer: (200, Answer(description: "Unused: a form's answer is a redirect", content: ["text/html": .text])), redirect: "Filed: redirect",
                            failure: "CSRF token missing or wrong (403), or why the file was refused", parameters: [pagePath("request")]),
                "get": download("Staff: the proof waiting to be checked (audited)", type: "application/octet-stream", parameters: [pagePath("request")]),
            ],
            "/staff/requests/{request}/export": ["get": download("Staff: the export of the account an open access or portability request concerns (audited)",
                                                                 type: "application/zip", parameters: [pagePath("request")])],
            "/account/consents": ["post": form("Give or withdraw consent to a purpose", fields: ["purpose", "action"])],
            "/account/objections": ["post": form("Object to a purpose", fields: ["purpose"])],
            "/account/restriction": ["post": form("Restrict the processing of the signed-in tenant's data", fields: [])],
            "/account/restriction/lift": ["post": form("Lift the restriction", fields: [])],
            "/account/data": ["get": page("Right of access: everything held about the signed-in person, with purpose, legal basis, recipients and when it will be deleted")],
            "/organisation": ["get": page("A recipient organisation's inbox: the files tenants share with its address")],
            "/organisation/inbox/{received}": ["get": page("One file of the inbox, with links to each watermarked document (logged under the member's name)",
                                                           parameters: [pagePath("received")])],
            "/organisation/inbox/{received}/documents/{document}": ["get": download("One document of a file of the inbox, watermarked, as PDF (logged)",
                                                                                parameters: [pagePath("received"), pagePath("document")])],
            "/organisation/inbox/{received}/code": ["post": form("Type a protected link's access code from the inbox: right, a cookie admits the browser "
                                                                 + "on this file's pages", fields: ["code"], parameters: [pagePath("received")])],
            "/organisation/inbox/{received}/file.pdf": ["get": download("A file of the inbox as one watermarked PDF (logged)", parameters: [pagePath("received")])],
            "/organisation/inbox/{received}/file.zip": ["get": download("A file of the inbox as a ZIP of watermarked PDFs (logged)", type: "application/zip",
                                                                    parameters: [pagePath("received")])],
            "/organisation/members": ["get": page("The organisation's members and pending invitations (its administrators)"),
                                      "post": form("Invite an address to join the organisation", fields: ["email", "admin"])],
            "/organisation/members/{colleague}/remove": ["post": form("Remove a member of the organisation", fields: [], parameters: [pagePath("colleague")])],
            "/organisation/invitations/{invitation}/cancel": ["post": form("Withdraw a pending invitation", fields: [], parameters: [pagePath("invitation")])],
            "/organisation/confirm": ["get": page("Confirm an organisation's address: the page (token in the query, from the mail sent to the address)"),
                                      "post": form("Confirm the organisation's address: links made to it reach its members' inbox", fields: ["token"])],
            "/organisation/join": ["get": page("Accept an invitation: the form (token in the query)"),
                                   "post": form("Join the organisation", fields: ["token", "firstName", "lastName", "password"])],
            "/verify/{code}": ["get": page("Check a file certificate's code: genuine and current, outdated, expired or revoked (200), or not genuine (404); "
                                           + "nothing else about the tenant", parameters: [["name": "code", "in": "path", "required": true, "schema": ["type": "string"]]])],
            "/s/{token}": ["get": page("A share link's page, for its recipient: what is shared, with links to each watermarked document "
                                       + "(404 unknown, 410 revoked or expired, 403 paused or locked, 429 after too many unknown links; "
                                       + "401 with a form when the link has an access code, which API clients send as X-Access-Code on every /s/ route)",
                                       parameters: [linkToken, accessCodeHeader])],
            "/s/{token}/documents/{document}": ["get": download("One shared document, watermarked for the recipient, as PDF (logged in the tenant's access log)",
                                                            parameters: [linkToken, pagePath("document"), accessCodeHeader])],
            "/s/{token}/code": ["post": form("Type a link's access code: right, a cookie admits the browser for the link's life; "
                                             + "\(ShareRules.maximumCodeFailures) wrong in an hour lock the link and tell the tenant",
                                             fields: ["code"], parameters: [linkToken])],
            "/s/{token}/file.pdf": ["get": download("The whole shared file as one watermarked PDF, with a cover page listing its contents",
                                                parameters: [linkToken, accessCodeHeader])],
            "/s/{token}/file.zip": ["get": download("The whole shared file as a ZIP of watermarked PDFs", type: "application/zip",
                                                    parameters: [linkToken, accessCodeHeader])],
            "/staff/documents/{document}/content": ["get": page("Staff: a file under review (audited)", parameters: [pagePath("document")])],
            "/staff/documents/{document}/review": ["post": form("Staff: validate or decline", fields: ["decision"], parameters: [pagePath("document")])],
        ]
    }

    // MARK: Components

    var components: [String: Schema] {
        let text = Schema.text
        let registerArray = Schema.array(.map(.any))
        return [
            "Error": .object([.required("error", .object([
                .required("code", text), .required("message", text),
                .optional("fields", .array(.object([.required("field", text), .required("message", text)]))),
            ]))]),
            "Health": .object([.required("status", text), .required("database", text), .required("registerVersion", text)]),
            "Readiness": .object([.required("status", text), .required("database", text), .required("keys", text), .required("blobs", text),
                                  .optional("error", .object([.required("code", text), .required("message", text)]))]),
            "GPCSupport": .object([.required("gpc", .boolean), .required("lastUpdate", .string(format: "date"))]),
            "LocalizedText": .object([.required("fr", text), .required("en", text)]),
            "PolicyVersion": .object([
                .required("version", text), .required("effectiveDate", .string(format: "date")), .required("publishedAt", .dateTime),
                .required("digest", text), .required("url", text),
            ]),
            "Register": .object([
                .required("version", text), .required("effectiveDate", .string(format: "date")), .required("controller", .map(.any)),
                .required("purposes", registerArray), .required("categories", registerArray),
            ], closed: false),
            "SignUpAccepted": .object([.required("email", text), .required("emailVerified", .boolean), .required("message", text)]),
            "Session": .object([.required("token", text), .required("expiresAt", .dateTime)]),
            "Account": .object([
                .required("id", .uuid), .required("email", text), .required("firstName", text), .required("lastName", text),
                .required("language", .choice(Language.allCases.map(\.rawValue))), .required("role", .choice(Role.allCases.map(\.rawValue))),
                .required("emailVerified", .boolean), .required("createdAt", .dateTime),
            ]),
            "Connection": .object([
                .required("occurredAt", .dateTime),
                .required("kind", .choice(ConnectionEvent.Kind.allCases.map(\.rawValue))),
                .required("outcome", .choice(ConnectionEvent.Outcome.allCases.map(\.rawValue))),
                .required("ipAddress", text), .required("userAgent", text),
            ]),
            "CatalogueEntry": .object([
                .required("id", text), .optional("category", text), .optional("categoryName", .localized), .required("name", .localized),
                .required("for", .array(.choice(PersonKind.allCases.map(\.rawValue)))),
                .required("minimumFiles", .integer()), .required("forbidden", .boolean), .optional("why", .localized),
            ]),
            "Profile": .object([
                .required("firstName", text), .required("lastName", text), .required("email", text),
                .required("profile", ProfileSchemas.stored), .required("mandatory", .array(text)),
            ]),
            "Guarantor": .object([
                .required("id", .uuid), .required("kind", .choice(GuarantorRules.kinds.map(\.rawValue))), .required("name", text),
                .optional("email", text), .optional("phone", text),
            ]),
            "Document": .object([
                .required("id", .uuid), .required("type", text), .required("category", text), .optional("guarantor", .uuid),
                .required("status", .choice(Document.Status.allCases.map(\.rawValue))),
                .required("source", .choice(Document.Source.allCases.map(\.rawValue))),
                .optional("receivedAt", .dateTime), .required("createdAt", .dateTime),
                .required("files", .array(.object([
                    .required("position", .integer()), .required("kind", .choice(FileInspector.Kind.allCases.map(\.rawValue))),
                    .required("size", .integer()), .required("name", text),
                ]))),
                .required("reviews", .array(.object([
                    .required("decision", .choice(["validated", "declined"])),
                    .required("reasons", .array(.object([.required("id", text), .required("name", .localized)]))),
                    .optional("comment", text), .required("at", .dateTime),
                ]))),
            ]),
            "Share": .object([
                .required("id", .uuid), .optional("url", text), .optional("accessCode", text), .required("protected", .boolean), .required("reference", text),
                .required("recipient", .object([.required("name", text), .required("email", text),
                                                .required("kind", .choice(ShareRules.recipients(in: context.register).map(\.kind.rawValue)))])),
                .required("purpose", text), .required("wholeFile", .boolean), .required("documentIds", .array(.uuid)),
                .required("state", .choice(ShareState.allCases.map(\.rawValue))),
                .required("createdAt", .dateTime), .required("expiresAt", .dateTime), .required("accesses", .integer()),
                .optional("organisation", text.described("The recipient organisation whose confirmed address this is: its members open the link "
                                                          + "from their inbox, signed in, without the access code")),
            ]),
            "ShareAccess": .object([
                .required("at", .dateTime), .required("action", .choice(ShareAccess.Action.allCases.map(\.rawValue))),
                .optional("documentId", .uuid), .optional("documentType", text),
                .optional("viewer", .object([.required("name", text), .required("organisation", text)])
                    .described("Through a recipient organisation's inbox: the member who looked")),
            ]),
            "Consent": .object([
                .required("purpose", text), .required("name", text), .required("state", .choice(["given", "withdrawn", "never"])),
                .optional("at", .dateTime), .optional("withdrawal", text.described("How else to withdraw it")),
            ]),
            "Objection": .object([
                .required("purpose", text), .required("name", text), .required("outcome", .choice(["upheld", "to-review", "refused"]).described("refused: staff weighed it and found compelling grounds (a request's refusal says which)")),
                .required("at", .dateTime), .optional("dueAt", .dateTime.described("When staff answer, for one to review")),
            ]),
            "Restriction": .object([.required("restricted", .boolean), .optional("since", .dateTime)]),
            "LegalHold": .object([
                .required("id", .uuid), .required("account", .uuid), .required("reason", text), .required("placedBy", text.described("The staff member's pseudonymous id")),
                .required("placedAt", .dateTime), .optional("liftedBy", text), .optional("liftedAt", .dateTime),
            ]),
            "RetentionReport": .object([
                .required("at", .dateTime), .required("registerVersion", text), .required("dryRun", .boolean),
                .required("seconds", .described(.any, "How long the sweep took, in seconds")),
                .required("lines", .array(.object([
                    .required("task", text), .required("purpose", text), .required("category", text), .required("rule", text),
                    .required("action", .choice(["delete", "anonymise", "erase", "remind"])),
                    .required("due", .integer()), .required("done", .integer()), .required("kept", .integer().described("Due, but held or restricted")),
                    .required("examples", .array(text)),
                ]))),
                .required("problems", .array(.object([.required("task", text), .required("message", text)]))),
            ]),
            "RightsRequest": .object([
                .required("id", .uuid), .required("reference", text), .required("right", .choice(RequestRules.types(in: context.register).map(\.id))),
                .required("rightName", text), .required("channel", .choice(RequestRules.Channel.allCases.map(\.rawValue))),
                .required("status", .choice(RequestRules.Status.allCases.map(\.rawValue))),
                .required("receivedAt", .dateTime), .required("dueAt", .dateTime.described("The end of the last day to answer (Regulation 1182/71)")),
                .required("dueDay", .string(format: "date").described("The last day to answer, in Paris")),
                .required("extended", .boolean), .required("overdue", .boolean),
                .optional("identity", .choice(RequestRules.IdentityCheck.allCases.map(\.rawValue)).described("What the check of identity concluded (its proof is deleted)")),
                .required("proofWaiting", .boolean), .optional("refusal", .choice(RequestRules.Refusal.allCases.map(\.rawValue))),
                .optional("closedAt", .dateTime),
                .optional("requesterName", text.described("Staff only")), .optional("requesterEmail", text.described("Staff only")),
                .optional("details", text), .optional("extensionReason", text), .optional("answer", text),
                .optional("account", .boolean.described("Staff only: whether the request concerns an account (its export, its directives)")),
            ]),
            "Directives": .object([
                .required("choice", .choice(DirectiveService.Choice.allCases.map(\.rawValue))), .required("instructions", text),
                .optional("contact", .object([.required("name", text), .optional("email", text)])), .optional("updatedAt", .dateTime),
            ]),
            "ErasureReceipt": .object([
                .required("reference", text.described("The erasure's reference, to quote to the DPO")),
                .required("erasedAt", .dateTime),
                .required("erased", .array(.object([.required("kind", text), .required("label", text), .required("count", .integer())]))),
                .required("kept", .array(.object([
                    .required("category", .object([.required("id", text), .required("name", text)])),
                    .required("purpose", .object([.required("id", text), .required("name", text)])),
                    .required("what", text), .required("reason", text), .required("until", .dateTime),
                    .required("readable", .boolean.described("Whether the service can still read it (the archive), or only a pseudonymous trace remains")),
                ]))),
            ]),
            "AccessReport": .object([
                .required("generatedAt", .dateTime),
                .required("entries", .array(.object([
                    .required("kind", text), .required("id", text), .required("label", text),
                    .required("purpose", .object([.required("id", text), .required("name", text)])),
                    .required("legalBases", .array(text)),
                    .required("recipients", .array(.object([.required("id", text), .required("name", text)]))),
                    .required("retention", .array(.object([
                        .required("category", .object([.required("id", text), .required("name", text)])),
                        .required("rule", text), .optional("endsAt", .dateTime.described("When the active period ends, when the item's dates tell")),
                        .required("then", .choice(["delete", "anonymise", "archive", "none"]).described("What happens then")),
                        .optional("archivedUntil", .dateTime),
                    ]))),
                ]))),
            ]),
            "Organisation": .object([
                .required("id", .uuid), .required("name", text), .required("kind", .choice(OrganisationKind.allCases.map(\.rawValue))),
                .optional("email", text), .required("addressConfirmed", .boolean), .required("admin", .boolean),
            ]),
            "ReceivedFile": .object([
                .required("id", .uuid), .required("reference", text), .required("tenant", text),
                .required("kind", .choice(ShareRules.recipients(in: context.register).map(\.kind.rawValue))),
                .required("purpose", text), .required("wholeFile", .boolean), .required("createdAt", .dateTime), .required("expiresAt", .dateTime),
                .optional("documents", .array(.object([
                    .required("id", .uuid), .required("type", text), .required("name", text), .required("guarantor", .boolean), .required("validated", .boolean),
                ]))),
            ]),
            "OrganisationMember": .object([
                .required("id", .uuid), .required("email", text), .required("firstName", text), .required("lastName", text),
                .required("admin", .boolean), .required("joinedAt", .dateTime),
            ]),
            "OrganisationInvitation": .object([
                .required("id", .uuid), .required("email", text), .required("admin", .boolean), .required("sentAt", .dateTime), .required("expiresAt", .dateTime),
            ]),
            "OrganisationMembers": .object([
                .required("members", .array(.ref("OrganisationMember"))), .required("invitations", .array(.ref("OrganisationInvitation"))),
            ]),
            "Certificate": .object([
                .required("id", .uuid), .required("code", text), .required("url", text), .required("pdf", text), .optional("rent", .integer()),
                .required("status", .choice(CertificateStatus.allCases.map(\.rawValue))),
                .required("issuedAt", .dateTime), .required("expiresAt", .dateTime),
            ]),
            "Completeness": .object([
                .required("person", text), .required("kind", .choice(PersonKind.allCases.map(\.rawValue))), .required("name", text),
                .required("complete", .boolean),
                .required("categories", .array(.object([.required("category", text), .required("name", .localized), .required("complete", .boolean)]))),
            ]),
            "Application": .object([
                .required("id", .uuid), .required("kind", .choice(ApplicationKind.allCases.map(\.rawValue))),
                .required("status", .choice(["member", "pending"])),
                .required("members", .array(.object([
                    .required("account", .uuid), .required("firstName", text), .required("lastName", text),
                    .required("isMe", .boolean), .required("approved", .boolean), .optional("email", text),
                    .optional("completeness", .array(.ref("Completeness"))), .optional("documents", .array(.ref("Document"))),
                ]))),
                .optional("joinCode", text),
            ]),
            "QueueEntry": .object([
                .required("document", .uuid), .required("type", text), .required("category", text), .required("tenant", .uuid),
                .required("tenantName", text), .optional("guarantor", .uuid), .required("files", .integer()),
                .required("source", .choice(Document.Source.allCases.map(\.rawValue))), .required("createdAt", .dateTime),
            ]),
        ]
    }
}

/// The profile's schemas, from ``ProfilePatch/fields``: what a PATCH may send, and what is stored.
enum ProfileSchemas {
    /// A phone number, or blank for none.
    static let phone = Schema.string(maxLength: ProfilePatch.maximumPhoneLength, pattern: "^\(TextRules.spacePattern)$|" + ProfilePatch.phonePattern)

    static func field(_ rule: ProfileFieldRule, today: Date) -> Schema {
        switch rule {
        case let .text(maximum, multiline): .typed(maxLength: maximum, multiline: multiline, required: false)
        case .phone: phone
        case let .date(birthDate):
            .anyOf([
                .constant(""),
                birthDate ? Schema.string(pattern: ProfilePatch.birthDatePattern(today: today)).described("YYYY-MM-DD, someone aged 16 to 120 today") : .string(format: "date"),
            ])
        case let .number(range): .integer(range)
        case let .choice(values): .choice(values)
        case .visits:
            .array(.object([
                .required("date", .string(format: "date")),
                .required("address", .typed(maxLength: ProfilePatch.maximumVisitAddress, multiline: true, required: true)),
            ]), maxItems: ProfilePatch.maximumVisits)
        }
    }

    static func patch(_ context: APIContext) -> Schema {
        let rules = SignUpRules(register: context.register)
        let names: [Schema.Property] = ["firstName", "lastName"].map {
            .optional($0, .typed(maxLength: SignUpRules.maximumNameLength, required: rules.isRequired($0)))
        }
        return .object(names + ProfilePatch.fields.map { .optional($0.name, .nullable(field($0.rule, today: context.today))) })
    }

    /// As stored and answered: text fields trimmed, absent when empty.
    static var stored: Schema {
        .object(ProfilePatch.fields.map { field in
            switch field.rule {
            case .text, .phone: .optional(field.name, .text)
            case .visits: .optional(field.name, .array(.object([.required("date", .string(format: "date")), .required("address", .text)])))
            case .date: .optional(field.name, .string(format: "date"))
            case let .number(range): .optional(field.name, .integer(range))
            case let .choice(values): .optional(field.name, .choice(values))
            }
        })
    }
}
