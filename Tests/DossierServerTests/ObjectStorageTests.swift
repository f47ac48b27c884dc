@testable import DossierServer
import AsyncHTTPClient
import DossierCore
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// `DOSSIER_BLOBS_URL=s3://…`: documents in an S3-compatible object store. The signer against
/// AWS's published examples; the store and the whole server against a real S3 server on
/// loopback (moto's, which checks every signature); the variables' reading.
@Suite("Object storage")
struct ObjectStorageTests {
    // MARK: Signature Version 4

    /// AWS's examples (Signature Version 4, "Authenticating Requests: Using the Authorization
    /// Header"): the same request, the same credentials and time, the same signature.
    @Test func theSignatureIsAWSsOwnOnItsExamples() {
        let signer = S3Signature(credentials: .init(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                                 region: "us-east-1")
        let at = Date(timeIntervalSince1970: 1_369_353_600)
        let getObject = signer.signedHeaders(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt",
                                             headers: [("Range", "bytes=0-9")], payloadHash: S3Signature.emptyPayloadHash, at: at)
        let authorization = getObject.first { $0.0 == "authorization" }?.1
        #expect(authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(getObject.contains { $0 == ("x-amz-date", "20130524T000000Z") })
        #expect(!getObject.contains { $0.0 == "host" }, "the Host header is the caller's to send, as signed")
        let list = signer.signedHeaders(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/",
                                        query: [("prefix", "J"), ("max-keys", "2")], payloadHash: S3Signature.emptyPayloadHash, at: at)
        #expect(list.first { $0.0 == "authorization" }?.1.hasSuffix("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7") == true)
    }

    @Test func percentEncodingIsSigV4s() {
        #expect(S3Signature.encode("a b/c~d_e.f-g$", slash: false) == "a%20b/c~d_e.f-g%24")
        #expect(S3Signature.encode("docs/2026", slash: true) == "docs%2F2026")
        #expect(S3Signature.encode("é", slash: true) == "%C3%A9")
    }

    // MARK: The variables

    @Test func theLocationIsReadFromTheURLAndTheAWSVariables() throws {
        let aws = ["AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_REGION": "eu-west-3"]
        let location = try S3Location.parse("s3://dossier-docs/prod/eu", environment: aws).get()
        #expect(location == S3Location(bucket: "dossier-docs", prefix: "prod/eu/", endpoint: URL(string: "http://127.0.0.1:9000")!,
                                       region: "eu-west-3", pathStyle: true))
        #expect(location.authority == "127.0.0.1:9000")
        #expect(!location.isPlainTextOverNetwork)
        // No endpoint: AWS's own, the bucket in the host name.
        let aws3 = try S3Location.parse("s3://dossier-docs", environment: [:]).get()
        #expect(aws3.endpoint.absoluteString == "https://s3.us-east-1.amazonaws.com" && !aws3.pathStyle && aws3.prefix.isEmpty)
        #expect(try S3Location.parse("s3://docs.example/x", environment: ["AWS_REGION": "eu-west-1"]).get().pathStyle)
        let remote = try S3Location.parse("s3://dossier-docs", environment: ["AWS_ENDPOINT_URL": "http://minio.internal:9000"]).get()
        #expect(remote.isPlainTextOverNetwork)
        for (url, environment, words) in [
            ("s3://user:secret@bucket/x", [String: String](), "no credentials"),
            ("s3://Bucket/x", [:], "not a bucket name"),
            ("s3://ab/x", [:], "not a bucket name"),
            ("s3://bucket/../x", [:], "prefix"),
            ("s3://bucket/a b", [:], "prefix"),
            ("s3://bucket/x", ["AWS_ENDPOINT_URL": "ftp://host"], "AWS_ENDPOINT_URL"),
            ("s3://bucket/x", ["AWS_ENDPOINT_URL": "https://key:secret@host"], "AWS_ENDPOINT_URL"),
            ("s3://bucket/x", ["AWS_REGION": "EU WEST"], "AWS_REGION"),
        ] {
            guard case let .failure(error) = S3Location.parse(url, environment: environment) else {
                Issue.record("\(url) \(environment) was accepted")
                continue
            }
            #expect(error.description.contains(words), "\(error.description)")
            #expect(!error.description.contains("secret"))
        }
        guard case let .failure(missing) = S3Location.credentials(from: ["AWS_ACCESS_KEY_ID": "id"]) else {
            Issue.record("credentials without a secret were accepted")
            return
        }
        #expect(missing.description.contains("AWS_SECRET_ACCESS_KEY"))
    }

    @Test func aProductionInstanceReachesItsObjectStoreOverHTTPSOnly() {
        var configuration = DossierConfiguration(dataDirectory: URL(fileURLWithPath: "/tmp/dossier-s3-\(UUID())"))
        configuration.blobsURL = "s3://dossier-docs/prod"
        configuration.awsEnvironment = ["AWS_ENDPOINT_URL": "http://minio.internal:9000", "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s3cr3t-value"]
        #expect(configuration.blobStoreProblem == nil)
        #expect(configuration.productionProblems.isEmpty, "a development instance may")
        configuration.isDevelopmentInstance = false
        #expect(configuration.productionProblems.contains { $0.contains("over https only") })
        configuration.awsEnvironment["AWS_ENDPOINT_URL"] = "https://minio.internal:9000"
        #expect(!configuration.productionProblems.contains { $0.contains("https") })
        // Another provider's region says nothing of a country; AWS's own does.
        configuration.awsRegion = "us-east-1"
        #expect(configuration.objectStoreRegion == nil)
        configuration.awsEnvironment["AWS_ENDPOINT_URL"] = nil
        #expect(configuration.objectStoreRegion == "us-east-1")
        configuration.awsEnvironment["AWS_SECRET_ACCESS_KEY"] = nil
        #expect(configuration.blobStoreProblem?.contains("AWS_SECRET_ACCESS_KEY") == true)
        // Credentials never print their secret.
        let credentials = S3Signature.Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "s3cr3t-value", sessionToken: "t0ken-value")
        for text in ["\(credentials)", String(reflecting: credentials), "\(Mirror(reflecting: credentials).children.map(\.value))"] {
            #expect(!text.contains("s3cr3t") && !text.contains("t0ken"), "\(text)")
        }
    }

    // MARK: Against a real S3 server

    @Test func theStoreKeepsReadsListsAndDeletesBlobsInARealS3Server() async throws {
        let server = try S3TestServer.start()
        defer { server.stop() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-s3-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        do {
            let location = try S3Location.parse("s3://dossier-test/blobs", environment: server.environment).get()
            let store = S3BlobStore(location: location, credentials: server.credentials, client: client, scratch: scratch)
            #expect(await !store.isReady(), "no bucket yet")
            try await store.prepare()
            try await store.prepare()
            #expect(await store.isReady())

            let key = UUID().uuidString.lowercased()
            let bytes = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            try await store.put(bytes, key: key)
            #expect(try await store.get(key) == bytes)
            #expect(try await store.exists(key))
            let reader = try await store.reader(key)
            var read = Data()
            while case let piece = try reader.read(upTo: 65_536), !piece.isEmpty { read += piece }
            reader.close()
            #expect(read == bytes)
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty, "the spooled copy is unlinked")

            // A file moved in: stored, and gone from where it was.
            let file = scratch.appendingPathComponent("sealed.blob")
            try Data("sealed".utf8).write(to: file)
            let second = UUID().uuidString.lowercased()
            try await store.put(fileAt: file, key: second)
            #expect(!FileManager.default.fileExists(atPath: file.path))
            #expect(try await store.get(second) == Data("sealed".utf8))

            // Only the store's names are blobs; another object under the prefix is foreign.
            try await server.putForeign(bucket: "dossier-test", name: "blobs/notes.txt", using: store)
            // So is one whose name merely looks like hex (another application's).
            try await server.putForeign(bucket: "dossier-test", name: "blobs/2024-05-17", using: store)
            let listed = try await store.listing()
            #expect(Set(listed.keys.keys) == [key, second])
            #expect(Set(listed.foreign) == ["blobs/notes.txt", "blobs/2024-05-17"])
            #expect(listed.keys.values.allSatisfy { $0.map { abs($0.timeIntervalSinceNow) < 600 } ?? false }, "each with when it was written")
            // And the store's own time, which the age of its objects is measured against.
            #expect(listed.asOf.map { abs($0.timeIntervalSinceNow) < 600 } ?? false)
            #expect(S3BlobStore.httpDate("Sun, 06 Nov 1994 08:49:37 GMT") == Date(timeIntervalSince1970: 784_111_777))
            // Page after page: the same listing two objects at a time.
            let more = (0..<3).map { _ in UUID().uuidString.lowercased() }
            for name in more { try await store.put(Data(name.utf8), key: name) }
            let paged = try await store.listing(pageSize: 2)
            #expect(Set(paged.keys.keys) == Set([key, second] + more))
            #expect(paged.foreign.count == 2)

            try await store.delete([key, second, UUID().uuidString.lowercased()] + more)
            #expect(try await !store.exists(key))
            #expect(try await store.listing().keys.isEmpty)
            await #expect(throws: (any Error).self) { try await store.get(key) }
            await #expect(throws: (any Error).self) { try await store.put(bytes, key: "../etc/passwd") }
            await #expect(throws: (any Error).self) { try await store.put(bytes, key: "2024-05-17") }

            // A bucket that is not there: a production instance does not make one, and a deletion
            // from it is no success.
            let typo = S3BlobStore(location: try S3Location.parse("s3://dossier-tset/blobs", environment: server.environment).get(),
                                   credentials: server.credentials, client: client, scratch: scratch)
            do {
                try await typo.prepare(creating: false)
                Issue.record("a missing bucket was accepted")
            } catch {
                #expect("\(error)".contains("no bucket dossier-tset"), "\(error)")
            }
            await #expect(throws: (any Error).self) { try await typo.delete(key) }

            // A wrong secret: the server refuses the signature, and the start says so.
            var wrong = server.credentials
            wrong.secretAccessKey = "not-the-secret"
            let refused = S3BlobStore(location: location, credentials: wrong, client: client, scratch: scratch)
            #expect(await !refused.isReady())
            do {
                try await refused.prepare()
                Issue.record("a wrong secret was accepted")
            } catch {
                #expect("\(error)".contains("refuses"), "\(error)")
                #expect(!"\(error)".contains("not-the-secret"))
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    /// The whole server on an object store: documents and shared copies go there sealed, are
    /// read back, pass `dossier verify`, and an erasure deletes them.
    @Test(arguments: TestDatabase.all)
    func documentsLiveInTheObjectStoreAndAnErasureDeletesThem(database: TestDatabase) async throws {
        let server = try S3TestServer.start()
        defer { server.stop() }
        let configure = { (configuration: inout DossierConfiguration) in
            configuration.blobsURL = "s3://dossier-documents/instance-1"
            configuration.awsEnvironment = server.environment
        }
        // A command (not a development server) never makes the bucket: a typo would get one.
        do {
            try await withDossier(on: database, configure: configure) { _ in Issue.record("started without its bucket") }
        } catch {
            #expect("\(error)".contains("no bucket dossier-documents"), "\(error)")
        }
        // A development server does.
        try await withDossier(on: database, configure: { configure(&$0); $0.runsBackgroundJobs = true }) { app in
            let store = try #require(app.dossier.blobs as? S3BlobStore)
            #expect(await store.isReady(), "the server made its bucket")
        }
        try await withDossier(on: database, configure: configure) { app in
            let store = try #require(app.dossier.blobs as? S3BlobStore)
            #expect(await store.isReady())
            let tenant = try await SharingTests.tenant(app)
            let (_, token, _) = try await SharingTests.share(app, tenant, documents: [tenant.payslip])
            #expect(try await SharingTests.get(app, "s/\(token)").status == .ok)
            let files = try await DocumentFile.query(on: app.db).all()
            let listed = try await store.listing()
            #expect(Set(files.map(\.blobKey)).isSubset(of: Set(listed.keys.keys)))
            #expect(listed.foreign.isEmpty)
            let content = try await SharingTests.get(app, "api/v1/me/documents/\(tenant.payslip)/content", headers: tenant.auth)
            #expect(content.status == .ok && content.body.starts(with: Data("%PDF".utf8)))
            let payslip = try #require(files.first { $0.$document.id == tenant.payslip })
            let stored = try await store.get(payslip.blobKey)
            #expect(stored != content.body && stored.range(of: Data("%PDF".utf8)) == nil, "objects hold ciphertext only")
            #expect(try await ConsistencyCheck.run(on: app, removeOrphans: false).problems.isEmpty)
            // An object no row names: left while it is recent (an upload under way), removed
            // once it is not; the documents' own objects stay.
            let orphan = UUID().uuidString.lowercased()
            try await store.put(Data("left by an interrupted upload".utf8), key: orphan)
            _ = try await ConsistencyCheck.run(on: app, removeOrphans: true)
            #expect(try await store.exists(orphan))
            let cleaned = try await ConsistencyCheck.run(on: app, removeOrphans: true, recentObjects: 0)
            #expect(cleaned.facts.contains("removed 1 orphan blob(s)"), "\(cleaned.facts)")
            #expect(try await !store.exists(orphan))
            #expect(Set(files.map(\.blobKey)).isSubset(of: Set(try await store.listing().keys.keys)))
            try await app.testing().test(.GET, "health/ready") { res in
                #expect(res.status == .ok && res.body.string.contains(#""blobs":"ok""#), "\(res.body.string)")
            }

            _ = try await ErasureTests.erase(app, tenant.auth)
            #expect(try await store.listing().keys.isEmpty, "every document and shared copy deleted")
        }
    }
}

/// `Tests/Tools/s3_server.py` (moto's S3 server, signatures checked) in a child process on a
/// loopback port, stopped at the end of the test.
struct S3TestServer {
    let process: Process
    let input: Pipe
    let port: Int
    let credentials: S3Signature.Credentials

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tools/s3_server.py")

    var environment: [String: String] {
        ["AWS_ENDPOINT_URL": "http://127.0.0.1:\(port)", "AWS_REGION": "eu-west-3",
         "AWS_ACCESS_KEY_ID": credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey]
    }

    static func start() throws -> S3TestServer {
        for _ in 0..<5 {
            let port = Int.random(in: 30000...50000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script.path, "--port", "\(port)"]
            let output = Pipe(), input = Pipe()
            process.standardOutput = output
            process.standardInput = input
            process.standardError = FileHandle.nullDevice
            try process.run()
            // "ready PORT KEY SECRET" once it answers; nothing (and an exit) if the port was taken.
            let words = output.fileHandleForReading.availableLine(timeout: 60)?.split(separator: " ").map(String.init) ?? []
            if words.count == 4, words[0] == "ready" {
                return S3TestServer(process: process, input: input, port: port,
                                    credentials: .init(accessKeyID: words[2], secretAccessKey: words[3]))
            }
            process.terminate()
            process.waitUntilExit()
        }
        throw CLIError("the S3 test server did not start (is moto[server] installed? pip install -r Tests/requirements.txt)")
    }

    /// An object the store did not write, put there with the store's own signed request.
    func putForeign(bucket: String, name: String, using store: S3BlobStore) async throws {
        var location = store.location
        location.prefix = ""
        let other = S3BlobStore(location: location, credentials: credentials, client: store.client, scratch: store.scratch)
        try await other.putObject(Data("not a blob".utf8), name: name)
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.terminate()
        process.waitUntilExit()
    }
}
