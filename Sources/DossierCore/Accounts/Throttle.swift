import Foundation

/// How many failed sign-ins are tolerated in a sliding window before further attempts wait.
public struct ThrottlePolicy: Sendable {
    public var maximumFailures: Int
    public var window: TimeInterval

    public init(maximumFailures: Int, window: TimeInterval) {
        self.maximumFailures = maximumFailures
        self.window = window
    }

    /// Per account: 5 failures in 15 minutes.
    public static let perAccount = ThrottlePolicy(maximumFailures: 5, window: 15 * 60)
    /// Per address: 20 failures in 15 minutes, across accounts.
    public static let perAddress = ThrottlePolicy(maximumFailures: 20, window: 15 * 60)

    public enum Decision: Sendable, Equatable {
        case allowed
        /// Wait this long: until the oldest counted failure leaves the window.
        case blocked(retryAfter: TimeInterval)
    }

    /// Decides from the times of recent failures (any order; older ones are ignored).
    public func decision(failures: [Date], now: Date) -> Decision {
        let recent = failures.filter { now.timeIntervalSince($0) < window }.sorted()
        guard recent.count >= maximumFailures else { return .allowed }
        let freeing = recent[recent.count - maximumFailures]
        return .blocked(retryAfter: max(1, window - now.timeIntervalSince(freeing)))
    }
}
