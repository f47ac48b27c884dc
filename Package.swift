// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "dossier",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "dossier", targets: ["dossier"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/vapor/leaf.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/leaf-kit.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        /// zlib, from Debian's zlib1g-dev: to look inside compressed PDF streams.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        /// qpdf, from Debian's libqpdf-dev, and the C++ probe that opens every uploaded PDF with it.
        .systemLibrary(name: "CQPDF", path: "Sources/CQPDF", pkgConfig: "libqpdf", providers: [.apt(["libqpdf-dev"])]),
        .target(name: "PDFProbe", dependencies: ["CQPDF"], path: "Sources/PDFProbe"),
        /// libvips, from Debian's libvips-dev, and the C probe that decodes and re-encodes pictures.
        .systemLibrary(name: "CVips", path: "Sources/CVips", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .target(name: "ImageProbe", dependencies: ["CVips"], path: "Sources/ImageProbe"),
        /// poppler-glib and cairo (Debian's libpoppler-glib-dev, libcairo2-dev), libqrencode
        /// (libqrencode-dev), and the C code that renders, watermarks and lays out what recipients
        /// of a shared file receive.
        .systemLibrary(name: "CPoppler", path: "Sources/CPoppler", pkgConfig: "poppler-glib", providers: [.apt(["libpoppler-glib-dev", "libcairo2-dev"])]),
        .systemLibrary(name: "CQREncode", path: "Sources/CQREncode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        .target(name: "Rendition", dependencies: ["CPoppler", "CQREncode", "CVips"], path: "Sources/Rendition"),
        /// The domain: register, retention, rights. Pure Swift: no HTTP, no database types.
        .target(
            name: "DossierCore",
            dependencies: [
                "CZlib",
                "PDFProbe",
                "ImageProbe",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Resources/register.yaml"), .copy("Resources/catalogue.yaml")]
        ),
        /// The HTTP server and storage: a thin Vapor/Fluent shell over the domain.
        .target(
            name: "DossierServer",
            dependencies: [
                "DossierCore",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Leaf", package: "leaf"),
                .product(name: "LeafKit", package: "leaf-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            resources: [.copy("Resources/Views")]
        ),
        /// The `dossier` command line, as a library so that tests can run its commands.
        .target(
            name: "DossierCLI",
            dependencies: [
                "DossierCore",
                "DossierServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "dossier",
            // dossier-inspect and dossier-render are built with it: the server inspects each upload
            // in the first, and renders what recipients receive in the second.
            dependencies: ["DossierCLI", "dossier-inspect", "dossier-render", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        /// Inspects one uploaded file in a process of its own, under memory, CPU and stack limits.
        .executableTarget(name: "dossier-inspect", dependencies: ["DossierCore"]),
        /// Renders, watermarks and lays out one recipient's PDF in a process of its own, under limits.
        .executableTarget(name: "dossier-render", dependencies: ["DossierCore", "Rendition"]),
        /// Fixtures and helpers shared by the test targets.
        .target(name: "DossierTestSupport", dependencies: ["DossierCore"], path: "Tests/Support"),
        .testTarget(name: "DossierCoreTests", dependencies: ["DossierCore", "DossierTestSupport"]),
        .testTarget(
            name: "DossierServerTests",
            dependencies: [
                "DossierServer",
                "DossierTestSupport",
                // Built so that the CLI tests can run the real binary (and uploads, dossier-inspect).
                "dossier",
                "dossier-inspect",
                "dossier-render",
                .product(name: "VaporTesting", package: "vapor"),
            ]
        ),
    ],
    cxxLanguageStandard: .cxx17
)
