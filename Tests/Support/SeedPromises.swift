import DossierCore
import Foundation

/// What the seed policies promise (Tests/Fixtures/seed-promises.json): texts every rendering of
/// the shipped register must show.
public struct SeedPromises: Decodable, Sendable {
    public struct Promise: Decodable, Sendable {
        public var seed: String
        public var purpose: String
        public var en: [String]
        public var fr: [String]
        public var periods: [String]
        /// Where the purpose's periods come from: seed, law or decision (``RuleOrigin``).
        public var origin: String

        public func texts(_ language: Language) -> [String] { language == .fr ? fr : en }
    }

    public struct Policy: Decodable, Sendable {
        public var en: [String]
        public var fr: [String]
        public func texts(_ language: Language) -> [String] { language == .fr ? fr : en }
    }

    public var promises: [Promise]
    public var policy: Policy

    /// Only the promises of the activities a build with `capabilities` carries out (a build
    /// without audience measurement sets no audience cookie, and says nothing of it).
    public func carriedOut(by register: Register, capabilities: Set<Capability>) -> SeedPromises {
        var kept = self
        kept.promises = promises.filter { register.purpose($0.purpose)?.isCarriedOut(with: capabilities) ?? true }
        return kept
    }

    public static func load() throws -> SeedPromises {
        let data = try Data(contentsOf: Fixtures.url("seed-promises.json"))
        return try JSONDecoder().decode(SeedPromises.self, from: data)
    }

    /// The expected texts missing from `rendered`, each named with its purpose, for a precise failure.
    public func missing(from rendered: String, language: Language) -> [String] {
        let purposeTexts = promises.flatMap { promise in promise.texts(language).map { "\(promise.purpose): \($0)" } }
        return purposeTexts.filter { !rendered.contains($0.split(separator: ":", maxSplits: 1)[1].dropFirst()) }
            + policy.texts(language).filter { !rendered.contains($0) }
    }
}

/// Files under Tests/Fixtures.
public enum Fixtures {
    public static func url(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(name)
    }

    /// The shipped register's YAML, to derive broken variants from.
    public static func shippedRegisterYAML() throws -> String {
        try String(contentsOf: RegisterLoader.defaultRegisterURL, encoding: .utf8)
    }
}

/// Undoes the HTML escaping Leaf applies, to compare page text with plain expectations.
public func unescapeHTML(_ html: String) -> String {
    [("&#39;", "'"), ("&quot;", "\""), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")]
        .reduce(html) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
}

/// The hostile corpus of Tests/Fixtures/hostile (made by scripts/make-hostile-corpus): each file
/// with the refusal it must get (a `FileInspector.Refusal` case name, or several with `|`).
public struct HostileFile: Decodable, Sendable, CustomStringConvertible {
    public let file: String
    public let refusal: String
    public let why: String
    /// A file that can exhaust or crash a process opening it with qpdf: tested only through the
    /// server, which inspects every file in a process of its own, under limits.
    public let sandboxOnly: Bool?

    public var description: String { file }
    public var acceptedRefusals: [String] { refusal.split(separator: "|").map(String.init) }
    public var bytes: Data { get throws { try Data(contentsOf: Fixtures.url("hostile/\(file)")) } }

    /// The media type a browser would send for its name.
    public var mediaType: String {
        switch (file as NSString).pathExtension.lowercased() {
        case "pdf": "application/pdf"
        case "png": "image/png"
        case "webp": "image/webp"
        default: "image/jpeg"
        }
    }

    public static func corpus() throws -> [HostileFile] {
        try JSONDecoder().decode([HostileFile].self, from: Data(contentsOf: Fixtures.url("hostile/manifest.json")))
    }
}
