import Foundation

/// What a share link may be: who it is for, for how long, and when it stops answering. The
/// register says, per recipient, how long a link may last and which documents it may carry
/// (`Recipient.sharing`); the rest is here, with an injected clock.
public enum ShareRules {
    /// A link lasts 30 days unless the tenant says otherwise.
    public static let defaultDuration = RetentionPeriod(30, .day)
    public static let maximumNameLength = 200
    public static let maximumPurposeLength = 300
    /// Wrong access codes tolerated on one link in `lockWindow` before the link locks (and the
    /// tenant is told).
    public static let maximumCodeFailures = 5
    public static let lockWindow: TimeInterval = 3600
    /// Wrong access codes tolerated in a day: a slow guesser (four an hour) is stopped too.
    public static let maximumCodeFailuresPerDay = 10
    /// Unknown link tokens tolerated from one client address in an hour before it waits.
    public static let guessing = ThrottlePolicy(maximumFailures: 10, window: 3600, baseDelay: 60)
    /// Digits of a link's access code, sent to the recipient apart from the link.
    public static let accessCodeDigits = 6

    /// A new access code: six random digits.
    public static func newAccessCode() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(format: "%06d", Int(generator.next(upperBound: UInt32(1_000_000))))
    }

    /// Whether `text` has the form of an access code (six digits), before any lookup.
    public static func isAccessCode(_ text: String) -> Bool {
        text.utf8.count == accessCodeDigits && text.utf8.allSatisfy { (48...57).contains($0) }
    }

    /// The recipients a tenant may share with: those of the register with sharing limits.
    public static func recipients(in register: Register) -> [Recipient] {
        register.recipients.filter { $0.sharing != nil }
    }

    public enum Problem: Error, Equatable, Sendable {
        case unknownKind
        case expiryInPast
        /// Beyond what the register allows for that recipient: the latest allowed.
        case expiryTooLate(latest: Date)
    }

    /// When a link created `now` for a recipient of `kind` ends: `requested`, or 30 days
    /// (shortened to the register's maximum for that recipient); never past the maximum.
    public static func expiry(requested: Date?, kind: RecipientKind, register: Register, now: Date) throws(Problem) -> Date {
        guard let limits = register.recipients.first(where: { $0.kind == kind && $0.sharing != nil })?.sharing else {
            throw .unknownKind
        }
        let latest = limits.maximum.added(to: now)
        guard let requested else { return min(defaultDuration.added(to: now), latest) }
        guard requested > now else { throw .expiryInPast }
        guard requested <= latest else { throw .expiryTooLate(latest: latest) }
        return requested
    }

    /// The catalogue categories of documents a recipient of `kind` may receive.
    public static func documentCategories(for kind: RecipientKind, in register: Register) -> Set<String> {
        Set(register.recipients.first { $0.kind == kind && $0.sharing != nil }?.sharing?.documents ?? [])
    }
}

/// Where a link stands, from its dates.
public enum ShareState: String, Codable, Sendable, CaseIterable {
    case active, paused, locked, expired, revoked

    /// Revoked first (final), then expired, locked (too many wrong codes), paused.
    public static func of(revokedAt: Date?, expiresAt: Date, lockedAt: Date?, pausedAt: Date?, now: Date) -> ShareState {
        if revokedAt != nil { return .revoked }
        if now >= expiresAt { return .expired }
        if lockedAt != nil { return .locked }
        if pausedAt != nil { return .paused }
        return .active
    }

    /// Whether a recipient is served.
    public var serves: Bool { self == .active }
    /// Whether the link will never serve again (410 Gone), rather than not for now.
    public var isFinal: Bool { self == .revoked || self == .expired }
}

/// The text of a recipient's watermark: whom the copy was given to, for what, when, through
/// which link. In the tenant's language (the file's), the recipient's name and purpose as typed.
public struct ShareWatermark: Sendable, Equatable {
    public var recipient: String
    public var purpose: String
    public var date: Date
    /// A short reference of the link (its id's first characters), also shown to the tenant.
    public var link: String
    public var language: Language

    public init(recipient: String, purpose: String, date: Date, link: String, language: Language) {
        self.recipient = recipient
        self.purpose = purpose
        self.date = date
        self.link = link
        self.language = language
    }

    /// The day, as YYYY-MM-DD in UTC.
    public var day: String { Self.day(of: date) }

    /// A date's day, as YYYY-MM-DD in UTC: the form every date on a link, a watermark or a
    /// certificate takes.
    public static func day(of date: Date) -> String {
        let parts = Calendar.utcGregorian.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    public var mark: RenditionJob.Mark {
        switch language {
        case .fr:
            RenditionJob.Mark(
                tile: "\(recipient) · \(purpose) · \(day) · lien \(link)",
                footer: "Copie transmise à \(recipient) pour « \(purpose) » le \(day) par le lien \(link) de Dossier. Ne vaut que pour cet usage.")
        case .en:
            RenditionJob.Mark(
                tile: "\(recipient) · \(purpose) · \(day) · link \(link)",
                footer: "Copy given to \(recipient) for \"\(purpose)\" on \(day) through Dossier link \(link). Valid for this use only.")
        }
    }
}
