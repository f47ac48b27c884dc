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

    /// Blocks until the verdict: call it off the event loops (the inspection pool).
    func inspect(_ bytes: Data, fileName: String?, declaredType: String?) throws -> Result<FileInspector.Accepted, FileInspector.Refusal> {
        guard !bytes.isEmpty else { return .failure(.empty) }
        guard bytes.count <= FileInspector.maximumSize else { return .failure(.tooLarge) }
        let base = scratch.appendingPathComponent("inspect-\(UUID().uuidString.lowercased())")
        let input = base.appendingPathExtension("in")
        let output = base.appendingPathExtension("out")
        defer {
            unlink(input.path)
            unlink(output.path)
        }
        try PrivateFile.createExclusively(bytes, at: input)

        let process = Process()
        process.executableURL = executable
        // The name and type are data, never options: they come after the two paths, always.
        process.arguments = [input.path, output.path, fileName ?? "", declaredType ?? ""]
        process.environment = [:]
        let answer = Pipe()
        process.standardOutput = answer
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let timer = DispatchSource.makeTimerSource()
        timer.schedule(deadline: .now() + deadline)
        timer.setEventHandler { kill(pid, SIGKILL) }
        timer.resume()
        let said = answer.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()

        guard process.terminationReason == .exit, process.terminationStatus == 0,
              let verdict = try? JSONDecoder().decode(InspectionVerdict.self, from: said) else {
            // Killed by the deadline or a limit (a stack overflow, an allocation refused): the
            // file asks more than a document may.
            return .failure(.overLimits)
        }
        switch verdict {
        case let .refused(refusal):
            return .failure(refusal)
        case let .accepted(kind, removed, rewritten):
            let kept = rewritten ? try Data(contentsOf: output) : bytes
            return .success(FileInspector.Accepted(kind: kind, bytes: kept, removedMetadata: removed))
        }
    }
}
