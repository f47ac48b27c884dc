import DossierCore
import Foundation
import Leaf
import LeafKit
import NIOCore
import NIOPosix

/// The Leaf templates shipped in the package's resources, found wherever the binary runs.
enum Views {
    static var directory: String {
        Bundle.module.url(forResource: "Views", withExtension: nil)!.path + "/"
    }

    /// Templates sit in the build folder (`.build/…`), so hidden paths must be allowed;
    /// the sandbox still keeps lookups inside the views folder.
    static func sources(fileio: NonBlockingFileIO) -> LeafSources {
        .singleSource(NIOLeafFiles(fileio: fileio, limits: [.toSandbox, .onlyLeafExtensions], sandboxDirectory: directory, viewDirectory: directory))
    }
}

/// The privacy policy page, rendered by the same template for `GET /privacy` and for
/// `dossier register render --format html`.
public enum PolicyPage {
    static let template = "privacy"

    /// Renders outside a running server, on a private event loop.
    public static func html(_ document: PolicyDocument) async throws -> String {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let fileio = NonBlockingFileIO(threadPool: pool)
        let renderer = LeafRenderer(
            configuration: LeafConfiguration(rootDirectory: Views.directory),
            sources: Views.sources(fileio: fileio),
            eventLoop: group.next()
        )
        let rendered: Result<ByteBuffer, any Error>
        do {
            rendered = .success(try await renderer.render(path: template, context: PolicyPageContext(document: document)).get())
        } catch {
            rendered = .failure(error)
        }
        try await pool.shutdownGracefully()
        try await group.shutdownGracefully()
        return String(buffer: try rendered.get())
    }
}

/// What the privacy template reads.
struct PolicyPageContext: Encodable {
    let document: PolicyDocument
    var lang: String { document.language.rawValue }
    var title: String { document.labels["title"] ?? "" }
    var versionsURL = "/privacy/versions"
    var isArchived = false

    enum CodingKeys: String, CodingKey { case document, lang, title, versionsURL, isArchived }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(document, forKey: .document)
        try container.encode(lang, forKey: .lang)
        try container.encode(title, forKey: .title)
        try container.encode(versionsURL, forKey: .versionsURL)
        try container.encode(isArchived, forKey: .isArchived)
    }
}
