import DossierCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Each uploaded file is inspected in a process of its own (`dossier-inspect`), under limits of
/// memory, CPU time and stack, and a wall-clock deadline: a file that drives qpdf or libvips into
/// a stack overflow, a huge allocation or hours of decoding ends that process, and is refused;
/// the server never notices. The file waits in the private scratch directory meanwhile.
struct InspectionSandbox: Sendable {
    let executable: URL
    let scratch: URL
    /// Killed after this long, whatever it is doing.
    var deadline: TimeInterval = 40

    /// The `dossier-inspect` binary: `DOSSIER_INSPECTOR`, else beside the running executable.
    static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let path = environment["DOSSIER_INSPECTOR"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw ConfigurationError("DOSSIER_INSPECTOR \(path) is not an executable file")
            }
            return URL(fileURLWithPath: path)
        }
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ].map { $0.resolvingSymlinksInPath().appendingPathComponent("dossier-inspect") }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw ConfigurationError("dossier-inspect, which inspects every upload, is not beside the dossier executable "
                + "(build it with `swift build --product dossier`, or set DOSSIER_INSPECTOR)")
        }
        return found
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The inspector could not give a verdict (it is missing, broken, or the disk is full): the
    /// server's fault, not the file's (500), and logged with what the inspector said.
    struct Broken: Error, CustomStringConvertible {
        let description: String
    }

    /// Blocks until the verdict: call it off the event loops (the inspection pool).
    func inspect(_ bytes: Data, fileName: String?, declaredType: String?) throws -> Result<FileInspector.Accepted, FileInspector.Refusal> {
        guard !bytes.isEmpty else { return .failure(.empty) }
        guard bytes.count <= FileInspector.maximumSize else { return .failure(.tooLarge) }
        let base = scratch.appendingPathComponent("inspect-\(UUID().uuidString.lowercased())")
        let input = base.appendingPathExtension("in")
        let output = base.appendingPathExtension("out")
        let errors = base.appendingPathExtension("err")
        defer {
            unlink(input.path)
            unlink(output.path)
            unlink(errors.path)
        }
        // Private, and not flushed: it lives for the inspection only (the directory is emptied
        // at every start of the server).
        try PrivateFile.writeScratch(bytes, to: input)
        FileManager.default.createFile(atPath: errors.path, contents: nil, attributes: [.posixPermissions: 0o600])

        let process = Process()
        process.executableURL = executable
        // The name and type are data, never options: they come after the two paths, always,
        // without NUL bytes and at most 255 bytes (the end kept: the extension is checked).
        process.arguments = [input.path, output.path, Self.argument(fileName), Self.argument(declaredType)]
        let environment = ProcessInfo.processInfo.environment
        process.environment = environment.filter { $0.key.hasPrefix("DOSSIER_INSPECT_") || $0.key == "LD_LIBRARY_PATH" }
        let answer = Pipe()
        process.standardOutput = answer
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let timer = DispatchSource.makeTimerSource()
        timer.schedule(deadline: .now() + deadline)
        // Its whole process group (Foundation starts it in one of its own): nothing it started
        // outlives it, nor keeps the answer pipe open.
        timer.setEventHandler {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
        timer.resume()
        // One JSON line is all it says: a child that says more is not believed.
        let said = (try? answer.fileHandleForReading.read(upToCount: 64 * 1024)) ?? Data()
        try? answer.fileHandleForReading.close()
        process.waitUntilExit()
        timer.cancel()

        if process.terminationReason == .uncaughtSignal {
            // Killed by the deadline or a limit (a stack overflow, CPU time, an allocation that
            // aborted): the file asks more than a document may.
            return .failure(.overLimits)
        }
        guard process.terminationStatus == 0, let verdict = try? JSONDecoder().decode(InspectionVerdict.self, from: said) else {
            let told = (try? String(contentsOf: errors, encoding: .utf8)).map { String($0.suffix(500)) } ?? ""
            throw Broken(description: "dossier-inspect exited with status \(process.terminationStatus) and no verdict: \(told)")
        }
        switch verdict {
        case let .refused(refusal):
            return .failure(refusal)
        case let .accepted(kind, removed, rewritten):
            // A picture is always re-encoded; what comes back is of the kind announced, and no larger
            // than an upload may be.
            if kind == .pdf {
                guard !rewritten, FileInspector.sniff(bytes) == .pdf else { throw Broken(description: "dossier-inspect accepted a PDF it did not read as one") }
                return .success(FileInspector.Accepted(kind: kind, bytes: bytes, removedMetadata: removed))
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: output.path)[.size] as? Int) ?? nil
            guard rewritten, let size, size > 0, size <= 4 * FileInspector.maximumSize else {
                throw Broken(description: "dossier-inspect accepted a picture without re-encoding it within bounds")
            }
            let kept = try Data(contentsOf: output)
            guard FileInspector.sniff(kept) == kind else { throw Broken(description: "dossier-inspect wrote a picture of another kind") }
            return .success(FileInspector.Accepted(kind: kind, bytes: kept, removedMetadata: removed))
        }
    }

    static func argument(_ text: String?) -> String {
        var bytes = Array((text ?? "").utf8.filter { $0 != 0 })
        if bytes.count > 255 { bytes = Array(bytes.suffix(255)) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
