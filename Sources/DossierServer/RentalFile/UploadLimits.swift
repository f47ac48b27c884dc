import DossierCore
import Foundation
import NIOPosix
import Vapor

/// Heavy work done at once (uploads received, exports made): a few in all, one per account. A
/// request over the limit is answered at once (503 or 429 with `Retry-After`), before its body
/// is read or its work begun.
actor UploadGate {
    enum Work: Sendable { case upload, export }

    let maximumConcurrent: Int
    let work: Work
    private var running = 0
    private var accounts: Set<UUID> = []

    init(maximumConcurrent: Int, work: Work = .upload) {
        self.maximumConcurrent = maximumConcurrent
        self.work = work
    }

    struct Busy: ExplainedFailure {
        var status: HTTPResponseStatus
        var reason: String
        var headers: HTTPHeaders { ["Retry-After": "5"] }
    }

    func enter(_ account: UUID, language: Language) throws {
        let fr = language == .fr
        let upload = work == .upload
        guard !accounts.contains(account) else {
            throw Busy(status: .tooManyRequests, reason: upload
                ? (fr ? "Un envoi est déjà en cours : attendez qu'il se termine." : "An upload is already under way: wait for it to finish.")
                : (fr ? "Un export est déjà en cours : attendez qu'il se termine." : "An export is already under way: wait for it to finish."))
        }
        guard running < maximumConcurrent else {
            throw Busy(status: .serviceUnavailable, reason: upload
                ? (fr ? "Trop d'envois en cours : réessayez dans quelques secondes." : "Too many uploads under way: try again in a few seconds.")
                : (fr ? "Trop d'exports en cours : réessayez dans quelques secondes." : "Too many exports under way: try again in a few seconds."))
        }
        running += 1
        accounts.insert(account)
    }

    func leave(_ account: UUID) {
        if accounts.remove(account) != nil { running -= 1 }
    }

    /// Runs `body` inside the gate.
    func admit<T: Sendable>(_ account: UUID, language: Language, _ body: @Sendable () async throws -> T) async throws -> T {
        try enter(account, language: language)
        do {
            let result = try await body()
            leave(account)
            return result
        } catch {
            leave(account)
            throw error
        }
    }
}

/// CPU-heavy inspection of uploaded files, on threads of its own: never on an event loop nor on
/// the cooperative pool that serves every other request. A few run at once; a few more wait;
/// beyond that the request is refused with 503.
final class InspectionPool: Sendable {
    private let pool: NIOThreadPool
    private let slots: ManagedSlots
    /// What a request that finds every slot taken is told (503), in each language.
    private let busy: @Sendable (Language) -> String

    init(maximumConcurrent: Int, maximumWaiting: Int, busy: @escaping @Sendable (Language) -> String) {
        self.busy = busy
        pool = NIOThreadPool(numberOfThreads: maximumConcurrent)
        pool.start()
        slots = ManagedSlots(limit: maximumConcurrent + maximumWaiting)
    }

    /// `language`: the refusal's, when every slot is taken.
    func run<T: Sendable>(in language: Language, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard slots.take() else {
            throw UploadGate.Busy(status: .serviceUnavailable, reason: busy(language))
        }
        defer { slots.give() }
        return try await pool.runIfActive(work)
    }

    /// Inspections running or waiting.
    var occupied: Int { slots.used }

    func shutdown() async {
        try? await pool.shutdownGracefully()
    }

    final class ManagedSlots: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        let limit: Int

        var used: Int { lock.withLock { count } }

        init(limit: Int) {
            self.limit = limit
        }

        func take() -> Bool {
            lock.withLock {
                guard count < limit else { return false }
                count += 1
                return true
            }
        }

        func give() {
            lock.withLock { count -= 1 }
        }
    }
}

/// Stops the inspection threads with the application.
struct InspectionPoolShutdown: LifecycleHandler {
    func shutdownAsync(_ application: Application) async {
        await application.dossier.inspections.shutdown()
        await application.dossier.renditions.shutdown()
    }
}
