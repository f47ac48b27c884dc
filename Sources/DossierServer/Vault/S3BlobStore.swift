import AsyncHTTPClient
import DossierCore
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Where `DOSSIER_BLOBS_URL=s3://bucket/prefix` keeps documents: an S3-compatible object store
/// (AWS S3, MinIO, Garage, Scaleway, OVH...), reached at `AWS_ENDPOINT_URL` (else AWS's own
/// endpoint for `AWS_REGION`) with `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
struct S3Location: Sendable, Equatable {
    var bucket: String
    /// Ends with `/` unless empty.
    var prefix: String
    /// `scheme://host[:port]`, no path.
    var endpoint: URL
    var region: String
    /// Requests name the bucket in the path (`endpoint/bucket/key`: every S3-compatible store)
    /// rather than in the host (`bucket.s3.region.amazonaws.com`: AWS's own endpoint).
    var pathStyle: Bool

    static let defaultRegion = "us-east-1"

    /// Reads `s3://bucket/prefix` with the AWS variables; the error says what is wrong, never
    /// quoting a secret (the bucket and endpoint hold none: credentials in them are refused).
    static func parse(_ text: String, environment: [String: String]) -> Result<S3Location, ConfigurationError> {
        func variable(_ name: String) -> String? { DossierConfiguration.variable(name, in: environment) }
        guard let url = URLComponents(string: text), url.scheme?.lowercased() == "s3", url.user == nil, url.password == nil,
              url.port == nil, url.query == nil, url.fragment == nil, let bucket = url.host, !bucket.isEmpty else {
            return .failure(ConfigurationError("DOSSIER_BLOBS_URL must be s3://BUCKET or s3://BUCKET/PREFIX (no credentials, port or query: "
                + "those go in AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"))
        }
        // S3's bucket naming rules: 3 to 63 lowercase letters, digits, dots and hyphens.
        guard (3...63).contains(bucket.count), bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }),
              bucket.first?.isLetter == true || bucket.first?.isNumber == true else {
            return .failure(ConfigurationError("DOSSIER_BLOBS_URL: \"\(bucket)\" is not a bucket name (3 to 63 lowercase letters, digits, dots and hyphens)"))
        }
        var prefix = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        guard prefix.count <= 512, prefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./".contains($0)) }),
              !prefix.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == "." || $0 == ".." }),
              !prefix.hasPrefix("/"), !prefix.contains("//") else {
            return .failure(ConfigurationError("DOSSIER_BLOBS_URL: the prefix after the bucket may hold letters, digits, '-', '_', '.' and '/' only"))
        }
        if !prefix.isEmpty, !prefix.hasSuffix("/") { prefix += "/" }
        let region = variable("AWS_REGION") ?? variable("AWS_DEFAULT_REGION") ?? defaultRegion
        guard region.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }), !region.isEmpty, region.count <= 40 else {
            return .failure(ConfigurationError("AWS_REGION must be a region name such as eu-west-3"))
        }
        let endpoint: URL
        let pathStyle: Bool
        if let given = variable("AWS_ENDPOINT_URL_S3") ?? variable("AWS_ENDPOINT_URL") {
            guard let parts = URLComponents(string: given), let scheme = parts.scheme?.lowercased(), ["http", "https"].contains(scheme),
                  let host = parts.host, !host.isEmpty, parts.user == nil, parts.password == nil, parts.query == nil, parts.fragment == nil,
                  parts.path.isEmpty || parts.path == "/" else {
                return .failure(ConfigurationError("AWS_ENDPOINT_URL must be http(s)://HOST[:PORT], with no credentials and no path"))
            }
            var base = "\(scheme)://\(host.contains(":") ? "[\(host)]" : host)"
            if let port = parts.port { base += ":\(port)" }
            guard let built = URL(string: base) else { return .failure(ConfigurationError("AWS_ENDPOINT_URL is not a usable address")) }
            endpoint = built
            pathStyle = true
        } else {
            // AWS itself: the bucket in the host (path-style requests are deprecated there); a
            // bucket with dots would not match the certificate's wildcard, so it goes in the path.
            endpoint = URL(string: "https://s3.\(region).amazonaws.com")!
            pathStyle = bucket.contains(".")
        }
        return .success(S3Location(bucket: bucket, prefix: prefix, endpoint: endpoint, region: region, pathStyle: pathStyle))
    }

    var scheme: String { endpoint.scheme ?? "https" }
    /// `host[:port]` as the endpoint was written (an IPv6 host in brackets).
    var authority: String { String(endpoint.absoluteString.dropFirst(scheme.count + 3)) }

    /// Whether requests leave the machine unencrypted: an http endpoint other than loopback.
    var isPlainTextOverNetwork: Bool {
        guard endpoint.scheme == "http", let host = endpoint.host else { return false }
        return !["127.0.0.1", "::1", "[::1]", "localhost"].contains(host.lowercased())
    }

    /// The credentials, or why there are none. Instance roles and profiles are not read: the
    /// variables are the one source, as the README says.
    static func credentials(from environment: [String: String]) -> Result<S3Signature.Credentials, ConfigurationError> {
        func variable(_ name: String) -> String? { DossierConfiguration.variable(name, in: environment) }
        guard let id = variable("AWS_ACCESS_KEY_ID"), let secret = variable("AWS_SECRET_ACCESS_KEY") else {
            return .failure(ConfigurationError("DOSSIER_BLOBS_URL is s3://: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the object store's credentials)"))
        }
        guard id.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "/" }), secret.allSatisfy({ $0.isASCII && !$0.isNewline }) else {
            return .failure(ConfigurationError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be ASCII, without spaces in the key id"))
        }
        return .success(.init(accessKeyID: id, secretAccessKey: secret, sessionToken: variable("AWS_SESSION_TOKEN")))
    }
}

