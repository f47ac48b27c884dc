@testable import DossierServer
import FluentKit
import Testing

/// Models that list their properties (to spare Fluent a reflection per row read) list every
/// one, in order: a property left out would be silently neither read nor saved.
@Suite("Models list all their properties")
struct ModelPropertiesTests {
    static let models: [any Fields.Type] = [
        Account.self, Session.self, Document.self, DocumentFile.self, Profile.self, DocumentReview.self, SubjectKey.self,
        Share.self, ShareDocument.self, ShareAccess.self, ShareRendition.self,
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
