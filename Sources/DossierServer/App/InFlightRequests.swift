import NIOConcurrencyHelpers
import Vapor

/// The requests being answered. A stopping server waits for them (a while at most) before it
/// closes the databases: a handler whose client had already gone used to reach for a closed
/// database and stop the process with a trap instead of a clean exit (seen under load).
final class InFlightRequests: Sendable {
    private let count = NIOLockedValueBox(0)

    var current: Int { count.withLockedValue { $0 } }

    func enter() {
        count.withLockedValue { $0 += 1 }
    }

    func leave() {
        count.withLockedValue { $0 -= 1 }
    }

    /// Waits until no request is being answered, or `limit` has passed; whether they all ended.
    func drained(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while current > 0 {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    struct Middleware: AsyncMiddleware {
        let requests: InFlightRequests

        func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
            requests.enter()
            defer { requests.leave() }
            return try await next.respond(to: request)
        }
    }

    /// Registered after the databases, so that it runs before they close (shutdown goes in
    /// reverse order).
    struct Drain: LifecycleHandler {
        let requests: InFlightRequests

        func shutdownAsync(_ application: Application) async {
            if await !requests.drained(within: .seconds(15)) {
                application.logger.warning("stopping with \(requests.current) request(s) still being answered after 15 s")
            }
        }
    }
}
