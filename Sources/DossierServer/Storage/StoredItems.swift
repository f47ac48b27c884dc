import DossierCore

/// Every table and column the server stores, each with the purpose and the data category of
/// the register that justify it: the one place where "what we keep" meets "why, and for how
/// long". `StoredItemsTests` walks the real schema (SQLite and PostgreSQL) and fails on a
/// table or a column missing here; at start, the server refuses a register that lacks one of
/// the purposes or categories named here, or a retention rule for it.
enum StoredItems {
    /// Why a row is kept: a purpose of the register and one of its data categories.
    struct Reason: Hashable, Sendable {
        let purpose: String
        let category: String
    }

    struct Table: Sendable {
        let name: String
        /// The reasons its rows are kept; empty for a table that holds no personal data.
        let reasons: [Reason]
        /// Why a table without reasons holds no personal data.
        let noPersonalData: String?
        /// Every column, each covered by the table's reasons.
        let columns: Set<String>

        init(_ name: String, _ reasons: [Reason], columns: [String]) {
            self.name = name
            self.reasons = reasons
            noPersonalData = nil
            self.columns = Set(columns)
        }

        init(_ name: String, noPersonalData why: String, columns: [String]) {
            self.name = name
            reasons = []
            noPersonalData = why
            self.columns = Set(columns)
        }
    }

    private static func kept(_ purpose: String, _ category: String) -> Reason { Reason(purpose: purpose, category: category) }

    /// The data database.
    static let data: [Table] = [
        // The password hash and the last activity live and die with the account.
        Table("accounts", [kept("account", "identification"), kept("staff-accounts", "staff-accounts")],
              columns: ["id", "subject_id", "email", "email_key", "password_hash", "first_name", "last_name", "language", "role",
                        "organisation_id", "organisation_admin", "email_verified_at", "created_at", "last_activity_at", "inactivity_reminded_at"]),
        Table("account_tokens", [kept("security", "sessions")],
              columns: ["id", "account_id", "purpose", "token_hash", "created_at", "expires_at", "used_at"]),
        Table("sessions", [kept("security", "sessions")],
              columns: ["id", "account_id", "kind", "token_hash", "created_at", "expires_at", "last_seen_at", "ended_at"]),
        Table("throttle_events", [kept("security", "sessions")], columns: ["id", "scope", "key", "occurred_at"]),
        Table("connection_events", [kept(ConnectionEvent.purpose, ConnectionEvent.dataCategory), kept("staff-accounts", "connection-data")],
              columns: ["id", "account_id", "kind", "outcome", "ip_address", "user_agent", "occurred_at"]),
        Table("audit_entries", [kept("security", "audit-trail")],
              columns: ["id", "sequence", "occurred_at", "actor", "action", "subject", "purpose", "reason", "details",
                        "previous_hash", "hash", "keyed"]),
        Table("outbox_messages", [kept("account", OutboxMessage.dataCategory), kept("services", OutboxMessage.dataCategory),
                                  kept("staff-accounts", OutboxMessage.dataCategory)],
              columns: ["id", "account_id", "sender", "recipient", "message", "created_at", "attempts", "next_attempt_at", "lease",
                        "last_error", "sent_at", "failed_at", "subject", "sealed"]),
        Table("profiles", RentalProfile.categories.values.sorted().map { kept("services", $0) } + [kept("services", "identification")],
              columns: ["id", "account_id", "sealed", "updated_at"]),
        Table("guarantors", [kept("services", "identification")],
              columns: ["id", "account_id", "subject_id", "kind", "sealed", "created_at"]),
        Table("applications", [kept("services", "personal-life")], columns: ["id", "kind", "join_code_hash", "created_at"]),
        Table("application_members", [kept("services", "personal-life")],
              columns: ["id", "application_id", "account_id", "joined_at", "approved_at"]),
        // Uploaded by the tenant (services), or filed by staff from an email or a letter (contract-documents).
        Table("documents", [kept("services", Document.dataCategory), kept("contract-documents", Document.dataCategory)],
              columns: ["id", "account_id", "guarantor_id", "subject", "type", "category", "status", "source", "received_at",
                        "filed_by", "created_at", "reviewed_at"]),
        Table("document_files", [kept("services", Document.dataCategory), kept("contract-documents", Document.dataCategory)],
              columns: ["id", "document_id", "position", "blob_key", "kind", "size", "digest", "sealed_name", "created_at", "aead_version"]),
        // The decision is about the tenant's document; the reviewer and their comment are staff data.
        Table("document_reviews", [kept("services", Document.dataCategory), kept("staff-accounts", "staff-accounts")],
              columns: ["id", "document_id", "reviewer", "decision", "reasons", "comment", "created_at"]),
        // Share links: the recipient and the purpose, sealed with the tenant's key; which documents;
        // who looked and when (the tenant's access log); watermarked renditions, sealed, for the
        // life of the link.
        Table("shares", [kept("services", "identification"), kept("services", Share.dataCategory)],
              columns: ["id", "account_id", "subject", "recipient_kind", "sealed", "token_hash", "whole_file", "language",
                        "created_at", "expires_at", "paused_at", "revoked_at", "code_hash", "locked_at", "recipient_index"]),
        Table("share_documents", [kept("services", Share.dataCategory)], columns: ["id", "share_id", "document_id"]),
        Table("share_accesses", [kept("services", Share.dataCategory)],
              columns: ["id", "share_id", "occurred_at", "action", "document_id", "document_type", "viewer"]),
        Table("share_renditions", [kept("services", Share.dataCategory)],
              columns: ["id", "share_id", "key", "blob_key", "size", "created_at"]),
        // File certificates: the facts they state and their code, sealed with the tenant's key.
        Table("certificates", [kept("services", "identification"), kept("services", "economic-financial"), kept("services", Share.dataCategory)],
              columns: ["id", "account_id", "subject", "code_hash", "facts_digest", "sealed", "language", "created_at", "expires_at", "revoked_at"]),
        // A landlord may be a person: the name is personal data then.
        Table("organisations", [kept("staff-accounts", "staff-accounts")], columns: ["id", "name", "kind", "created_at", "email", "recipient_index",
                                                                                 "address_token_hash", "address_requested_at", "address_confirmed_at"]),
        Table("organisation_invitations", [kept("staff-accounts", "staff-accounts")],
              columns: ["id", "organisation_id", "email", "email_key", "admin", "token_hash", "invited_by", "created_at", "expires_at"]),
        // Erasures: the receipt (counts and categories, no personal data) kept as the record of
        // the request; the archive: what the register keeps of an erased account, sealed.
        Table("erasures", [kept(ErasureRecord.purpose, ErasureRecord.dataCategory)],
              columns: ["id", "subject", "erased_at", "receipt", "pending_subjects", "completed_at", "mail_subject", "keep_until"]),
        Table("archive_entries", [kept("account", "identification"), kept("services", "identification"), kept("contract-documents", "identification")],
              columns: ["id", "subject", "erasure_id", "purposes", "categories", "sealed", "archived_at", "keep_until"]),
        // The consent ledger (Art. 7) and objections (Art. 21), by pseudonymous subject: proof
        // that outlives an erasure for as long as the register keeps it.
        Table("consents", [kept(ConsentRecord.purpose, ConsentRecord.dataCategory)],
              columns: ["id", "subject", "purpose", "position", "action", "occurred_at", "policy_version", "source", "keep_until"]),
        Table("objections", [kept(ObjectionRecord.purpose, ObjectionRecord.dataCategory)],
              columns: ["id", "subject", "address_index", "purpose", "outcome", "occurred_at", "due_at", "keep_until"]),
        // Rights requests: who asked and what, sealed with the request's own key; the proof of
        // identity (a blob) only until it is checked; the fact of the check.
        Table("rights_requests", [kept(RightsRequest.purpose, RightsRequest.dataCategory), kept(RightsRequest.purpose, RightsRequest.proofCategory),
                                  kept("staff-accounts", "staff-accounts")],
              columns: ["id", "reference", "subject", "account_subject", "right_id", "channel", "status", "sealed", "language", "received_at",
                        "due_at", "due_day", "extended_at", "proof_key", "identity", "identity_checked_at", "objection_id", "refusal",
                        "closed_at", "closed_by", "reminders", "keep_until"]),
        Table("directives", [kept(DirectiveRecord.purpose, DirectiveRecord.dataCategory)], columns: ["id", "account_id", "subject", "sealed", "updated_at"]),
        // Restrictions (Art. 18): which subjects, since when; gone when lifted.
        Table("restrictions", [kept(ErasureRecord.purpose, ErasureRecord.dataCategory)], columns: ["id", "account_id", "subject", "requested_at"]),
        // Legal holds (a dispute, a legal claim): whose data, why, who placed and lifted it.
        Table("legal_holds", [kept(LegalHold.purpose, LegalHold.dataCategory)],
              columns: ["id", "account_id", "subject", "reason", "placed_by", "placed_at", "lifted_by", "lifted_at"]),
        Table("policy_versions", noPersonalData: "the published texts of the register",
              columns: ["id", "version", "effective_date", "digest", "register_yaml", "published_at", "capabilities"]),
        Table("blob_journal", noPersonalData: "random keys of blobs being written or deleted, for recovery after a crash",
              columns: ["id", "blob_key", "action", "created_at"]),
        Table("_fluent_migrations", noPersonalData: "the migrations applied",
              columns: ["id", "name", "batch", "created_at", "updated_at"]),
    ]

