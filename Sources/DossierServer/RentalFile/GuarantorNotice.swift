import DossierCore
import Fluent
import Foundation

/// The notice a guarantor receives when a tenant names them with an email address (GDPR
/// Art. 14: data not obtained from the person): where the data came from, why it is held, the
/// policy's address and how to object. The register's `notices.indirectCollection` promises it
/// under the capability `guarantor-notice`.
enum GuarantorNotice {
    /// Notices one tenant may cause in a day (a tenant names two guarantors at most).
    static let perTenantPerDay = 3
    /// Notices one address may receive in a day, whoever names it.
    static let perAddressPerDay = 3

    /// The tenant's name as they typed it, only when it reads as a name (letters, spaces,
    /// hyphens, apostrophes; no full stop, so no domain name): a mail to an address the tenant chose carries no
    /// other text of theirs (no link, no sentence).
    static func displayName(_ first: String, _ last: String) -> String? {
        let name = "\(first) \(last)".trimmingCharacters(in: .whitespaces)
        let allowed = CharacterSet.letters.union(.whitespaces).union(CharacterSet(charactersIn: "-'’"))
        guard !name.isEmpty, name.count <= 80, name.unicodeScalars.allSatisfy(allowed.contains) else { return nil }
        return name
    }

    static func enqueue(for guarantor: Guarantor, at address: EmailAddress, namedBy tenant: Account,
                        services: DossierServices, on database: any Database) async throws {
        let language = tenant.language
        let template = MailTemplate.guarantorNamed(
            tenantName: displayName(tenant.firstName, tenant.lastName),
            policyLink: services.mailer.page("/privacy", language: language),
            dpoEmail: services.register.register.dpo.email
        )
        try await services.mailer.enqueue(template, to: address.value, language: language, subject: guarantor.subject,
                                          accountID: nil, on: database)
    }
}
