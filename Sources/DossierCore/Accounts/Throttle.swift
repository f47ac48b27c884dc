import Foundation

/// How many failures are tolerated in a sliding window before further attempts wait, with the
/// wait growing at each further failure (progressive delay): 5 free failures, then 30 s, 1 min,
/// 2 min… up to the window's length.
public struct ThrottlePolicy: Sendable {
    public var maximumFailures: Int
    public var window: TimeInterval
    /// The first wait; doubled at each failure beyond the free ones, capped at `window`.
    public var baseDelay: TimeInterval

    public init(maximumFailures: Int, window: TimeInterval, baseDelay: TimeInterval = 30) {
        self.maximumFailures = maximumFailures
        self.window = window
        self.baseDelay = baseDelay
    }

    /// Per account and client address: a stranger's failures never lock the owner out from
    /// elsewhere.
    public static let perAccountAndAddress = ThrottlePolicy(maximumFailures: 5, window: 15 * 60)
    /// Per account from any address: a wide net against a botnet, far above what one person types.
    public static let perAccount = ThrottlePolicy(maximumFailures: 50, window: 15 * 60)
    /// Per client address, across accounts.
    public static let perAddress = ThrottlePolicy(maximumFailures: 20, window: 15 * 60)

    public enum Decision: Sendable, Equatable {
        case allowed
        /// Wait this long.
        case blocked(retryAfter: TimeInterval)
    }

    /// Decides from the times of recent failures (any order; older ones are ignored): after the
    /// free failures, wait `baseDelay × 2^(extra failures)` (at most `window`) from the last one.
    public func decision(failures: [Date], now: Date) -> Decision {
        let recent = failures.filter { now.timeIntervalSince($0) < window }.sorted()
        guard recent.count >= maximumFailures, let last = recent.last else { return .allowed }
        let exponent = min(recent.count - maximumFailures, 30)
        let delay = min(window, baseDelay * Double(1 << exponent))
        let wait = delay - now.timeIntervalSince(last)
        return wait > 0 ? .blocked(retryAfter: max(1, wait.rounded(.up))) : .allowed
    }
}

/// A plain rate limit: at most `maximum` requests in a sliding window.
public struct RateLimit: Sendable {
    public var maximum: Int
    public var window: TimeInterval

    public init(maximum: Int, window: TimeInterval) {
        self.maximum = maximum
        self.window = window
    }

    /// Sign-ups, reset requests and resent verifications from one client address in an hour.
    public static let perClient = RateLimit(maximum: 10, window: 3600)
    /// Messages to one address (sign-up notices, reset links, verification links) in an hour.
    public static let perTarget = RateLimit(maximum: 3, window: 3600)

    /// nil when allowed; else how long until the oldest counted request leaves the window.
    public func retryAfter(requests: [Date], now: Date) -> TimeInterval? {
        let recent = requests.filter { now.timeIntervalSince($0) < window }.sorted()
        guard recent.count >= maximum else { return nil }
        return max(1, (window - now.timeIntervalSince(recent[recent.count - maximum])).rounded(.up))
    }
}
