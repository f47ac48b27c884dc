import DossierCore
import DossierTestSupport
import Foundation
import Testing

/// The committed hostile corpus: every file refused by the inspector, for the reason its
/// manifest gives, in this process (but for the files that would exhaust or crash it: the server
/// test uploads every file, those too, and checks nothing is stored).
@Suite("Hostile corpus: each file refused with its reason")
struct HostileCorpusTests {
    @Test(arguments: try HostileFile.corpus().filter { $0.sandboxOnly != true })
    func refusedForItsReason(_ hostile: HostileFile) throws {
        let result = FileInspector.inspect(try hostile.bytes, fileName: hostile.file, declaredType: hostile.mediaType)
        guard case let .failure(refusal) = result else {
            Issue.record("\(hostile.file) was accepted: \(hostile.why)")
            return
        }
        let name = String(describing: refusal).prefix { $0.isLetter || $0.isNumber }
        #expect(hostile.acceptedRefusals.contains(String(name)), "\(hostile.file): \(refusal.message(.en))")
        #expect(!refusal.message(.en).isEmpty && !refusal.message(.fr).isEmpty)
    }

    @Test func theCorpusCoversWhatTheIssueLists() throws {
        let names = Set(try HostileFile.corpus().map(\.file))
        #expect(names.count >= 20)
        let reasons = Set(try HostileFile.corpus().flatMap(\.acceptedRefusals))
        for reason in ["activeContent", "encryptedPDF", "polyglot", "tooComplex", "tooManyPixels", "hiddenData", "damaged"] {
            #expect(reasons.contains(reason), "\(reason)")
        }
    }
}
