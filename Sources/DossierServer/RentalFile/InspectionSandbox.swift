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
        try HelperExecutable.locate("dossier-inspect", variable: "DOSSIER_INSPECTOR", doing: "inspects every upload", environment: environment)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The inspector could not give a verdict (it is missing, broken, or the disk is full): the
    /// server's fault, not the file's (500), and logged with what the inspector said.
    struct Broken: Error, CustomStringConvertible {
        let description: String
    }

    /// A file that passed: its kind, and where its bytes to keep are (the received file itself
    /// for a PDF, kept as sent; a new file for a picture, re-encoded without its metadata, which
    /// the caller deletes).
    struct Inspected: Sendable {
        var kind: FileInspector.Kind
        var removedMetadata: [String]
        var file: URL
        /// Whether `file` was made by the inspection (the caller then deletes it).
        var isRewritten: Bool
    }

    /// Inspects the private file `input` (in the scratch directory, never changed here).
    /// Blocks until the verdict: call it off the event loops (the inspection pool).
    func inspect(fileAt input: URL, fileName: String?, declaredType: String?) throws -> Result<Inspected, FileInspector.Refusal> {
        let size = (try? FileManager.default.attributesOfItem(atPath: input.path)[.size] as? Int) ?? 0
        guard size > 0 else { return .failure(.empty) }
        guard size <= FileInspector.maximumSize else { return .failure(.tooLarge) }
        let base = scratch.appendingPathComponent("inspect-\(UUID().uuidString.lowercased())")
        let output = base.appendingPathExtension("out")
        let errors = base.appendingPathExtension("err")
        var keepOutput = false
        defer {
            if !keepOutput { unlink(output.path) }
            unlink(errors.path)
        }
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil, attributes: [.posixPermissions: 0o600])

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
                guard !rewritten, FileInspector.sniff(try Self.head(of: input)) == .pdf else {
                    throw Broken(description: "dossier-inspect accepted a PDF it did not read as one")
                }
                return .success(Inspected(kind: kind, removedMetadata: removed, file: input, isRewritten: false))
            }
            let written = (try? FileManager.default.attributesOfItem(atPath: output.path)[.size] as? Int) ?? nil
            guard rewritten, let written, written > 0, written <= 4 * FileInspector.maximumSize else {
                throw Broken(description: "dossier-inspect accepted a picture without re-encoding it within bounds")
            }
            guard FileInspector.sniff(try Self.head(of: output)) == kind else { throw Broken(description: "dossier-inspect wrote a picture of another kind") }
            keepOutput = true
            return .success(Inspected(kind: kind, removedMetadata: removed, file: output, isRewritten: true))
        }
    }

    /// The first bytes of a file, enough to tell its kind.
    static func head(of file: URL) throws -> Data {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        return try handle.read(upToCount: 64) ?? Data()
    }

    static func argument(_ text: String?) -> String {
        var bytes = Array((text ?? "").utf8.filter { $0 != 0 })
        if bytes.count > 255 { bytes = Array(bytes.suffix(255)) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The programs the server starts for work it keeps out of its own process (`dossier-inspect`,
/// `dossier-render`): named by a variable, else beside the running executable.
enum HelperExecutable {
    static func locate(_ name: String, variable: String, doing what: String,
                       environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let path = environment[variable], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw ConfigurationError("\(variable) \(path) is not an executable file")
            }
            return URL(fileURLWithPath: path)
        }
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ].map { $0.resolvingSymlinksInPath().appendingPathComponent(name) }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw ConfigurationError("\(name), which \(what), is not beside the dossier executable "
                + "(build it with `swift build --product dossier`, or set \(variable))")
        }
        return found
    }
}
