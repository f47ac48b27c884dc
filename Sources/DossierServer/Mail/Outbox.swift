import DossierCore
import Fluent
import Foundation
import SQLKit
import Vapor

/// Queues messages in the database, in the recipient's language; the dispatcher delivers them.
struct Mailer: Sendable {
    let sender: String
    let baseURL: String
    let clock: any WallClock
    let vault: KeyVault

    /// A page on the public address.
    func page(_ path: String, language: Language) -> String {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        return "\(base)\(path)?lang=\(language.rawValue)"
    }

    /// A link to `path` on the public address, carrying the token and the page's language.
    func link(_ path: String, token: String, language: Language) -> String {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        return "\(base)\(path)?token=\(token)&lang=\(language.rawValue)"
    }

    /// Stores the message sealed with the account's key; it is delivered even if the server
    /// stops before sending it, and its text is erased once it is.
    func enqueue(_ template: MailTemplate, to account: Account, on database: any Database) async throws {
        try await enqueue(template, to: account.email, language: account.language, subject: account.subject, accountID: account.id, on: database)
    }

    /// A message to someone who may have no account (a guarantor), sealed with the key of the
    /// data subject it is about.
    func enqueue(_ template: MailTemplate, to address: String, language: Language, subject: String, accountID: UUID?,
                 on database: any Database) async throws {
        try await message(template, to: address, language: language, subject: subject, accountID: accountID).create(on: database)
    }

    /// The message sealed, not yet stored: several are stored in one statement
    /// (`[OutboxMessage].create(on:)`), in the caller's transaction.
    func message(_ template: MailTemplate, to address: String, language: Language, subject: String, accountID: UUID?) async throws -> OutboxMessage {
        let message = MailMessage(
            from: sender, to: address, subject: template.subject(language),
            text: template.text(language), date: clock.now
        )
        let id = UUID()
        let sealed = try await vault.seal(Data(message.rfc5322().utf8), for: subject, context: OutboxMessage.context(id))
        return OutboxMessage(id: id, accountID: accountID, sender: sender, recipient: address, subject: subject, sealed: sealed, now: clock.now)
    }
}

/// Delivers what is due in the outbox: retries with growing delays, gives up after the last.
struct OutboxDispatcher: Sendable {
    let transport: any MailTransport
    let clock: any WallClock
    let logger: Logger
    let vault: KeyVault
    /// How long a message is kept once delivered or given up: the register's rule for service
    /// messages (``OutboxMessage/retention(in:)``).
    var keep = RetentionPeriod(7, .day)