/// Sealed document bytes as objects of an S3-compatible store, one object a blob, under the
/// location's prefix. A PUT is atomic (the whole object or none), so a crash never leaves part
/// of a blob. Every request is signed (SigV4) and its body hashed: the store refuses bytes
/// altered on the way. Objects hold ciphertext only (the keys are in the key store).
struct S3BlobStore: BlobStore {
    let location: S3Location
    let signature: S3Signature
    let client: HTTPClient
    /// Where `reader` spools an object (ciphertext) for reading piece by piece.
    let scratch: URL
    var pool: NIOThreadPool = .singleton
    /// A request's deadline (a document is at most a few megabytes).
    var timeout: TimeAmount = .seconds(60)

    init(location: S3Location, credentials: S3Signature.Credentials, client: HTTPClient, scratch: URL) {
        self.location = location
        self.signature = S3Signature(credentials: credentials, region: location.region)
        self.client = client
        self.scratch = scratch
    }

    /// What the store answered, when it was not what was asked: the status and S3's error code,
    /// never a body's text beyond it (it may echo a key).
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The object's name for a key: ours only, a UUID as the server makes them (lowercase,
    /// 8-4-4-4-12), so that no other object under the prefix is ever taken for a blob.
    func objectName(for key: String) throws -> String {
        guard Self.isBlobKey(key) else { throw Failure(description: "invalid blob key") }
        return location.prefix + key
    }

    static func isBlobKey(_ key: String) -> Bool {
        key.count == 36 && UUID(uuidString: key) != nil && key == key.lowercased()
    }

    // MARK: BlobStore

    func put(_ data: Data, key: String) async throws {
        try await putObject(data, name: try objectName(for: key))
    }

    /// One object, whole: S3 stores all of it or nothing, and checks the body against the hash
    /// signed with it. The hash and the copy are made on the thread pool, never on an event loop.
    func putObject(_ data: Data, name: String) async throws {
        let (body, hash) = try await pool.runIfActive { (ByteBuffer(data: data), S3Signature.hex(SHA256.hash(data: data))) }
        let response = try await send("PUT", object: name, body: body, payloadHash: hash)
        try await Self.expect(response, [.ok], doing: "store a blob")
    }

    func put(fileAt file: URL, key: String) async throws {
        let name = try objectName(for: key)
        try await putObject(try await pool.runIfActive { try Data(contentsOf: file) }, name: name)
        try? await pool.runIfActive { try FileManager.default.removeItem(at: file) }
    }

    /// The largest object `get` reads whole: a document's sealed files are at most four times
    /// the upload limit, a share link's cached copy at most what the renderer may answer.
    static let largestObject = max(4 * FileInspector.maximumSize, RenditionSandbox.maximumOutput) + (1 << 20)

