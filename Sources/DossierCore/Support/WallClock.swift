import Foundation

/// Where the domain reads the time: injected, so that tests and `--at` runs can move it.
public protocol WallClock: Sendable {
    var now: Date { get }
}

/// The real time.
public struct SystemClock: WallClock {
    public init() {}
    public var now: Date { Date() }
}

/// A clock that only moves when told to: for tests, and for running as if it were another time.
public final class ManualClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    public init(_ start: Date) {
        current = start
    }

    public var now: Date {
        lock.withLock { current }
    }

    public func advance(by interval: TimeInterval) {
        lock.withLock { current += interval }
    }

    public func set(_ date: Date) {
        lock.withLock { current = date }
    }
}

extension Calendar {
    /// The Gregorian calendar in UTC: what dates of the register, the rules and the documents are
    /// counted in.
    public static var utcGregorian: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }
}

/// The real time moved by a fixed offset: `dossier retention run --at INSTANT` runs as if it
/// were INSTANT when it started, and time goes on from there.
public struct ShiftedClock: WallClock {
    public let offset: TimeInterval

    public init(startingAt instant: Date) {
        offset = instant.timeIntervalSinceNow
    }

    public var now: Date { Date() + offset }
}
