import Foundation
import PDFProbe

/// What Dossier refuses in a PDF, read from the object graph qpdf resolved (PDFProbe): every
/// object of the cross-reference table, names with their `#xx` escapes decoded, object streams
/// opened, every stream decoded within a budget. This is the first line; `PDFScan`, the byte
/// scan, stays as the second (it also sees what a repairing reader would find beside the table).
enum PDFPolicy {
    /// Budgets: a rental document is a few pages of text or scans.
    static let maximumObjects = 50_000
    static let maximumPages = 1_000
    /// Decoded bytes for the whole file, image codecs left encoded (a compression bomb stops here).
    static let maximumDecodedBytes: UInt64 = 512 * 1024 * 1024

    /// Opens the PDF at `url` with qpdf and applies the rules.
    static func check(fileAt url: URL) -> Result<Void, FileInspector.Refusal> {
        var probe = dossier_pdf_probe()
        let limits = dossier_pdf_limits(max_objects: maximumObjects, max_pages: maximumPages, max_decoded_bytes: maximumDecodedBytes)
        url.withUnsafeFileSystemRepresentation { path in
            dossier_pdf_probe_file(path, limits, &probe)
        }
        defer { dossier_pdf_probe_release(&probe) }
        let message = withUnsafeBytes(of: probe.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        switch probe.status {
        case DOSSIER_PDF_OK:
            break
        case DOSSIER_PDF_ENCRYPTED:
            return .failure(.encryptedPDF)
        case DOSSIER_PDF_TOO_COMPLEX:
            return .failure(.tooComplex(message))
        case DOSSIER_PDF_UNDECODABLE:
            return .failure(.damaged(message))
        default:
            return .failure(.damaged(message.isEmpty ? "qpdf cannot read it without repairing it" : message))
        }
        guard let json = probe.json,
              let graph = try? JSONSerialization.jsonObject(with: Data(bytesNoCopy: json, count: probe.json_length, deallocator: .none)) as? [String: Any],
              let objects = graph["objects"] as? [String: Any]
        else {
            return .failure(.damaged("qpdf's description of it cannot be read"))
        }
        let found = findings(trailer: graph["trailer"], objects: objects)
        return found.isEmpty ? .success(()) : .failure(.activeContent(found.sorted()))
    }

    /// Every dangerous name, as a key or a value, anywhere; and an `/OpenAction` that does more
    /// than show a page.
    static func findings(trailer: Any?, objects: [String: Any]) -> Set<String> {
        var found: Set<String> = []
        var stack: [Any] = Array(objects.values)
        if let trailer { stack.append(trailer) }
        while let value = stack.popLast() {
            switch value {
            case let dictionary as [String: Any]:
                for (key, item) in dictionary {
                    if let what = dangerous(key) { found.insert(what) }
                    if key == "/OpenAction", !opensAPage(item, objects: objects) { found.insert(PDFScan.automaticAction) }
                    stack.append(item)
                }
            case let array as [Any]:
                stack.append(contentsOf: array)
            case let text as String:
                if let what = dangerous(text) { found.insert(what) }
            default:
                break
            }
        }
        return found
    }

    /// A name (JSON v2 writes names as `/Name`, strings as `u:` or `b:`) PDFScan's list refuses.
    private static func dangerous(_ token: String) -> String? {
        guard token.hasPrefix("/") else { return nil }
        return PDFScan.dangerous[String(token.dropFirst())]
    }

    /// A destination (an array), or a `/GoTo` action to one that goes nowhere else.
    private static func opensAPage(_ value: Any, objects: [String: Any]) -> Bool {
        var value = value
        if let reference = value as? String, reference.hasSuffix(" R") {
            guard let target = objects[String(reference.dropLast(2))] else { return false }
            value = target
        }
        if value is [Any] { return true }
        guard let action = value as? [String: Any] else { return false }
        return action["/S"] as? String == "/GoTo" && action["/D"] != nil
            && Set(action.keys).isSubset(of: ["/S", "/D", "/Type"])
    }
}
