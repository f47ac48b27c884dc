@testable import DossierServer
import DossierCore
import DossierTestSupport
import Fluent
import Foundation
import Testing
import VaporTesting

@Suite("Hostile corpus through the API: refused with the reason, nothing stored")
struct HostileUploadTests {
    @Test(arguments: TestDatabase.all)
    func everyHostileFileIsRefusedAndNothingIsStored(database: TestDatabase) async throws {
        let corpus = try HostileFile.corpus()
        try await withDossier(on: database) { app in
            try await app.signUp(verified: true)
            let token = try await app.signIn()
            for hostile in corpus {
                let bytes = try hostile.bytes
                let type = hostile.mediaType == "application/pdf" ? "tax-notice" : "identity-card"
                if hostile.sandboxOnly == true {
                    // Would exhaust or crash this process: only the sandboxed inspection sees it.
                    try await app.upload(token: token, type: type, files: [(hostile.file, hostile.mediaType, bytes)]) { res in
                        #expect(res.status == .unprocessableEntity, "\(hostile.file): \(res.status)")
                        let message = try res.content.decode(ErrorBody.self).error.message
                        let reasons = [FileInspector.Refusal.overLimits.message(.en), "is too complex to check", "The file is damaged"]
                        #expect(message.hasPrefix("\(hostile.file): ") && reasons.contains { message.contains($0) }, "\(message)")
                    }
                    continue
                }
                let expected = FileInspector.inspect(bytes, fileName: hostile.file, declaredType: hostile.mediaType)
                guard case let .failure(refusal) = expected else {
                    Issue.record("\(hostile.file) is accepted by the inspector")
                    continue
                }
                try await app.upload(token: token, type: type, files: [(hostile.file, hostile.mediaType, bytes)]) { res in
                    #expect((400..<500).contains(res.status.code), "\(hostile.file): \(res.status)")
                    let message = try res.content.decode(ErrorBody.self).error.message
                    #expect(message == "\(hostile.file): \(refusal.message(.en))", "\(hostile.file)")
                }
            }
            // The server lived through all of it.
            try await app.testing().test(.GET, "health") { res in #expect(res.status == .ok) }
            // Nothing kept: no document, no blob, nothing left in the scratch directory.
            #expect(try await Document.query(on: app.db).count() == 0)
            #expect(try await DocumentFile.query(on: app.db).count() == 0)
            let blobs = FileManager.default.enumerator(at: app.dossier.configuration.blobDirectory, includingPropertiesForKeys: nil)?
                .allObjects as? [URL] ?? []
            #expect(blobs.filter { !$0.hasDirectoryPath }.isEmpty)
            let scratch = try FileManager.default.contentsOfDirectory(atPath: app.dossier.configuration.scratchDirectory.path)
            #expect(scratch.isEmpty)
        }
    }

    @Test(arguments: TestDatabase.all)
    func aPortraitIsStoredUprightWithoutEXIF(database: TestDatabase) async throws {
        try await withDossier(on: database) { app in
            try await app.signUp(verified: true)
            let token = try await app.signIn()
            try await app.upload(token: token, type: "identity-card", files: [("portrait.jpg", "image/jpeg", try upload("portrait-exif6.jpg"))]) { res in
                #expect(res.status == .created)
            }
            let document = try #require(try await Document.query(on: app.db).first())
            var headers = HTTPHeaders()
            headers.bearerAuthorization = .init(token: token)
            try await app.testing().test(.GET, "api/v1/me/documents/\(try document.requireID())/content?file=1", headers: headers) { res in
                #expect(res.status == .ok)
                let bytes = Data(buffer: res.body)
                #expect(bytes.range(of: Data("Exif".utf8)) == nil)
                #expect(bytes.range(of: Data([0xFF, 0xE1])) == nil)
                // Frame header: height then width, upright 40 × 60.
                let frame = try #require(bytes.range(of: Data([0xFF, 0xC0])))
                let b = [UInt8](bytes[frame.lowerBound...].prefix(9))
                #expect(Int(b[5]) << 8 | Int(b[6]) == 60)
                #expect(Int(b[7]) << 8 | Int(b[8]) == 40)
            }
        }
    }
}
