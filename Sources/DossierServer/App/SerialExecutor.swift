/// Runs async operations one at a time, in the order they arrive: a lock that can be held
/// across `await`.
actor SerialExecutor {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(_ operation: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await operation()
    }

    private func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            // Hand the lock straight to the next in line.
            waiting.removeFirst().resume()
        }
    }
}
