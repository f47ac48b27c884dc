import DossierCore
import Vapor

/// A JSON Schema (2020-12, as OpenAPI 3.1 uses it), typed: the API document's schemas are built
/// from these, with limits taken from the validators' own constants, and JSON request bodies are
/// held to their schema's field names (``APIRequestBody``).
indirect enum Schema: Sendable {
    case string(minLength: Int? = nil, maxLength: Int? = nil, pattern: String? = nil, format: String? = nil)
    case choice([String])
    case integer(ClosedRange<Int>? = nil)
    case boolean
    case array(Schema, minItems: Int? = nil, maxItems: Int? = nil, unique: Bool = false)
    /// An object; `closed`: no other property may appear.
    case object([Property], closed: Bool = true)
    /// An object with any properties of the given kind (a map).
    case map(Schema)
    case ref(String)
    case nullable(Schema)
    case constant(String)
    /// Exactly one of the variants (e.g. a decision and what it requires).
    case oneOf([Schema])
    /// Any of the variants (e.g. a date, or an empty text that clears it).
    case anyOf([Schema])
    case described(Schema, String)
    /// Anything (the `true` schema).
    case any

    struct Property: Sendable {
        var name: String
        var schema: Schema
        var isRequired: Bool

        static func required(_ name: String, _ schema: Schema) -> Property { Property(name: name, schema: schema, isRequired: true) }
        static func optional(_ name: String, _ schema: Schema) -> Property { Property(name: name, schema: schema, isRequired: false) }
    }

    static let uuid = Schema.string(format: "uuid")
    static let dateTime = Schema.string(format: "date-time")
    static let text = Schema.string()
    static let localized = Schema.ref("LocalizedText")


    /// A person-typed text field (``TextRules``).
    static func typed(maxLength: Int, multiline: Bool = false, required: Bool) -> Schema {
        .string(maxLength: maxLength, pattern: TextRules.pattern(multiline: multiline, required: required))
    }

    /// An email address as ``EmailAddress`` accepts it.
    static let email = Schema.string(maxLength: EmailAddress.maximumLength, pattern: EmailAddress.pattern)

    func described(_ text: String) -> Schema { .described(self, text) }

    /// The names of an object's properties (empty for anything else).
    var propertyNames: Set<String> {
        switch self {
        case let .object(properties, _): Set(properties.map(\.name))
        case let .described(schema, _): schema.propertyNames
        case let .oneOf(variants), let .anyOf(variants): variants.reduce(into: []) { $0.formUnion($1.propertyNames) }
        default: []
        }
    }

    var json: JSONValue {
        switch self {
        case let .string(minLength, maxLength, pattern, format):
            var schema: [String: JSONValue] = ["type": "string"]
            if let minLength { schema["minLength"] = .number(Double(minLength)) }
            if let maxLength { schema["maxLength"] = .number(Double(maxLength)) }
            if let pattern { schema["pattern"] = .string(pattern) }
            if let format { schema["format"] = .string(format) }
            return .object(schema)
        case let .choice(values):
            return ["type": "string", "enum": .array(values.map { .string($0) })]
        case let .integer(range):
            var schema: [String: JSONValue] = ["type": "integer"]
            if let range {
                schema["minimum"] = .number(Double(range.lowerBound))
                schema["maximum"] = .number(Double(range.upperBound))
            }
            return .object(schema)
        case .boolean:
            return ["type": "boolean"]
        case let .array(items, minItems, maxItems, unique):
            var schema: [String: JSONValue] = ["type": "array", "items": items.json]
            if unique { schema["uniqueItems"] = .bool(true) }
            if let minItems { schema["minItems"] = .number(Double(minItems)) }
            if let maxItems { schema["maxItems"] = .number(Double(maxItems)) }
            return .object(schema)
        case let .object(properties, closed):
            var schema: [String: JSONValue] = [
                "type": "object",
                "properties": .object(Dictionary(uniqueKeysWithValues: properties.map { ($0.name, $0.schema.json) })),
                "required": .array(properties.filter(\.isRequired).map { .string($0.name) }),
            ]
            if closed { schema["additionalProperties"] = false }
            return .object(schema)
        case let .map(values):
            return ["type": "object", "additionalProperties": values.json]
        case let .ref(name):
            return ["$ref": .string("#/components/schemas/\(name)")]
        case let .nullable(schema):
            return ["anyOf": [schema.json, ["type": "null"]]]
        case let .constant(value):
            return ["type": "string", "const": .string(value)]
        case let .oneOf(variants):
            return ["oneOf": .array(variants.map(\.json))]
        case let .anyOf(variants):
            return ["anyOf": .array(variants.map(\.json))]
        case .any:
            return .object([:])
        case let .described(schema, text):
            guard case var .object(fields) = schema.json else { return schema.json }
            fields["description"] = .string(text)
            return .object(fields)
        }
    }
}

/// A JSON request body with its schema. ``Request/decodeBody(_:)`` refuses a field the schema
/// does not name (422, "unknown field"), so a misspelt field is never silently ignored and the
/// API document cannot name fewer fields than the server reads.
protocol APIRequestBody: Decodable {
    static func schema(_ context: APIContext) -> Schema
}

/// What a schema may depend on: the register (which names are mandatory) and the catalogue
/// (document types, reasons to decline).
struct APIContext: Sendable {
    var register: Register
    var catalogue: DocumentCatalogue
    /// Today, for rules that depend on it (a plausible birth date).
    var today: Date
}

extension Request {
    var apiContext: APIContext { APIContext(register: register, catalogue: dossier.catalogue, today: dossier.clock.now) }
}

extension Request {
    /// The body as `T`: 415 unless JSON, 400 unless a JSON object of the right types, 422 for
    /// a field `T`'s schema does not name.
    func decodeBody<T: APIRequestBody>(_ type: T.Type, language: Language? = nil) throws -> T {
        guard let contentType = headers.contentType, contentType.type == "application",
              contentType.subType == "json" || contentType.subType.hasSuffix("+json")
        else {
            throw Abort(.unsupportedMediaType, reason: "Send JSON (Content-Type: application/json).")
        }
        guard case let .object(fields) = try content.decode(JSONValue.self) else {
            throw Abort(.badRequest, reason: "The request body is invalid: send a JSON object.")
        }
        let unknown = Set(fields.keys).subtracting(T.schema(apiContext).propertyNames)
        if !unknown.isEmpty {
            let message = ProfileWording(language ?? (try? policyLanguage()) ?? .fr).unknownField
            throw ValidationFailure(problems: unknown.sorted().map { FieldProblem(field: $0, message: message) })
        }
        return try content.decode(T.self)
    }
}
