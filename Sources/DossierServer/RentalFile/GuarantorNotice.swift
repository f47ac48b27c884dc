import DossierCore
import Fluent
import Foundation

/// The notice a guarantor receives when a tenant names them with an email address (GDPR
/// Art. 14: data not obtained from the person): where the data came from, why it is held, the
/// policy's address and how to object. The register's `notices.indirectCollection` promises it
/// under the capability `guarantor-notice`.
enum GuarantorNotice {
    static func enqueue(for guarantor: Guarantor, at address: EmailAddress, namedBy tenant: Account,
                        services: DossierServices, on database: any Database) async throws {
        let language = tenant.language
        let template = MailTemplate.guarantorNamed(
            tenantName: "\(tenant.firstName) \(tenant.lastName)",
            policyLink: services.mailer.page("/privacy", language: language),
            dpoEmail: services.register.register.dpo.email
        )
        try await services.mailer.enqueue(template, to: address.value, language: language, subject: guarantor.subject,
                                          accountID: nil, on: database)
    }
}
