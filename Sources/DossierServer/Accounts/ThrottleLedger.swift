import DossierCore
import Fluent
import Foundation
import Logging
import SQLKit

/// Counted requests and failures for the throttles and rate limits, by scope and by a SHA-256 of
/// what is limited (a client address, an email address as typed, both): never the value itself.
/// Whether an account exists makes no difference to what is counted, so the answers cannot tell.
struct ThrottleLedger: Sendable {
    let database: any Database

    struct Key: Sendable, Hashable {
        var scope: String
        var key: String

        init(_ scope: String, _ values: String...) {
            self.scope = scope
            key = Digest.sha256Hex(Data(values.joined(separator: "\u{1F}").utf8))
        }
    }

    /// The times of the events counted under `key` since `since`, but those in `excluding`.
    func times(_ key: Key, since: Date, excluding: Set<UUID> = []) async throws -> [Date] {
        try await ThrottleEvent.query(on: database).filter(\.$scope == key.scope).filter(\.$key == key.key)
            .filter(\.$occurredAt > since).all()
            .filter { !excluding.contains($0.id ?? UUID()) }.map(\.occurredAt)
    }

    /// How many events each of `keys` (of one scope) counts since `since`, in one statement.
    func counts(_ keys: [Key], since: Date) async throws -> [Key: Int] {
        guard let scope = keys.first?.scope else { return [:] }
        precondition(keys.allSatisfy { $0.scope == scope }, "one scope at a time")
        let rows = try await database.requireSQL().raw("""
            SELECT "key", COUNT(*) AS "count" FROM \(ident: ThrottleEvent.schema)
            WHERE "scope" = \(bind: scope) AND "key" IN (\(binds: keys.map(\.key))) AND "occurred_at" > \(bind: since) GROUP BY "key"
            """).all()
        let counted = Dictionary(try rows.map { (try $0.decode(column: "key", as: String.self), try $0.decode(column: "count", as: Int.self)) },
                                 uniquingKeysWith: +)
        return Dictionary(keys.map { ($0, counted[$0.key] ?? 0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Counts one event under each key; returns their ids (to take a provisional failure back).
    @discardableResult
    func record(_ keys: [Key], at date: Date) async throws -> Set<UUID> {
        let events = keys.map { ThrottleEvent(scope: $0.scope, key: $0.key, at: date) }
        for event in events { event.id = UUID() }
        try await database.transaction { db in
            try await events.createInBatches(on: db)
            try await Self.prune(before: date, on: db).delete()
        }
        return Set(events.compactMap(\.id))
    }

    /// The same, sent with a transaction's other writes (`WriteBatch`).
    func record(_ keys: [Key], at date: Date, in writes: WriteBatch) {
        writes.insert(keys.map { ThrottleEvent(scope: $0.scope, key: $0.key, at: date) })
        writes.delete(Self.prune(before: date, on: writes.database))
    }

    /// Nothing counted outlives the longest window.
    private static func prune(before date: Date, on db: any Database) -> QueryBuilder<ThrottleEvent> {
        ThrottleEvent.query(on: db).filter(\.$occurredAt < date - 24 * 3600)
    }

    /// Counts a request against the client's and the target's limits; 429 past either. What is
    /// counted is a hash of the address, never the address; the request is counted before the
    /// check, so a parallel burst is counted too (and taken back when refused).
    /// On a development instance, the developer's own machine (loopback) is not limited per
    /// client; the limits per target address still hold.
    func limit(_ action: String, client: ClientInfo, target: String?, now: Date, language: Language, logger: Logger,
               development: Bool) async throws {
        var checks: [(key: Key, limit: RateLimit)] = []
        if !(development && ClientAddressResolver.isLoopback(client.ipAddress)) {
            checks.append((.init("\(action):client", ClientAddressResolver.throttleKey(client.ipAddress)), .perClient))
        }
        if let target { checks.append((.init("\(action):target", target), .perTarget)) }
        let counted = try await record(checks.map(\.key), at: now)
        var waits: [TimeInterval] = []
        for check in checks {
            let earlier = try await times(check.key, since: now - check.limit.window, excluding: counted)
            if let wait = check.limit.retryAfter(requests: earlier, now: now) { waits.append(wait) }
        }
        if let wait = waits.max() {
            try await forget(counted)
            logger.notice("\(action) rate-limited")
            throw Throttled(retryAfter: wait, message: AccountWording(language).throttled(minutes: Int((wait / 60).rounded(.up))))
        }
    }

    /// Guesses at a secret from one client (a share link's token, a certificate's code): throws
    /// `Throttled` once its recent failures under `scope` reach `policy`; else returns the key a
    /// failure is recorded under (`record([key], at:)`).
    func admitGuesses(_ scope: String, client: String, policy: ThrottlePolicy, now: Date, language: Language) async throws -> Key {
        let key = Key(scope, ClientAddressResolver.throttleKey(client))
        if case let .blocked(wait) = policy.decision(failures: try await times(key, since: now - policy.window), now: now) {
            throw Throttled(retryAfter: wait, message: AccountWording(language).throttled(minutes: Int((wait / 60).rounded(.up))))
        }
        return key
    }

    func forget(_ ids: Set<UUID>) async throws {
        guard !ids.isEmpty else { return }
        try await ThrottleEvent.query(on: database).filter(\.$id ~~ Array(ids)).delete()
    }
}