    /// The key store.
    static let keys: [Table] = [
        Table("subject_keys", noPersonalData: "one key per data subject, named by a random identifier; destroying it makes the person's data unreadable (crypto-shredding)",
              columns: ["id", "subject", "wrapped_key", "created_at", "destroyed_at"]),
        Table("key_checks", noPersonalData: "values sealed under the master key, to tell a wrong key from a right one",
              columns: ["id", "purpose", "sealed", "created_at"]),
        Table("_fluent_migrations", noPersonalData: "the migrations applied",
              columns: ["id", "name", "batch", "created_at", "updated_at"]),
    ]

    /// Every reason a row is kept, in both databases.
    static var reasons: Set<Reason> { Set((data + keys).flatMap(\.reasons)) }

    /// What `register` lacks to justify what the server stores: a purpose, a category, the
    /// category under the purpose, or a retention rule for it.
    static func problems(in register: Register) -> [String] {
        reasons.sorted { ($0.purpose, $0.category) < ($1.purpose, $1.category) }.compactMap { reason in
            guard let purpose = register.purpose(reason.purpose) else {
                return "the server keeps '\(reason.category)' data for purpose '\(reason.purpose)', which this register does not declare"
            }
            guard register.category(reason.category) != nil else {
                return "the server stores data category '\(reason.category)', which this register does not declare"
            }
            guard purpose.categories.contains(reason.category) else {
                return "purpose '\(reason.purpose)' does not list data category '\(reason.category)', which the server keeps for it"
            }
            guard !purpose.rules(for: reason.category).isEmpty else {
                return "purpose '\(reason.purpose)' has no retention rule for data category '\(reason.category)', which the server stores"
            }
            return nil
        }
    }
}