    func get(_ key: String) async throws -> Data {
        let response = try await send("GET", object: try objectName(for: key))
        try await Self.expect(response, [.ok], keepingBody: true, doing: "read a blob")
        var collected = try await response.body.collect(upTo: Self.largestObject)
        // Large buffers are handed over, not copied.
        return collected.readData(length: collected.readableBytes) ?? Data()
    }

    /// The object spooled to a scratch file as it arrives (never whole in memory), the file
    /// unlinked once open: the reader holds the only way to it.
    func reader(_ key: String) async throws -> any BlobReader {
        let response = try await send("GET", object: try objectName(for: key))
        try await Self.expect(response, [.ok], keepingBody: true, doing: "read a blob")
        let path = scratch.appendingPathComponent("s3-\(UUID().uuidString.lowercased()).part")
        let handle = try await pool.runIfActive { () -> FileHandle in
            // Gone from the directory whatever happens: the open handle is the only way to it.
            defer { unlink(path.path) }
            guard FileManager.default.createFile(atPath: path.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw Failure(description: "cannot create a scratch file in \(scratch.path)")
            }
            return try FileHandle(forUpdating: path)
        }
        do {
            for try await buffer in response.body {
                let piece = Data(buffer.readableBytesView)
                try await pool.runIfActive { try handle.write(contentsOf: piece) }
            }
            try await pool.runIfActive { try handle.seek(toOffset: 0) }
        } catch {
            try? handle.close()
            throw error
        }
        return FileBlobReader(handle: handle)
    }

    func delete(_ key: String) async throws {
        let response = try await send("DELETE", object: try objectName(for: key))
        // S3 answers 204 whether or not the object was there; some stores say 404 (NoSuchKey).
        // A bucket that is not there (NoSuchBucket) deleted nothing, and says so.
        try await Self.expect(response, [.noContent, .ok], alsoAccepting: "NoSuchKey", doing: "delete a blob")
    }

    /// Several at once, a few requests in flight: one that fails does not keep the others (the
    /// journal names it for the next attempt).
    func delete(_ keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        let names = try keys.map { try objectName(for: $0) }
        let failures = await withTaskGroup(of: String?.self) { group -> [String] in
            var failures: [String] = []
            var next = 0
            func start() {
                let key = keys[next]
                group.addTask { do { try await self.delete(key); return nil } catch { return "\(key): \(error)" } }
                next += 1
            }
            while next < min(8, names.count) { start() }
            while let result = await group.next() {
                if let result { failures.append(result) }
                if next < names.count { start() }
            }
            return failures
        }
        if !failures.isEmpty {
            throw Failure(description: "\(failures.count) blob(s) not deleted, the first \(failures[0])")
        }
    }

    func exists(_ key: String) async throws -> Bool {
        let response = try await send("HEAD", object: try objectName(for: key))
        if response.status == .notFound {
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return false
        }
        try await Self.expect(response, [.ok], doing: "look a blob up")
        return true
    }

    /// The bucket answers this process's credentials (HEAD bucket), within 2 s.
    func isReady() async -> Bool {
        guard let response = try? await send("HEAD", object: nil, timeout: .seconds(2)) else { return false }
        _ = try? await response.body.collect(upTo: 64 * 1024)
        return response.status == .ok
    }

