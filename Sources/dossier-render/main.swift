// dossier-render: makes what a recipient of a shared file receives, in a process of its own, so
// that a document that drives poppler, cairo or libvips into a crash, a huge allocation or
// minutes of work ends this process, never the server. The server (RenditionSandbox) writes a
// `RenditionJob` as one JSON line on standard input, then each file's bytes; the PDF comes out
// on standard output. Nothing is written to disk.
import DossierCore
import Foundation
import Rendition
#if canImport(Glibc)
import Glibc
#endif

func limit(_ resource: Int32, _ value: rlim_t) {
    var limit = rlimit(rlim_cur: value, rlim_max: value)
    _ = setrlimit(__rlimit_resource_t(UInt32(resource)), &limit)
}

func die(_ message: String) -> Never {
    FileHandle.standardError.write(Data("dossier-render: \(message)\n".utf8))
    exit(1)
}

let environment = ProcessInfo.processInfo.environment
let megabytes = rlim_t(environment["DOSSIER_RENDER_MEMORY_MB"].flatMap(Int.init) ?? 2048)
limit(Int32(RLIMIT_AS.rawValue), megabytes * 1024 * 1024)
limit(Int32(RLIMIT_CPU.rawValue), rlim_t(environment["DOSSIER_RENDER_CPU_SECONDS"].flatMap(Int.init) ?? 120))
limit(Int32(RLIMIT_STACK.rawValue), 16 * 1024 * 1024)
limit(Int32(RLIMIT_CORE.rawValue), 0)
// Nothing is written but standard output (a pipe): no file at all. A library that tries (a
// font cache) gets an error, not a signal that would end the rendition.
limit(Int32(RLIMIT_FSIZE.rawValue), 0)
signal(SIGXFSZ, SIG_IGN)

/// Exactly `count` bytes of standard input, or nil at its end.
func read(_ count: Int) -> Data? {
    var data = Data(capacity: count)
    while data.count < count {
        guard let piece = try? FileHandle.standardInput.read(upToCount: min(count - data.count, 1 << 20)), !piece.isEmpty else {
            return nil
        }
        data.append(piece)
    }
    return data
}

/// The header: bytes up to the first newline, at most `RenditionJob.maximumHeader`.
func readHeader() -> Data {
    var line = Data()
    while line.count < RenditionJob.maximumHeader {
        guard let byte = read(1) else { die("the input ended before the job") }
        if byte[0] == 0x0A { return line }
        line.append(byte)
    }
    die("the job's header is too long")
}

let errorSize = 512
var error = [CChar](repeating: 0, count: errorSize)
@MainActor func problem() -> String { String(cString: error) }

guard dossier_rendition_init(&error, errorSize) == 0 else { die(problem()) }
guard let job = try? JSONDecoder().decode(RenditionJob.self, from: readHeader()) else { die("the job is not valid JSON") }
guard job.isWithinBounds else { die("the job is out of bounds") }
guard let rendition = dossier_rendition_begin(STDOUT_FILENO, &error, errorSize) else { die(problem()) }

/// Calls `body` with the mark as C strings (or NULL).
func withMark<T>(_ mark: RenditionJob.Mark?, _ body: (UnsafePointer<dossier_mark>?) -> T) -> T {
    guard let mark else { return body(nil) }
    return mark.tile.withCString { tile in
        mark.footer.withCString { footer in
            var value = dossier_mark(tile: tile, footer: footer)
            return body(&value)
        }
    }
}

/// C strings for `lines`, freed after `body`.
func withCStrings<T>(_ lines: [String], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
    let copies = lines.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return body(copies.map { UnsafePointer($0) })
}

for part in job.parts {
    let status: Int32
    switch part {
    case let .file(kind, length):
        // One file in memory at a time: read, rendered, released.
        guard let bytes = read(length) else { die("the input ended inside a file") }
        status = bytes.withUnsafeBytes { raw in
            let base = raw.bindMemory(to: UInt8.self).baseAddress
            return withMark(job.mark) { mark in
                switch kind {
                case .pdf:
                    dossier_rendition_add_pdf(rendition, base, raw.count, mark, RenditionJob.dpi,
                                              Int32(min(RenditionJob.maximumPages, RenditionJob.maximumJobPages - Int(dossier_rendition_page_count(rendition)))),
                                              &error, errorSize)
                case .jpeg, .png, .webp:
                    dossier_rendition_add_image(rendition, base, raw.count, mark, Int32(RenditionJob.maximumImageSide), &error, errorSize)
                }
            }
        }
    case let .text(title, lines, qr, caption):
        status = withCStrings(lines) { pointers in
            withMark(job.mark) { mark in
                dossier_rendition_add_text_page(rendition, title, pointers, pointers.count, qr, caption, mark, &error, errorSize)
            }
        }
    }
    if status == DOSSIER_RENDITION_TOO_LARGE {
        FileHandle.standardError.write(Data("dossier-render: \(problem())\n".utf8))
        exit(3)
    }
    guard status == 0 else { die(problem()) }
    if dossier_rendition_page_count(rendition) > Int32(RenditionJob.maximumJobPages) {
        FileHandle.standardError.write(Data("dossier-render: more than \(RenditionJob.maximumJobPages) pages\n".utf8))
        exit(3)
    }
}
guard dossier_rendition_end(rendition, &error, errorSize) == 0 else { die(problem()) }
exit(0)
