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
            "components": ["schemas": schemas],
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

    static let paths: [String: JSONValue] = [
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
        "Error": [
            "type": "object",
            "required": ["error"],
            "properties": [
                "error": [
                    "type": "object", "required": ["code", "message"],
                    "properties": ["code": ["type": "string"], "message": ["type": "string"]],
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