    /// Checks that the bucket answers this process's credentials, and makes it when the store
    /// has none by that name if `creating` (a development instance: a new MinIO, a test's
    /// moto); a production instance refuses to start instead, since a mistyped name would
    /// otherwise get an empty bucket and every document would be missing.
    func prepare(creating: Bool = true) async throws {
        let response: HTTPClientResponse
        do {
            response = try await send("HEAD", object: nil, timeout: .seconds(10))
        } catch {
            throw ConfigurationError("DOSSIER_BLOBS_URL: the object store at \(location.endpoint.absoluteString) does not answer (\(Self.reason(of: error)))")
        }
        _ = try? await response.body.collect(upTo: 64 * 1024)
        switch response.status {
        case .ok:
            return
        case .notFound where !creating:
            throw ConfigurationError("DOSSIER_BLOBS_URL: the object store has no bucket \(location.bucket): create it (or correct the name); a production instance does not make one")
        case .notFound:
            var body = Data()
            if location.region != S3Location.defaultRegion {
                body = Data("""
                    <CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>\(location.region)</LocationConstraint></CreateBucketConfiguration>
                    """.utf8)
            }
            let created = try await send("PUT", object: nil, body: ByteBuffer(data: body), payloadHash: S3Signature.hex(SHA256.hash(data: body)))
            do {
                // Another instance starting at the same time may have made it first.
                try await Self.expect(created, [.ok], alsoAccepting: "BucketAlreadyOwnedByYou", doing: "create the bucket \(location.bucket)")
            } catch {
                // OperationAborted: another instance's creation was under way, and is done.
                if created.status == .conflict, await isReady() { return }
                throw ConfigurationError("DOSSIER_BLOBS_URL: \(error)")
            }
        case .movedPermanently, .temporaryRedirect:
            let region = response.headers.first(name: "x-amz-bucket-region").map { " (the bucket is in \($0): set AWS_REGION to it)" } ?? ""
            throw ConfigurationError("DOSSIER_BLOBS_URL: the object store answers \(response.status.code) for the bucket \(location.bucket)\(region)")
        case .forbidden, .unauthorized:
            throw ConfigurationError("DOSSIER_BLOBS_URL: the object store refuses AWS_ACCESS_KEY_ID's credentials for the bucket \(location.bucket) (\(response.status.code))")
        default:
            throw ConfigurationError("DOSSIER_BLOBS_URL: the object store answers \(response.status.code) for the bucket \(location.bucket)")
        }
    }

    /// Every blob under the prefix (`dossier verify`) with when it was written, and the names
    /// there that are none, and the store's own time when it began answering (its `Date`: the
    /// objects' dates are by its clock, not this machine's). `pageSize`: objects a page (S3's most
    /// is 1,000).
    func listing(pageSize: Int = 1000) async throws -> (keys: [String: Date?], foreign: [String], asOf: Date?) {
        var keys: [String: Date?] = [:], foreign: [String] = []
        var asOf: Date?
        var token: String?
        var tokens = Set<String>()
        repeat {
            // The prefix without its last '/': a '/' in a query value is signed encoded (%2F),
            // which some S3-compatible servers (moto among them) read back unencoded and then
            // refuse the signature. Names beyond it ("prefix-2/…") are not the store's, and skipped.
            var query = [("list-type", "2"), ("prefix", String(location.prefix.dropLast(location.prefix.hasSuffix("/") ? 1 : 0)))]
            query.append(("max-keys", String(pageSize)))
            if let token { query.append(("continuation-token", token)) }
            let response = try await send("GET", object: nil, query: query)
            try await Self.expect(response, [.ok], keepingBody: true, doing: "list the blobs")
            if asOf == nil { asOf = response.headers.first(name: "date").flatMap(Self.httpDate) }
            var body = try await response.body.collect(upTo: 16 * 1024 * 1024)
            let page = S3ListPage(xml: body.readString(length: body.readableBytes) ?? "")
            for object in page.objects where object.name.hasPrefix(location.prefix) {
                let key = String(object.name.dropFirst(location.prefix.count))
                if Self.isBlobKey(key) { keys[key] = object.modified } else { foreign.append(object.name) }
            }
            guard page.isTruncated else { break }
            // A listing cut short would make blobs look missing, and one that repeats would never end.
            guard let next = page.nextToken, tokens.insert(next).inserted else {
                throw Failure(description: "the object store's listing is truncated without a new continuation token")
            }
            token = next
        } while true
        return (keys, foreign, asOf)
    }

