import Crypto
import DossierCore
import Foundation
import Testing

@Suite("Documents sealed as streams (vault format 3)")
struct SealedStreamTests {
    let key = SymmetricKey(size: .bits256)
    let chunk = SealedStream.chunkSize

    func random(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    @Test(arguments: [0, 1, 65_535, 65_536, 65_537, 3 * 65_536, 200_000])
    func roundTripsAtEverySizeAroundTheChunk(_ count: Int) throws {
        let plain = random(count)
        let sealed = try SealedStream.seal(plain, key: key, context: "c")
        #expect(sealed.count == SealedStream.sealedSize(ofPlaintext: count))
        #expect(try SealedStream.open(sealed, key: key, context: "c") == plain)
    }

    @Test func theSameBytesSealTwiceDifferently() throws {
        let plain = random(1000)
        #expect(try SealedStream.seal(plain, key: key, context: "c") != SealedStream.seal(plain, key: key, context: "c"))
    }

    @Test func anotherKeyOrContextDoesNotOpen() throws {
        let sealed = try SealedStream.seal(random(100_000), key: key, context: "document-file:a:1:k")
        #expect(throws: SealedStream.Failure.self) { try SealedStream.open(sealed, key: key, context: "document-file:a:2:k") }
        #expect(throws: SealedStream.Failure.self) { try SealedStream.open(sealed, key: SymmetricKey(size: .bits256), context: "document-file:a:1:k") }
    }

    @Test func cutReorderedExtendedOrAlteredStreamsAreRefused() throws {
        let plain = random(3 * chunk)
        let sealed = try SealedStream.seal(plain, key: key, context: "c")
        let header = SealedStream.headerSize, size = SealedStream.sealedChunkSize
        let chunks = (0..<3).map { sealed.subdata(in: (header + $0 * size)..<(header + ($0 + 1) * size)) }
        let head = sealed.prefix(header)
        // The last chunk dropped: the one before it was not sealed as the last.
        #expect(throws: SealedStream.Failure.self) { try SealedStream.open(head + chunks[0] + chunks[1], key: key, context: "c") }
        // Two chunks swapped.
        #expect(throws: SealedStream.Failure.self) { try SealedStream.open(head + chunks[1] + chunks[0] + chunks[2], key: key, context: "c") }
        // A chunk repeated after the end.
        #expect(throws: SealedStream.Failure.self) { try SealedStream.open(sealed + chunks[2], key: key, context: "c") }
        // Cut in the middle of a chunk, or to its header.
        #expect(throws: SealedStream.Failure.self) { try SealedStream.open(sealed.prefix(sealed.count - 10), key: key, context: "c") }
        #expect(throws: SealedStream.Failure.self) { try SealedStream.open(head, key: key, context: "c") }
        // One bit flipped anywhere, the salt included.
        for position in [1, header + 5, header + size + 100, sealed.count - 1] {
            var altered = sealed
            altered[position] ^= 0x01
            #expect(throws: SealedStream.Failure.self) { try SealedStream.open(altered, key: key, context: "c") }
        }
        // The first byte says what it is: data sealed whole is not a stream.
        let whole = try Vault.seal(plain, with: key, context: "c")
        #expect(throws: SealedStream.Failure.self) { try SealedStream.open(whole, key: key, context: "c") }
    }

    @Test func aChunkOfTheWrongSizeCannotBeSealedInTheMiddle() throws {
        var sealer = SealedStream.Sealer(key: key, context: "c")
        #expect(throws: SealedStream.Failure.self) { try sealer.seal(Data(count: 10), final: false) }
        _ = try sealer.seal(Data(count: 10), final: true)
        #expect(throws: SealedStream.Failure.self) { try sealer.seal(Data(count: 10), final: true) }
    }
}
