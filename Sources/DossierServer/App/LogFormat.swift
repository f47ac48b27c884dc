import Foundation
import Logging
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// How logs are written to standard error (`DOSSIER_LOG_FORMAT`): lines for a person, or one
/// JSON object a line for a log collector. Either way through ``RedactingLogHandler``.
public enum LogFormat: String, CaseIterable, Sendable {
    case text
    case json

    /// `DOSSIER_LOG_FORMAT`, `text` when unset. Throws on any other value.
    public static func from(_ environment: [String: String]) throws -> LogFormat {
        guard let raw = environment["DOSSIER_LOG_FORMAT"]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return .text }
        guard let format = LogFormat(rawValue: raw.lowercased()) else {
            throw ConfigurationError("DOSSIER_LOG_FORMAT must be \"text\" or \"json\", not \"\(raw)\"")
        }
        return format
    }

    /// `LOG_LEVEL`, `info` when unset. Throws on a level swift-log does not know.
    public static func level(_ environment: [String: String]) throws -> Logger.Level {
        guard let raw = environment["LOG_LEVEL"]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return .info }
        guard let level = Logger.Level(rawValue: raw.lowercased()) else {
            throw ConfigurationError("LOG_LEVEL must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(raw)\"")
        }
        return level
    }

    /// The handler every logger of the process gets: redacted, at `level`, to standard error.
    public func handler(label: String, level: Logger.Level) -> any LogHandler {
        var handler: RedactingLogHandler
        switch self {
        case .text: handler = RedactingLogHandler(StreamLogHandler.standardError(label: label))
        case .json: handler = RedactingLogHandler(JSONLogHandler(label: label))
        }
        handler.logLevel = level
        return handler
    }
}

/// One JSON object a line: `time` (UTC, milliseconds), `level`, `label`, `source`, `message` and
/// `metadata` (the error of an event as `error.type` and `error.message`, as the text handler
/// does). Each line is written whole by one `write` under a lock, never interleaved.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    /// `write` receives each line, newline included; standard error by default.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider,
                write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var line = "{\"time\":"
        Self.appendString(Self.timestamp(), to: &line)
        line += ",\"level\":"
        Self.appendString(event.level.rawValue, to: &line)
        line += ",\"label\":"
        Self.appendString(label, to: &line)
        line += ",\"source\":"
        Self.appendString(event.source, to: &line)
        line += ",\"message\":"
        Self.appendString(event.message.description, to: &line)
        if !merged.isEmpty {
            line += ",\"metadata\":"
            Self.append(.dictionary(merged), to: &line)
        }
        line += "}\n"
        write(line)
    }

    private static let lock = NIOLock()

    /// Writes the whole line to file descriptor 2, retrying short writes.
    @Sendable public static func standardError(_ line: String) {
        var bytes = Array(line.utf8)
        lock.withLock {
            bytes.withUnsafeMutableBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    offset += written
                }
            }
        }
    }

    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let milliseconds = Int(now.tv_nsec) / 1_000_000
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let ms = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)Z"
    }

    static func append(_ value: Logger.Metadata.Value, to line: inout String) {
        switch value {
        case let .string(text): appendString(text, to: &line)
        case let .stringConvertible(convertible): appendString(convertible.description, to: &line)
        case let .array(values):
            line += "["
            for (index, element) in values.enumerated() {
                if index > 0 { line += "," }
                append(element, to: &line)
            }
            line += "]"
        case let .dictionary(entries):
            line += "{"
            for (index, key) in entries.keys.sorted().enumerated() {
                if index > 0 { line += "," }
                appendString(key, to: &line)
                line += ":"
                append(entries[key]!, to: &line)
            }
            line += "}"
        }
    }

    /// `text` as a JSON string: quotes, backslashes and control characters escaped.
    static func appendString(_ text: String, to line: inout String) {
        line += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}":
                let hex = String(scalar.value, radix: 16)
                line += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: line.unicodeScalars.append(scalar)
            }
        }
        line += "\""
    }
}
