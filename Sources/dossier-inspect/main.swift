// dossier-inspect: inspects one uploaded file in a process of its own, so that a hostile file
// that exhausts qpdf's or libvips's stack, memory or time ends this process, never the server.
// The server (InspectionSandbox) starts it per file with limits; it answers one JSON line.
//
//   dossier-inspect FILE OUTPUT [NAME] [DECLARED-TYPE]
//
// FILE is the private scratch file to inspect; OUTPUT, where a re-encoded picture is written.
import DossierCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Limits that hold whatever the file: address space, CPU time, stack.
func limit(_ resource: Int32, _ value: rlim_t) {
    var limit = rlimit(rlim_cur: value, rlim_max: value)
    _ = setrlimit(__rlimit_resource_t(UInt32(resource)), &limit)
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: dossier-inspect FILE OUTPUT [NAME] [DECLARED-TYPE]\n".utf8))
    exit(2)
}
let environment = ProcessInfo.processInfo.environment
let megabytes = rlim_t(environment["DOSSIER_INSPECT_MEMORY_MB"].flatMap(Int.init) ?? 1024)
limit(Int32(RLIMIT_AS.rawValue), megabytes * 1024 * 1024)
limit(Int32(RLIMIT_CPU.rawValue), rlim_t(environment["DOSSIER_INSPECT_CPU_SECONDS"].flatMap(Int.init) ?? 30))
limit(Int32(RLIMIT_STACK.rawValue), 16 * 1024 * 1024)
limit(Int32(RLIMIT_CORE.rawValue), 0)
// A re-encoded picture is written to OUTPUT: never more than this.
limit(Int32(RLIMIT_FSIZE.rawValue), 128 * 1024 * 1024)

let input = URL(fileURLWithPath: arguments[1])
let output = URL(fileURLWithPath: arguments[2])
let name = arguments.count > 3 && !arguments[3].isEmpty ? arguments[3] : nil
let declared = arguments.count > 4 && !arguments[4].isEmpty ? arguments[4] : nil

let verdict: InspectionVerdict
switch FileInspector.inspect(fileAt: input, fileName: name, declaredType: declared) {
case let .success(accepted):
    // A picture was re-encoded: its new bytes go to OUTPUT (owner-only). A PDF is kept as sent.
    var rewritten = false
    if accepted.kind != .pdf {
        guard FileManager.default.createFile(atPath: output.path, contents: accepted.bytes, attributes: [.posixPermissions: 0o600]) else {
            exit(3)
        }
        rewritten = true
    }
    verdict = .accepted(kind: accepted.kind, removedMetadata: accepted.removedMetadata, rewritten: rewritten)
case let .failure(refusal):
    verdict = .refused(refusal)
}
FileHandle.standardOutput.write(try JSONEncoder().encode(verdict) + Data("\n".utf8))
exit(0)
