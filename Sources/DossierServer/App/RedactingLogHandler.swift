import Logging

/// Wraps a log handler and blanks the metadata that carries stored values: Fluent logs each
/// query at debug with its `input` and `filters`, which hold names, addresses and tokens.
/// The query's shape (schema, action, fields) stays, so debug logs remain useful.
public struct RedactingLogHandler: LogHandler {
    public static let redactedKeys: Set<String> = ["input", "filters", "binds"]

    private var wrapped: any LogHandler

    public init(_ wrapped: any LogHandler) {
        self.wrapped = wrapped
    }

    public func log(event: LogEvent) {
        var event = event
        if var metadata = event.metadata {
            for key in metadata.keys where Self.redactedKeys.contains(key) {
                metadata[key] = "<redacted>"
            }
            event.metadata = metadata
        }
        wrapped.log(event: event)
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }
}