    /// Delay before attempt n+1 after n failures: 1 min, 5 min, 15 min, 1 h, 3 h, 6 h, 12 h.
    static let backoff: [TimeInterval] = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600]
    /// A claimed message is left alone by other dispatchers this long.
    static let lease: TimeInterval = 120

    struct Report: Sendable, Equatable {
        var sent = 0
        var retried = 0
        var failed = 0
    }

    /// `.eml` files (written when no SMTP server is configured) hold links and tokens: they are
    /// removed after this long, the register's retention for service messages.

    /// The instant before which a delivered message is past its rule.
    var cutoff: Date {
        let now = clock.now
        return now - keep.added(to: now).timeIntervalSince(now)
    }

    /// Deletes the rows of messages delivered or given up longer ago than the register keeps
    /// service messages: their text is long erased, and their recipient's address goes too.
    /// Returns how many.
    @discardableResult
    func purge(on database: any Database) async throws -> Int {
        let before = cutoff
        let old = try await OutboxMessage.query(on: database).group(.or) { group in
            group.filter(\.$sentAt < before).filter(\.$failedAt < before)
        }.all()
        for message in old { try await message.delete(on: database) }
        return old.count
    }

    /// Removes `.eml` files older than the register keeps service messages; returns how many.
    @discardableResult
    func expireFiles() -> Int {
        (transport as? FileMailTransport)?.removeFiles(olderThan: cutoff) ?? 0
    }

    /// Delivers every due message once; returns what happened.
    @discardableResult
    func deliverDue(on database: any Database, limit: Int = 50) async throws -> Report {
        var report = Report()
        let now = clock.now
        let due = try await OutboxMessage.query(on: database)
            .filter(\.$sentAt == nil).filter(\.$failedAt == nil).filter(\.$nextAttemptAt <= now)
            .sort(\.$nextAttemptAt).limit(limit).all()
        for message in due {
            guard try await claim(message, on: database, now: now) else { continue }
            do {
                try await transport.deliver(MailDelivery(
                    id: try message.requireID(), sender: message.sender, recipient: message.recipient, message: try await text(of: message, on: database)
                ))
                message.sentAt = clock.now
                message.attempts += 1
                message.lastError = nil
                message.erase()
                try await message.save(on: database)
                report.sent += 1
            } catch {
                message.attempts += 1
                // The reason, never the address or content (an SMTP refusal is kept as its code).
                message.lastError = String(String(describing: error).prefix(300))
                let permanent = (error as? SMTPTransport.Refused)?.isPermanent == true || error is KeyVault.Shredded
                if permanent || message.attempts > Self.backoff.count {
                    message.failedAt = clock.now
                    message.erase()
                    report.failed += 1
                    logger.warning("mail \(message.id?.uuidString ?? "?") given up after \(message.attempts) attempt(s): \(message.lastError ?? "")")
                } else {
                    message.nextAttemptAt = clock.now + Self.backoff[message.attempts - 1]
                    report.retried += 1
                    logger.notice("mail \(message.id?.uuidString ?? "?") attempt \(message.attempts) failed; retry at \(message.nextAttemptAt)")
                }
                try await message.save(on: database)
            }
        }
        return report
    }

    /// The message's text: unsealed, or as stored by a version that kept it in clear.
    func text(of message: OutboxMessage, on database: any Database) async throws -> String {
        guard let sealed = message.sealed, let subject = message.subject else { return message.message }
        let data = try await vault.open(sealed, for: subject, context: OutboxMessage.context(try message.requireID()))
        return String(decoding: data, as: UTF8.self)
    }

    /// Takes a new lease and moves the next attempt past it, only if the lease is still the one
    /// read: of several dispatchers, exactly one sends each message.
    private func claim(_ message: OutboxMessage, on database: any Database, now: Date) async throws -> Bool {
        guard let sql = database as? any SQLDatabase else { return true }
        let lease = UUID().uuidString
        var update = sql.update(OutboxMessage.schema)
            .set("lease", to: lease)
            .set("next_attempt_at", to: now + Self.lease)
            .where("id", .equal, try message.requireID())
        update = message.lease.map { update.where("lease", .equal, $0) } ?? update.where("lease", .is, SQLLiteral.null)
        let claimed = try await update.returning("id").all()
        guard !claimed.isEmpty else { return false }
        message.lease = lease
        return true
    }
}

/// Runs the dispatcher every few seconds while the server runs.
final class OutboxLoop: LifecycleHandler, @unchecked Sendable {
    private let interval: Duration
    private var task: Task<Void, Never>?

    init(interval: Duration = .seconds(2)) {
        self.interval = interval
    }

    func didBootAsync(_ application: Application) async throws {
        let dispatcher = application.dossier.outbox
        let database = application.db
        let interval = interval
        let logger = application.logger
        logger.info("outbox: delivering due messages every \(interval)")
        let blobs = application.dossier.blobs
        let clock = application.dossier.clock
        let services = application.dossier
        task = Task {
            var ticks = 0
            while !Task.isCancelled {
                do {
                    try await dispatcher.deliverDue(on: database)
                    dispatcher.expireFiles()
                    try await dispatcher.purge(on: database)
                    // Now and then, what a crashed instance left in the blob journal, the watermarked
                    // copies of links that ended, invitations nobody accepted within their week:
                    // each on its own, so that one failing does not hold the others back.
                    if ticks % 30 == 0 {
                        let now = clock.now
                        let sweeps: [(String, @Sendable () async throws -> Void)] = [
                            ("blob journal", { try await BlobJournal.recover(blobs: blobs, on: database, now: now, logger: logger) }),
                            ("renditions", { try await ShareService.sweepClosedRenditions(on: database, blobs: blobs, now: now) }),
                            ("invitations", { try await OrganisationService.sweepExpiredInvitations(on: database, now: now) }),
                            // Erasures a crash interrupted; what the register's periods end is
                            // the retention engine's (`RetentionScheduler`).
                            ("erasures", {
                                try await ErasureService.finishPending(services: services, on: database)
                                try await ErasureService.shredSentMailKeys(services: services, on: database)
                            }),
                            ("requests", { try await RequestService.remind(services: services, on: database) }),
                        ]
                        for (name, sweep) in sweeps {
                            do { try await sweep() } catch { logger.error("sweep of \(name): \(String(reflecting: error))") }
                        }
                    }
                    ticks += 1
                } catch {
                    logger.error("outbox: \(String(reflecting: error))")
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        task?.cancel()
        await task?.value
    }
}
