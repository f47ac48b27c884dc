import Foundation

/// GDPR Art. 18: while the processing of a person's data is restricted, the data is stored and
/// nothing else is done with it: not shared, reviewed, sent to recipients or changed. Every
/// processing of personal data in Dossier writes an audit entry in the transaction that does it;
/// the audit trail refuses an entry about a restricted person (or by them) unless its action is
/// one of these, and the processing rolls back with it. An action added later is refused until
/// it is listed here: the safe default.
public enum RestrictionRules {
    /// What may still happen: the person's own rights and sessions, storage-only duties, and
    /// what reduces processing (closing a link, revoking a certificate).
    public static let permitted: Set<String> = [
        // Signing in and out, the password, the address: the account itself, not the data.
        "session.signed-in", "session.signed-out", "password.reset", "password.reset-requested", "account.email-verified",
        // The person's rights: access and portability, restriction itself, erasure, objection, consent.
        "data.exported", "restriction.requested", "restriction.lifted", "account.erased", "objection.recorded",
        "consent.given", "consent.withdrawn", "request.filed",
        // Staff answering the person's access or portability request.
        "request.export",
        // Post-mortem directives: the person's own, and staff carrying them out.
        "directives.recorded", "directives.withdrawn", "directives.read", "directives.executed",
        // Less processing, never more: closing a link (or locking it after wrong access codes),
        // revoking a certificate, leaving a household, discarding what was built on an address
        // before its owner proved it.
        "share.revoked", "share.paused", "share.locked", "certificate.revoked", "application.left", "file.discarded",
        // Duties owed to others about the data: telling recipients (Art. 19) and guarantors (Art. 14).
        "share.recipient-notified", "guarantor.notified",
        // Keeping the data for a legal claim: a hold stores, it does not process.
        "hold.placed", "hold.lifted",
    ]

    public static func permits(_ action: String) -> Bool { permitted.contains(action) }
}
