import DossierCore

/// The OpenAPI 3.1 description of every route. A test keeps it equal to the routes the server
/// actually registers, so it cannot drift.
enum OpenAPIDocument {
    static func make(registerVersion: String) -> JSONValue {
        [
            "openapi": "3.1.0",
            "info": [
                "title": "Dossier",
                "version": "1",
                "description": .string("Tenants' rental files with an executable privacy policy. Register version \(registerVersion)."),
            ],
            "paths": .object(paths),
            "components": [
                "schemas": schemas,
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "description": "Token from POST /api/v1/sessions"]],
            ],
        ]
    }

    /// A language query parameter.
    static let lang: JSONValue = [
        "name": "lang", "in": "query", "required": false,
        "schema": ["type": "string", "enum": ["fr", "en"]],
        "description": "Language; defaults to the best of Accept-Language, else French.",
    ]

    static func errorResponse(_ description: String) -> JSONValue {
        ["description": .string(description), "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]]
    }

    static func ok(_ description: String, _ type: String, schema: JSONValue = ["type": "string"]) -> JSONValue {
        ["description": .string(description), "content": .object([type: ["schema": schema]])]
    }

    static func get(_ summary: String, parameters: [JSONValue] = [], responses: [String: JSONValue]) -> JSONValue {
        var all = responses
        all["default"] = errorResponse("An error")
        return ["get": ["summary": .string(summary), "parameters": .array(parameters), "responses": .object(all)]]
    }

    static func operation(_ summary: String, body: JSONValue? = nil, security: Bool = false, responses: [String: JSONValue]) -> JSONValue {
        var all = responses
        all["default"] = errorResponse("An error")
        var operation: [String: JSONValue] = ["summary": .string(summary), "responses": .object(all)]
        if let body {
            operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": body]]]
        }
        if security { operation["security"] = [["bearer": []]] }
        return .object(operation)
    }

    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    static func object(_ required: [String], _ properties: [String: JSONValue]) -> JSONValue {
        ["type": "object", "required": .array(required.map { .string($0) }), "properties": .object(properties)]
    }

    static let string: JSONValue = ["type": "string"]

    /// A browser page: HTML, or a form post answered by a redirect or the page again.
    static func page(_ summary: String) -> JSONValue {
        ["summary": .string(summary), "responses": ["200": ok("HTML page", "text/html"), "303": ["description": "Redirect"], "default": ["description": "HTML page telling what went wrong"]]]
    }

    static func form(_ summary: String, fields: [String]) -> JSONValue {
        [
            "summary": .string(summary),
            "requestBody": ["required": true, "content": ["application/x-www-form-urlencoded": ["schema": object(["csrf"], Dictionary(uniqueKeysWithValues: (["csrf"] + fields).map { ($0, string) }))]]],
            "responses": [
                "303": ["description": "Done: redirect"], "200": ok("HTML page", "text/html"),
                "403": ["description": "CSRF token missing or wrong"], "default": ["description": "The form again, with what to fix"],
            ],
        ]
    }

    static let accountPaths: [String: JSONValue] = [
        "/api/v1/accounts": ["post": operation(
            "Sign up (tenant); sends an email verification link. The same answer whether or not the address already has an account (its owner is told by email); rate-limited per client and per address",
            body: object(["email", "password", "firstName", "lastName"], [
                "email": string, "password": string, "firstName": string, "lastName": string,
                "language": ["type": "string", "enum": ["fr", "en"]],
            ]),
            responses: [
                "201": ok("Accepted: check the inbox", "application/json", schema: object(["email", "emailVerified", "message"], [
                    "email": string, "emailVerified": ["type": "boolean"], "message": string,
                ])),
                "422": errorResponse("Invalid fields, one message each in error.fields"),
                "429": errorResponse("Too many sign-ups from this client or for this address"),
            ]
        )],
        "/api/v1/accounts/verify": ["post": operation(
            "Confirm an email address with the token from the link",
            body: object(["token"], ["token": string]),
            responses: ["200": ok("The account", "application/json", schema: ref("Account")), "404": errorResponse("Unknown token"), "410": errorResponse("Used or expired token")]
        )],
        "/api/v1/sessions": ["post": operation(
            "Sign in; returns a bearer token",
            body: object(["email", "password"], ["email": string, "password": string]),
            responses: [
                "201": ok("A session", "application/json", schema: object(["token", "expiresAt"], ["token": string, "expiresAt": ["type": "string", "format": "date-time"]])),
                "401": errorResponse("Wrong address or password"),
                "429": errorResponse("Too many failed attempts; see Retry-After"),
            ]
        )],
        "/api/v1/sessions/current": ["delete": operation("Sign out", security: true, responses: ["204": ["description": "Signed out"], "401": errorResponse("Not signed in")])],
        "/api/v1/password/forgot": ["post": operation(
            "Ask for a password reset link (always 202)", body: object(["email"], ["email": string]),
            responses: ["202": ["description": "Sent if the account exists"]]
        )],
        "/api/v1/password/reset": ["post": operation(
            "Set a new password with the single-use token; ends every session",
            body: object(["token", "password"], ["token": string, "password": string]),
            responses: ["204": ["description": "Changed"], "404": errorResponse("Unknown token"), "410": errorResponse("Used or expired token"), "422": errorResponse("Password refused")]
        )],
        "/api/v1/me": ["get": operation("The signed-in account", security: true, responses: ["200": ok("The account", "application/json", schema: ref("Account")), "401": errorResponse("Not signed in")])],
        "/api/v1/me/connections": ["get": operation(
            "The account's connection log, newest first", security: true,
            responses: ["200": ok("Connection events", "application/json", schema: ["type": "array", "items": ref("Connection")]), "401": errorResponse("Not signed in")]
        )],
        "/api/v1/me/verification": ["post": operation(
            "Send the email verification link again", security: true,
            responses: ["202": ["description": "Sent"], "409": errorResponse("Already verified"), "401": errorResponse("Not signed in")]
        )],
        "/": ["get": page("Home page")],
        "/signup": ["get": page("Sign-up form"), "post": form("Sign up", fields: ["email", "password", "firstName", "lastName", "language"])],
        "/signin": ["get": page("Sign-in form"), "post": form("Sign in", fields: ["email", "password"])],
        "/signout": ["post": form("Sign out", fields: [])],
        "/account": ["get": page("The account and its connection log")],
        "/account/verification": ["post": form("Send the verification link again", fields: [])],
        "/password/forgot": ["get": page("Forgotten password form"), "post": form("Ask for a reset link", fields: ["email"])],
        "/password/reset": ["get": page("New password form (token in the query)"), "post": form("Set a new password", fields: ["token", "password"])],
        "/file": ["get": page("The tenant's file: completeness, documents, guarantors, profile")],
        "/file/profile": ["post": form("Save the profile", fields: ["city", "monthlyIncome", "…"])],
        "/file/guarantors": ["post": form("Add a guarantor", fields: ["kind", "name", "email"])],
        "/file/guarantors/{guarantor}/delete": ["post": form("Remove a guarantor", fields: [])],
        "/file/household/{member}/approve": ["post": form("Let a tenant waiting to join the application in", fields: [])],
        "/file/household/{member}/decline": ["post": form("Turn away a tenant waiting to join the application", fields: [])],
        "/file/household/leave": ["post": form("Leave the application", fields: [])],
        "/verify-email": ["get": page("Asks to confirm the address (the emailed link's token)"),
                          "post": form("Confirm the address", fields: ["token"])],
        "/file/documents": ["post": [
            "summary": "Upload a document from the page (multipart, with the CSRF token in X-CSRF-Token or the csrf query parameter; JSON back when asked)",
            "requestBody": uploadBody,
            "responses": ["201": ["description": "Stored (JSON)"], "303": ["description": "Stored: redirect"], "403": ["description": "CSRF token missing or wrong"], "default": ["description": "The page again, with why"]],
        ]],
        "/file/documents/{document}/delete": ["post": form("Delete a document", fields: [])],
        "/file/documents/{document}/content": ["get": page("A file of one of the tenant's documents")],
        "/staff/reviews": ["get": page("Staff: the review queue")],
        "/staff/documents/{document}/content": ["get": page("Staff: a file under review (audited)")],
        "/staff/documents/{document}/review": ["post": form("Staff: validate or decline", fields: ["decision", "reasons[]", "comment"])],
        "/assets/upload.js": ["get": ["summary": "The upload script (progress bar)", "responses": ["200": ok("JavaScript", "text/javascript")]]],
    ]

    static var paths: [String: JSONValue] {
        basePaths.merging(accountPaths) { first, _ in first }.merging(filePaths) { first, _ in first }
    }

    static func pathParameter(_ name: String) -> JSONValue {
        ["name": .string(name), "in": "path", "required": true, "schema": ["type": "string", "format": "uuid"]]
    }

    static func with(_ operation: JSONValue, parameters: [JSONValue]) -> JSONValue {
        guard case var .object(fields) = operation else { return operation }
        fields["parameters"] = .array(parameters)
        return .object(fields)
    }

    static let uploadBody: JSONValue = [
        "required": true,
        "content": ["multipart/form-data": ["schema": object(["type", "file"], [
            "type": ["type": "string", "description": "A document type id from GET /api/v1/catalogue/documents"],
            "file": ["type": "array", "items": ["type": "string", "format": "binary"], "description": "1 to 5 files: PDF, JPEG or PNG, 20 MB each at most"],
            "guarantor": ["type": "string", "format": "uuid", "description": "For a guarantor's document"],
        ])]],
    ]

    static func upload(_ summary: String, extra: [String: JSONValue] = [:], parameters: [JSONValue] = []) -> JSONValue {
        var body = uploadBody
        if !extra.isEmpty, case var .object(fields) = body,
           case var .object(content)? = fields["content"], case var .object(form)? = content["multipart/form-data"],
           case var .object(schema)? = form["schema"], case var .object(properties)? = schema["properties"] {
            for (key, value) in extra { properties[key] = value }
            schema["properties"] = .object(properties)
            form["schema"] = .object(schema)
            content["multipart/form-data"] = .object(form)
            fields["content"] = .object(content)
            body = .object(fields)
        }
        return [
            "summary": .string(summary),
            "security": [["bearer": []]],
            "parameters": .array(parameters),
            "requestBody": body,
            "responses": [
                "201": ok("The stored document", "application/json", schema: ref("Document")),
                "413": errorResponse("A file over 20 MB, or too many files"),
                "415": errorResponse("Not a PDF, JPEG or PNG by content, or content and name/type disagree"),
                "422": errorResponse("A forbidden or unknown document type, or a PDF with active content"),
                "default": errorResponse("An error"),
            ],
        ]
    }

    static let fileContent: JSONValue = [
        "description": "The file as stored (metadata stripped)",
        "content": ["application/pdf": ["schema": ["type": "string", "format": "binary"]], "image/jpeg": ["schema": ["type": "string", "format": "binary"]], "image/png": ["schema": ["type": "string", "format": "binary"]]],
    ]

    static let fileQuery: JSONValue = ["name": "file", "in": "query", "required": false, "schema": ["type": "integer", "minimum": 1], "description": "Which file of the document (default 1)"]

    static let filePaths: [String: JSONValue] = [
        "/api/v1/catalogue/documents": ["get": operation("Document types (decree 2015-1437), and the forbidden ones with why (art. 22-2 law 89-462)", responses: [
            "200": ok("Catalogue entries", "application/json", schema: ["type": "array", "items": ref("CatalogueEntry")]),
        ])],
        "/api/v1/me/profile": [
            "get": operation("The tenant's profile", security: true, responses: ["200": ok("Profile", "application/json", schema: ref("Profile"))]),
            "patch": operation("Rectify the profile: present fields set, null clears", body: ["type": "object"], security: true,
                               responses: ["200": ok("Profile", "application/json", schema: ref("Profile")), "422": errorResponse("Invalid fields")]),
        ],
        "/api/v1/me/guarantors": [
            "get": operation("The tenant's guarantors", security: true, responses: ["200": ok("Guarantors", "application/json", schema: ["type": "array", "items": ref("Guarantor")])]),
            "post": operation("Add a guarantor (two at most): a person, a company or an organisation",
                              body: object(["kind", "name"], ["kind": ["type": "string", "enum": ["guarantor", "company", "organisation"]], "name": string, "email": string, "phone": string]),
                              security: true, responses: ["201": ok("The guarantor", "application/json", schema: ref("Guarantor")), "409": errorResponse("Already two"), "422": errorResponse("Invalid fields")]),
        ],
        "/api/v1/me/guarantors/{guarantor}": ["delete": with(operation("Remove a guarantor, their documents and their key", security: true, responses: ["204": ["description": "Removed"], "404": errorResponse("No such guarantor")]),
                                                              parameters: [pathParameter("guarantor")])],
        "/api/v1/me/documents": [
            "get": operation("The file's documents, with their review", security: true, responses: ["200": ok("Documents", "application/json", schema: ["type": "array", "items": ref("Document")])]),
            "post": upload("Upload a document: its type and one or more files"),
        ],
        "/api/v1/me/documents/{document}": ["delete": with(operation("Delete a document and its files", security: true, responses: ["204": ["description": "Deleted"], "404": errorResponse("No such document")]),
                                                            parameters: [pathParameter("document")])],
        "/api/v1/me/documents/{document}/content": ["get": with(operation("A file of a document", security: true, responses: ["200": fileContent, "404": errorResponse("No such document or file")]),
                                                                 parameters: [pathParameter("document"), fileQuery])],
        "/api/v1/me/completeness": ["get": operation("Per person (tenant, guarantors): which required categories are covered", security: true,
                                                     responses: ["200": ok("Completeness", "application/json", schema: ["type": "array", "items": ["type": "object"]])])],
        "/api/v1/me/application": [
            "get": operation("The application the tenant belongs to; a couple's partner's file is included", security: true,
                             responses: ["200": ok("Application", "application/json", schema: ref("Application")), "404": errorResponse("None")]),
            "post": operation("Start an application (alone, couple, group); the answer carries the join code once",
                              body: object(["kind"], ["kind": ["type": "string", "enum": ["alone", "couple", "group"]]]), security: true,
                              responses: ["201": ok("Application", "application/json", schema: ref("Application")), "409": errorResponse("Already in one")]),
            "delete": operation("Leave the application, or withdraw a request to join; the last to leave closes it", security: true,
                                responses: ["204": ["description": "Left"], "404": errorResponse("Not in one")]),
        ],
        "/api/v1/me/application/join": ["post": operation("Ask to join an application with its code; a member already in must approve (status pending until then)",
                                                          body: object(["code"], ["code": string]), security: true,
                                                          responses: ["200": ok("Application", "application/json", schema: ref("Application")), "403": errorResponse("Address not verified"),
                                                                      "404": errorResponse("Unknown code"), "409": errorResponse("Full, or already in one")])],
        "/api/v1/me/application/members/{member}/approve": ["post": with(operation("Let a tenant waiting to join in", security: true,
                                                                                   responses: ["200": ok("Application", "application/json", schema: ref("Application")), "404": errorResponse("No such request")]),
                                                                         parameters: [pathParameter("member")])],
        "/api/v1/me/application/members/{member}": ["delete": with(operation("Turn away a tenant waiting to join", security: true,
                                                                             responses: ["204": ["description": "Declined"], "404": errorResponse("No such request")]),
                                                                   parameters: [pathParameter("member")])],
        "/api/v1/me/application/members/{partner}/documents/{document}/content": ["get": with(operation("A couple partner's document file (audited)", security: true,
                                                                                                         responses: ["200": fileContent, "404": errorResponse("Not visible to you")]),
                                                                                               parameters: [pathParameter("partner"), pathParameter("document"), fileQuery])],
        "/api/v1/staff/reviews": ["get": operation("Staff: documents awaiting review, oldest first", security: true,
                                                   responses: ["200": ok("Queue", "application/json", schema: ["type": "array", "items": ["type": "object"]]), "403": errorResponse("Staff only")])],
        "/api/v1/staff/documents/{document}/content": ["get": with(operation("Staff: read a file under review (audited)", security: true, responses: ["200": fileContent, "403": errorResponse("Staff only")]),
                                                                    parameters: [pathParameter("document"), fileQuery])],
        "/api/v1/staff/documents/{document}/review": ["post": with(operation("Staff: validate or decline, with reasons from the catalogue and a comment; the tenant is emailed",
                                                                             body: object(["decision"], ["decision": ["type": "string", "enum": ["validated", "declined"]], "reasons": ["type": "array", "items": string], "comment": string]),
                                                                             security: true, responses: ["204": ["description": "Recorded"], "403": errorResponse("Staff only"), "422": errorResponse("Unknown reason, or none to decline")]),
                                                                   parameters: [pathParameter("document")])],
        "/api/v1/staff/tenants/{account}/documents": ["post": upload("Staff: file a document a tenant sent by email or post",
                                                                     extra: ["source": ["type": "string", "enum": ["email", "post"]], "receivedAt": ["type": "string", "format": "date"]],
                                                                     parameters: [pathParameter("account")])],
    ]

    static let basePaths: [String: JSONValue] = [
        "/health": get("Readiness: 200 when the database answers", responses: [
            "200": ok("Ready", "application/json", schema: ["$ref": "#/components/schemas/Health"]),
            "503": errorResponse("The database is unreachable"),
        ]),
        "/openapi.json": get("This document", responses: ["200": ok("OpenAPI 3.1 document", "application/json", schema: ["type": "object"])]),
        "/privacy": get("The privacy policy now in force, rendered from the register", parameters: [lang], responses: [
            "200": ok("Policy page", "text/html"),
            "400": errorResponse("Unsupported language"),
        ]),
        "/privacy/versions": get("Every published policy version (JSON with Accept: application/json)", parameters: [lang], responses: [
            "200": [
                "description": "Published versions, newest first",
                "content": [
                    "application/json": ["schema": ["type": "array", "items": ["$ref": "#/components/schemas/PolicyVersion"]]],
                    "text/html": ["schema": ["type": "string"]],
                ],
            ],
        ]),
        "/privacy/versions/{version}": [
            "get": [
                "summary": "A published policy version, rendered from its own register text",
                "parameters": [["name": "version", "in": "path", "required": true, "schema": ["type": "string"]], lang],
                "responses": ["200": ok("Policy page", "text/html"), "404": errorResponse("No such version"), "default": errorResponse("An error")],
            ],
        ],
        "/api/v1/register": get("The register as JSON", responses: [
            "200": ok("The register", "application/json", schema: ["$ref": "#/components/schemas/Register"]),
        ]),
        "/api/v1/register/record.csv": get("GDPR Art. 30 record of processing activities (CNIL template fields), one row per purpose", parameters: [lang], responses: [
            "200": ok("CSV with a header row", "text/csv"),
        ]),
        "/api/v1/register/record.jsonld": get("The Art. 30 record in W3C DPV terms", parameters: [lang], responses: [
            "200": ok("JSON-LD", "application/ld+json", schema: ["type": "object"]),
        ]),
    ]

    static let schemas: JSONValue = [
        "CatalogueEntry": object(["id", "name", "for", "minimumFiles", "forbidden"], [
            "id": string, "category": string, "categoryName": ["type": "object"], "name": ["type": "object"],
            "for": ["type": "array", "items": ["type": "string", "enum": ["tenant", "guarantor", "company", "organisation"]]],
            "minimumFiles": ["type": "integer"], "forbidden": ["type": "boolean"], "why": ["type": "object"],
        ]),
        "Profile": object(["firstName", "lastName", "email", "profile", "mandatory"], [
            "firstName": string, "lastName": string, "email": string, "profile": ["type": "object"], "mandatory": ["type": "array", "items": string],
        ]),
        "Guarantor": object(["id", "kind", "name"], ["id": ["type": "string", "format": "uuid"], "kind": string, "name": string, "email": string, "phone": string]),
        "Document": object(["id", "type", "category", "status", "source", "createdAt", "files", "reviews"], [
            "id": ["type": "string", "format": "uuid"], "type": string, "category": string, "guarantor": ["type": "string", "format": "uuid"],
            "status": ["type": "string", "enum": ["pending", "validated", "declined"]], "source": ["type": "string", "enum": ["upload", "email", "post"]],
            "receivedAt": ["type": "string", "format": "date-time"], "createdAt": ["type": "string", "format": "date-time"],
            "files": ["type": "array", "items": ["type": "object"]], "reviews": ["type": "array", "items": ["type": "object"]],
        ]),
        "Application": object(["id", "kind", "status", "members"], [
            "id": ["type": "string", "format": "uuid"], "kind": ["type": "string", "enum": ["alone", "couple", "group"]],
            "status": ["type": "string", "enum": ["member", "pending"]],
            "members": ["type": "array", "items": ["type": "object"]], "joinCode": string,
        ]),
        "Account": object(["id", "email", "firstName", "lastName", "language", "role", "emailVerified", "createdAt"], [
            "id": ["type": "string", "format": "uuid"], "email": string, "firstName": string, "lastName": string,
            "language": ["type": "string", "enum": ["fr", "en"]],
            "role": ["type": "string", "enum": ["tenant", "operator", "dpo", "admin", "member"]],
            "emailVerified": ["type": "boolean"], "createdAt": ["type": "string", "format": "date-time"],
        ]),
        "Connection": object(["occurredAt", "kind", "outcome", "ipAddress", "userAgent"], [
            "occurredAt": ["type": "string", "format": "date-time"],
            "kind": ["type": "string", "enum": ["sign-in", "sign-out", "password-reset"]],
            "outcome": ["type": "string", "enum": ["success", "wrong-password", "unknown-account", "throttled"]],
            "ipAddress": string, "userAgent": string,
        ]),
        "Error": [
            "type": "object",
            "required": ["error"],
            "properties": [
                "error": [
                    "type": "object", "required": ["code", "message"],
                    "properties": [
                        "code": ["type": "string"], "message": ["type": "string"],
                        "fields": ["type": "array", "items": object(["field", "message"], ["field": ["type": "string"], "message": ["type": "string"]])],
                    ],
                ],
            ],
        ],
        "Health": [
            "type": "object",
            "required": ["status", "database", "registerVersion"],
            "properties": ["status": ["type": "string"], "database": ["type": "string"], "registerVersion": ["type": "string"]],
        ],
        "PolicyVersion": [
            "type": "object",
            "required": ["version", "effectiveDate", "publishedAt", "digest", "url"],
            "properties": [
                "version": ["type": "string"], "effectiveDate": ["type": "string", "format": "date"],
                "publishedAt": ["type": "string", "format": "date-time"], "digest": ["type": "string"], "url": ["type": "string"],
            ],
        ],
        "Register": [
            "type": "object",
            "required": ["version", "effectiveDate", "controller", "purposes", "categories"],
            "properties": [
                "version": ["type": "string"],
                "effectiveDate": ["type": "string", "format": "date"],
                "controller": ["type": "object"],
                "categories": ["type": "array", "items": ["type": "object"]],
                "purposes": ["type": "array", "items": ["type": "object"]],
                "recipients": ["type": "array", "items": ["type": "object"]],
                "processors": ["type": "array", "items": ["type": "object"]],
                "transfers": ["type": "array", "items": ["type": "object"]],
                "rights": ["type": "array", "items": ["type": "object"]],
            ],
        ],
    ]
}
