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
            "Sign up (tenant); sends an email verification link",
            body: object(["email", "password", "firstName", "lastName"], [
                "email": string, "password": string, "firstName": string, "lastName": string,
                "language": ["type": "string", "enum": ["fr", "en"]],
            ]),
            responses: [
                "201": ok("The new account", "application/json", schema: ref("Account")),
                "409": errorResponse("An account exists with this address"),
                "422": errorResponse("Invalid fields, one message each in error.fields"),
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
        "/verify-email": ["get": page("Confirm an email address (token in the query)")],
        "/account": ["get": page("The account and its connection log")],
        "/account/verification": ["post": form("Send the verification link again", fields: [])],
        "/password/forgot": ["get": page("Forgotten password form"), "post": form("Ask for a reset link", fields: ["email"])],
        "/password/reset": ["get": page("New password form (token in the query)"), "post": form("Set a new password", fields: ["token", "password"])],
    ]

    static var paths: [String: JSONValue] { basePaths.merging(accountPaths) { first, _ in first } }

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