    /// An HTTP date (RFC 9110's IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT").
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text)
    }

    // MARK: Requests

    private func send(_ method: String, object: String?, query: [(String, String)] = [], body: ByteBuffer? = nil,
                      payloadHash: String = S3Signature.emptyPayloadHash, timeout: TimeAmount? = nil) async throws -> HTTPClientResponse {
        // The Host header is set here, as signed (the client would write an IPv6 host bare).
        var path = location.pathStyle ? "/" + location.bucket : ""
        let host = location.pathStyle ? location.authority : location.bucket + "." + location.authority
        if let object { path += "/" + object } else if !location.pathStyle { path = "/" }
        let headers = signature.signedHeaders(method: method, host: host, path: path, query: query,
                                              payloadHash: payloadHash, at: Date())
        var url = "\(location.scheme)://\(host)\(S3Signature.encode(path, slash: false))"
        if !query.isEmpty {
            url += "?" + query.map { "\(S3Signature.encode($0.0, slash: true))=\(S3Signature.encode($0.1, slash: true))" }.joined(separator: "&")
        }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "host", value: host)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        // Sent a slice at a time, as the socket takes it: the request's end (which starts the
        // client's read timeout) goes out only once the body has.
        if let body { request.body = .stream(BufferSlices(body), length: .known(Int64(body.readableBytes))) }
        // The deadline covers the request and the answer's head (at least 256 KiB/s for a
        // body); the client's read timeout (`makeClient`) ends an answer that stalls after it.
        let limit = timeout ?? self.timeout + .seconds(Int64((body?.readableBytes ?? 0) / (256 * 1024)))
        return try await client.execute(request, timeout: limit)
    }

    /// Throws unless the status is one expected (or the error is S3's `alsoAccepting` code). A
    /// body that is not the answer's data is read to its end, so that the connection goes back
    /// to the pool; of an error, only S3's code is kept (its message may echo a name).
    private static func expect(_ response: HTTPClientResponse, _ statuses: [HTTPResponseStatus], alsoAccepting accepted: String? = nil,
                               keepingBody: Bool = false, doing what: String) async throws {
        if statuses.contains(response.status) {
            if !keepingBody { _ = try? await response.body.collect(upTo: 64 * 1024) }
            return
        }
        var body = (try? await response.body.collect(upTo: 64 * 1024)) ?? ByteBuffer()
        let text = body.readString(length: body.readableBytes) ?? ""
        let code = S3ListPage.element("Code", in: text).first
        if let accepted, code == accepted { return }
        throw Failure(description: "the object store answered \(response.status.code)\(code.map { " (\($0))" } ?? "") when asked to \(what)")
    }

    /// The store's own HTTP client: connections of its own (readiness probes and downloads do
    /// not queue behind the server's other calls), transfers that stall ended, no redirects
    /// (a redirect would carry the signed headers elsewhere: S3 answers one when the region is wrong).
    static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(10), read: .seconds(30), write: .seconds(30)))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 32)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    private static func reason(of error: any Error) -> String {
        if let error = error as? HTTPClientError { return error.description }
        return String(describing: type(of: error))
    }
}

/// The parts of a ListObjectsV2 answer (or of an error document) that the store reads: the
/// values of a few elements of S3's fixed XML, whose keys are ours (hex and dashes) or
/// reported as foreign.
struct S3ListPage {
    var objects: [(name: String, modified: Date?)]
    var isTruncated: Bool
    var nextToken: String?

    init(xml: String) {
        let dates = ISO8601DateFormatter()
        dates.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        objects = Self.element("Contents", in: xml, decoding: false).compactMap { entry in
            guard let name = Self.element("Key", in: entry).first else { return nil }
            let modified = Self.element("LastModified", in: entry).first.flatMap { dates.date(from: $0) ?? plain.date(from: $0) }
            return (name, modified)
        }
        isTruncated = Self.element("IsTruncated", in: xml).first == "true"
        nextToken = Self.element("NextContinuationToken", in: xml).first
    }

    /// The text of every `<name>…</name>`, with XML's five entities read.
    static func element(_ name: String, in xml: String, decoding: Bool = true) -> [String] {
        var found: [String] = []
        var rest = xml[...]
        while let open = rest.range(of: "<\(name)>"), let close = rest[open.upperBound...].range(of: "</\(name)>") {
            let text = String(rest[open.upperBound..<close.lowerBound])
            found.append(!decoding ? text : text
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
                .replacingOccurrences(of: "&amp;", with: "&"))
            rest = rest[close.upperBound...]
        }
        return found
    }
}

/// A buffer as an async sequence of slices of at most 1 MiB (a request body sent as the socket
/// takes it).
struct BufferSlices: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let buffer: ByteBuffer
    var slice = 1 << 20

    init(_ buffer: ByteBuffer) {
        self.buffer = buffer
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var rest: ByteBuffer
        let slice: Int

        mutating func next() async -> ByteBuffer? {
            guard rest.readableBytes > 0 else { return nil }
            return rest.readSlice(length: Swift.min(slice, rest.readableBytes))
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(rest: buffer, slice: slice) }
}
