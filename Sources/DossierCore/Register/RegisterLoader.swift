import Foundation
import Yams

/// Reads a register from YAML, checks it, and returns it only when it has no problem.
public enum RegisterLoader {
    /// The register shipped with Dossier.
    public static var defaultRegisterURL: URL {
        Bundle.module.url(forResource: "register", withExtension: "yaml")!
    }

    /// Loads the register at `url`, or the shipped default.
    public static func load(from url: URL? = nil) throws -> LoadedRegister {
        let url = url ?? defaultRegisterURL
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw InvalidRegister(problems: [RegisterProblem(
                file: url.path, path: "", message: "cannot read the file: \(error.localizedDescription)"
            )])
        }
        return try load(yaml: text, file: url.path)
    }

    /// Parses, decodes and validates a register given as YAML text.
    public static func load(yaml: String, file: String = "register") throws -> LoadedRegister {
        let node: Node
        do {
            guard let composed = try Yams.compose(yaml: yaml) else {
                throw InvalidRegister(problems: [RegisterProblem(file: file, path: "", message: "the file is empty")])
            }
            node = composed
        } catch let error as YamlError {
            throw InvalidRegister(problems: [syntaxProblem(error, file: file)])
        }

        let locator = NodeLocator(root: node, file: file)
        let collected = DecodingProblems()
        let register: Register
        do {
            register = try YAMLDecoder().decode(Register.self, from: node, userInfo: [.registerProblems: collected])
        } catch let error as DecodingError {
            let found = collected.all.map { locator.problem(at: $0.path, $0.message) }
            throw InvalidRegister(problems: found + [locator.problem(for: error)])
        }
        let decodingProblems = collected.all.map { locator.problem(at: $0.path, $0.message) }
        // A value that could not be read stands in as a placeholder: findings about the part
        // of the register that holds it would be noise, so only the others are kept.
        let findings = RegisterValidator.problems(in: register).filter { finding in
            !decodingProblems.contains { NodeLocator.path(finding.path, encloses: $0.path) }
        }
        let problems = decodingProblems + findings.map { locator.problem(at: $0.path, $0.message) }
        guard problems.isEmpty else { throw InvalidRegister(problems: problems) }
        return LoadedRegister(register: register, yaml: yaml)
    }

    private static func syntaxProblem(_ error: YamlError, file: String) -> RegisterProblem {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            RegisterProblem(file: file, path: "", line: mark.line, column: mark.column, message: "invalid YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            RegisterProblem(file: file, path: "", line: context.mark.line, column: context.mark.column,
                            message: "duplicate key(s) \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping")
        default:
            RegisterProblem(file: file, path: "", message: "invalid YAML: \(String(describing: error).prefix { $0 != "\n" })")
        }
    }
}

/// A valid register with what identifies its exact text.
public struct LoadedRegister: Sendable {
    public let register: Register
    /// The YAML it was read from.
    public let yaml: String
    /// SHA-256 of that text: ties a consent or a published version to the exact register.
    public let digest: String

    init(register: Register, yaml: String) {
        self.register = register
        self.yaml = yaml
        digest = Digest.sha256Hex(Data(yaml.utf8))
    }
}

/// Turns coding paths into readable paths and YAML positions.
struct NodeLocator {
    let root: Node
    let file: String

    func problem(at path: [any CodingKey], _ message: String) -> RegisterProblem {
        let mark = node(at: path)?.mark
        return RegisterProblem(file: file, path: Self.describe(path), line: mark?.line, column: mark?.column, message: message)
    }

    func problem(at path: String, _ message: String) -> RegisterProblem {
        problem(at: Self.keys(from: path), message)
    }

    func problem(for error: DecodingError) -> RegisterProblem {
        switch error {
        case let .keyNotFound(key, context):
            return problem(at: context.codingPath, "missing required key '\(key.stringValue)'")
        case let .typeMismatch(type, context):
            return problem(at: context.codingPath, "wrong type; expected \(Self.expectation(type))")
        case let .valueNotFound(type, context):
            return problem(at: context.codingPath, "missing value; expected \(Self.expectation(type))")
        case let .dataCorrupted(context):
            return problem(at: context.codingPath, context.debugDescription)
        @unknown default:
            return RegisterProblem(file: file, path: "", message: "\(error)")
        }
    }

    /// The deepest node found along a path (the key's value, or its nearest existing parent).
    private func node(at path: [any CodingKey]) -> Node? {
        var current = root
        for key in path {
            if let index = key.intValue, let sequence = current.sequence, index < sequence.count {
                current = sequence[index]
            } else if let mapping = current.mapping, let child = mapping[key.stringValue] {
                current = child
            } else {
                break
            }
        }
        return current
    }

    static func describe(_ path: [any CodingKey]) -> String {
        path.reduce(into: "") { text, key in
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
    }

    /// Whether `outer` is `inner` or one of its parents: "purposes[1]" encloses
    /// "purposes[1].name" but not "purposes[10]".
    static func path(_ outer: String, encloses inner: String) -> Bool {
        guard inner.hasPrefix(outer) else { return false }
        let rest = inner.dropFirst(outer.count)
        return rest.isEmpty || rest.hasPrefix(".") || rest.hasPrefix("[")
    }

    /// Parses "purposes[3].retention[0].keep" back into keys.
    static func keys(from path: String) -> [any CodingKey] {
        path.split(separator: ".").flatMap { part -> [any CodingKey] in
            let pieces = part.split(separator: "[")
            return pieces.enumerated().map { offset, piece in
                offset == 0 ? PathKey(String(piece)) : PathKey(Int(piece.dropLast()) ?? 0)
            }
        }
    }

    private static func expectation(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "text"
        case is Int.Type: "a whole number"
        case is Bool.Type: "true or false"
        case is [Any].Type: "a list"
        default: "\(type)".contains("Array") ? "a list" : "a mapping of keys"
        }
    }
}

struct PathKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init(_ int: Int) { stringValue = "\(int)"; intValue = int }
    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { self.init(intValue) }
}
