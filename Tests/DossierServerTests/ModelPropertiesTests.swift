@testable import DossierServer
import FluentKit
import Testing

/// Models that list their properties (to spare Fluent a reflection per row read) list every
/// one, in order: a property left out would be silently neither read nor saved.
@Suite("Models list all their properties")
struct ModelPropertiesTests {
    /// Every model (all list their properties).
    static let models: [any Fields.Type] = [
        Account.self, AccountToken.self, ApplicationMember.self, ArchiveEntry.self, AuditRecord.self, BlobJournalEntry.self,
        ConnectionEvent.self, ConsentRecord.self, DirectiveRecord.self, Document.self, DocumentFile.self, DocumentReview.self,
        ErasureRecord.self, FileCertificateRecord.self, Guarantor.self, KeyCheck.self, LegalHold.self, ObjectionRecord.self, Organisation.self,
        OrganisationInvitation.self, OutboxMessage.self, PolicyVersion.self, Profile.self, RentalApplication.self,
        RestrictedSubject.self, RightsRequest.self, Session.self, Share.self, ShareAccess.self, ShareDocument.self,
        ShareRendition.self, SubjectKey.self, ThrottleEvent.self,
    ]

    @Test(arguments: 0..<models.count)
    func theListIsTheDeclarations(index: Int) {
        let model = Self.models[index].init()
        let reflected = Mirror(reflecting: model).children.compactMap { $0.value as? any AnyProperty }.map { ObjectIdentifier($0 as AnyObject) }
        let listed = model.properties.map { ObjectIdentifier($0 as AnyObject) }
        #expect(!listed.isEmpty)
        #expect(listed == reflected, "\(type(of: model))")
    }
}
