import DossierCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What recipients receive is made in `dossier-render`, a process of its own under limits of
/// memory and CPU time, with a wall-clock deadline: a shared document that drives poppler,
/// cairo or libvips astray ends that process, never the server. Plaintext goes through pipes,
/// never to disk.
struct RenditionSandbox: Sendable {
    let executable: URL
    /// Killed after this long, whatever it is doing.
    var deadline: TimeInterval = 120
    /// What it may answer, at most.
    static let maximumOutput = 768 << 20

    /// A write to a pipe whose reader died must fail, not kill the server: called once at start.
    static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        try HelperExecutable.locate("dossier-render", variable: "DOSSIER_RENDERER", doing: "renders what recipients of a shared file receive",
                                    environment: environment)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The job has more pages than one rendition may (`RenditionJob.maximumPages` per document,
    /// `maximumJobPages` in all): the renderer's exit status then.
    struct TooLarge: Error {}
    static let tooLargeStatus: Int32 = 3

    /// The PDF of `job`, whose files' bytes are `files` (in the order of its file parts).
    /// Blocks until done: call it off the event loops (the rendition pool).
    func render(_ job: RenditionJob, files: [Data]) throws -> Data {
        guard job.fileLengths == files.map(\.count), job.isWithinBounds else {
            throw Failure(description: "a rendition job out of bounds")
        }
        let header = try job.header()
        let process = Process()
        process.executableURL = executable
        process.arguments = []
        process.environment = ProcessInfo.processInfo.environment.filter {
            $0.key.hasPrefix("DOSSIER_RENDER_") || $0.key == "LD_LIBRARY_PATH" || $0.key == "FONTCONFIG_PATH"
        }
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let pid = process.processIdentifier
        let timer = DispatchSource.makeTimerSource()
        timer.schedule(deadline: .now() + deadline)
        timer.setEventHandler {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
        timer.resume()
        // The input is written from another thread while this one reads the answer: each side
        // of a pipe holds only 64 KiB.
        let writer = Thread {
            let handle = input.fileHandleForWriting
            // A renderer that stopped reading (it died) makes the write fail with EPIPE (SIGPIPE is
            // ignored, `ignoreBrokenPipes`): its exit says why.
            try? handle.write(contentsOf: header)
            for file in files { try? handle.write(contentsOf: file) }
            try? handle.close()
        }
        writer.start()
        let told = ErrorCollector(errors.fileHandleForReading)
        var answer = Data()
        var overflow = false
        while let piece = try? output.fileHandleForReading.read(upToCount: 1 << 20), !piece.isEmpty {
            answer.append(piece)
            if answer.count > Self.maximumOutput {
                overflow = true
                kill(pid, SIGKILL)
                break
            }
        }
        try? output.fileHandleForReading.close()
        process.waitUntilExit()
        timer.cancel()
        let message = told.finish()
        guard !overflow else { throw Failure(description: "dossier-render answered more than \(Self.maximumOutput) bytes") }
        if process.terminationReason == .uncaughtSignal {
            throw Failure(description: "dossier-render was stopped (signal \(process.terminationStatus)): the document asks more than its limits")
        }
        guard process.terminationStatus == 0, answer.starts(with: Data("%PDF-".utf8)) else {
            // Only the renderer's own last word: what the libraries print may quote the document.
            let own = message.split(separator: "\n").last { $0.hasPrefix("dossier-render: ") }.map { String($0.prefix(300)) } ?? "no message"
            if process.terminationStatus == Self.tooLargeStatus { throw TooLarge() }
            throw Failure(description: "dossier-render failed (status \(process.terminationStatus)): \(own)")
        }
        return answer
    }

    /// Reads what the renderer says on standard error (at most 4 KiB kept) on a thread of its own.
    final class ErrorCollector: @unchecked Sendable {
        private let lock = NSLock()
        private var text = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ handle: FileHandle) {
            Thread { [self] in
                while let piece = try? handle.read(upToCount: 4096), !piece.isEmpty {
                    lock.withLock { if text.count < 4096 { text.append(piece) } }
                }
                done.signal()
            }.start()
        }

        func finish() -> String {
            done.wait()
            return lock.withLock { String(decoding: text.prefix(4096), as: UTF8.self) }
        }
    }
}
