/// A mechanism that the code provides and the register may promise: a way to exercise a right,
/// a security measure, a cookie the pages set, a notice sent, a job.
///
/// The register names the capability behind each such promise; the running build says which
/// capabilities it has (the server derives them from its route table and its components), and
/// the policy promises only those. A right whose ways are all missing falls back to writing to
/// the DPO; a security measure whose capability is missing is an error (`dossier register
/// check`, and at start). As features land, their entries switch on by themselves.
public enum Capability: String, RegisterVocabulary, Comparable {
    // Ways to exercise a right.
    /// The policy page itself (`GET /privacy`).
    case policyPage = "policy-page"
    /// Correcting the profile (`PATCH /api/v1/me/profile`, the file page).
    case profileRectification = "profile-rectification"
    /// The connection log shown to its owner (`GET /api/v1/me/connections`).
    case connectionLog = "connection-log"
    /// Everything held, with purpose, basis and deletion date (`GET /api/v1/me/access`).
    case accessReport = "access-report"
    /// The portability ZIP (`GET /api/v1/me/export`).
    case dataExport = "data-export"
    /// Deleting the account (`DELETE /api/v1/me`).
    case accountDeletion = "account-deletion"
    /// Restricting processing (`POST /api/v1/me/restriction`).
    case restriction = "restriction"
    /// Objecting to a purpose (`POST /api/v1/me/objections`).
    case objection = "objection"
    /// Giving and withdrawing consent (`POST /api/v1/me/consents`).
    case consentLedger = "consent-ledger"
    /// Recording post-mortem directives.
    case postMortemDirectives = "post-mortem-directives"
    /// Requests to exercise a right filed and handled in the service.
    case rightsRequests = "rights-requests"

    // Security measures.
    /// Documents and profiles sealed with AES-256-GCM under one key per person.
    case encryptionAtRest = "encryption-at-rest"
    /// People's keys in a key store apart from the data, wrapped by a rotatable master key.
    case separateKeyStore = "separate-key-store"
    /// Each upload checked in a separate, resource-limited process (qpdf, libvips).
    case uploadInspection = "upload-inspection"
    /// Passwords hashed with bcrypt; sessions stored hashed, expiring, revocable.
    case passwordHashing = "password-hashing"
    /// The hash-chained audit trail.
    case auditTrail = "audit-trail"
    /// Staff access limited by role.
    case staffRoles = "staff-roles"
    /// Share links: scoped, expiring, revocable, every view logged.
    case shareLinks = "share-links"
    /// Every page a recipient sees watermarked with the recipient's name.
    case watermarks = "watermarks"
    /// Carried out by the operator's organisation, not by the software: no code can switch it off.
    case organisational = "organisational"

    // Cookies, consent and notices.
    /// The session cookie of the web pages.
    case sessionCookie = "session-cookie"
    /// The anti-forgery cookie of the web pages.
    case csrfCookie = "csrf-cookie"
    /// The cookie banner and the cookie recording its choice.
    case cookieConsent = "cookie-consent"
    /// Audience measurement (a cookie set only with consent).
    case audienceMeasurement = "audience-measurement"
    /// Guarantors named in a file are told by email, with the policy's address, and can object.
    case guarantorNotice = "guarantor-notice"
    /// The retention sweep that deletes and archives on the register's dates.
    case retentionSweep = "retention-sweep"

    public static let vocabularyName = "capability"

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Whether a build with `capabilities` has it (an organisational one, always).
    public func isProvided(by capabilities: Set<Capability>) -> Bool {
        implementation == .always || capabilities.contains(self)
    }

    /// What implements a capability, so that a build can tell whether it has it.
    public enum Implementation: Sendable, Hashable {
        /// An HTTP route (method, path as the router writes it, `:name` for a parameter).
        case route(String, String)
        /// A component of the server, named by the module that keeps it.
        case component(String)
        /// Always there: kept by the organisation, not the code.
        case always
    }

    public var implementation: Implementation {
        switch self {
        case .policyPage: .route("GET", "/privacy")
        case .profileRectification: .route("PATCH", "/api/v1/me/profile")
        case .connectionLog: .route("GET", "/api/v1/me/connections")
        case .accessReport: .route("GET", "/api/v1/me/access")
        case .dataExport: .route("GET", "/api/v1/me/export")
        case .accountDeletion: .route("DELETE", "/api/v1/me")
        case .restriction: .route("POST", "/api/v1/me/restriction")
        case .objection: .route("POST", "/api/v1/me/objections")
        case .consentLedger: .route("POST", "/api/v1/me/consents")
        case .postMortemDirectives: .route("PUT", "/api/v1/me/directives")
        case .rightsRequests: .route("POST", "/api/v1/me/requests")
        case .shareLinks: .route("POST", "/api/v1/me/shares")
        case .encryptionAtRest: .component("Vault")
        case .separateKeyStore: .component("Vault/KeyStore")
        case .uploadInspection: .component("RentalFile/InspectionSandbox")
        case .passwordHashing: .component("Accounts")
        case .auditTrail: .component("Audit")
        case .staffRoles: .component("Review")
        case .watermarks: .component("Sharing/RenditionSandbox")
        case .sessionCookie: .component("Web/WebSecurity")
        case .csrfCookie: .component("Web/WebSecurity")
        case .cookieConsent: .component("Consent/CookieBanner")
        case .audienceMeasurement: .component("Consent/Audience")
        case .guarantorNotice: .component("RentalFile/GuarantorNotice")
        case .retentionSweep: .component("Retention")
        case .organisational: .always
        }
    }
}

extension Capability {
    /// Every capability: a build that has them all (for rendering the whole register).
    public static var everything: Set<Capability> { Set(allCases) }
}

extension Register {
    /// The capabilities the register's wording depends on: a build that adds or lacks another
    /// one renders the same policy.
    public var referencedCapabilities: Set<Capability> {
        var referenced = Set<Capability>()
        for right in rights { referenced.formUnion(right.exercise.compactMap(\.capability)) }
        for measure in security { referenced.formUnion([measure.capability, measure.appliesTo].compactMap { $0 }) }
        referenced.formUnion(cookies.compactMap(\.capability))
        referenced.formUnion(purposes.compactMap(\.appliesTo))
        referenced.formUnion((notices?.indirectCollection ?? []).compactMap(\.capability))
        return referenced
    }
}
