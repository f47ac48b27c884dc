import Foundation

/// One message to hand over: envelope and the RFC 5322 text.
struct MailDelivery: Sendable {
    var id: UUID
    var sender: String
    var recipient: String
    var message: String
}

/// Hands messages over to whatever delivers them.
protocol MailTransport: Sendable {
    func deliver(_ delivery: MailDelivery) async throws
}

/// Without an SMTP server, each message becomes an `.eml` file in the outbox directory, so a
/// newcomer sees what would be sent. Written atomically, readable by the owner only.
struct FileMailTransport: MailTransport {
    let directory: URL

    func deliver(_ delivery: MailDelivery) async throws {
        let files = FileManager.default
        try files.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        // Sortable by name in the order written, to the millisecond.
        let stamp = formatter.string(from: Date()).replacingOccurrences(of: ":", with: "")
        let url = directory.appendingPathComponent("\(stamp)-\(delivery.id.uuidString.lowercased()).eml")
        try PrivateFile.writeAtomically(Data(delivery.message.utf8), to: url)
    }

    /// Removes the messages written before `date` (by the file's modification time).
    func removeFiles(olderThan date: Date) -> Int {
        let files = FileManager.default
        guard let names = try? files.contentsOfDirectory(atPath: directory.path) else { return 0 }
        var removed = 0
        for name in names where name.hasSuffix(".eml") {
            let url = directory.appendingPathComponent(name)
            guard let modified = (try? files.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date, modified < date else { continue }
            if (try? files.removeItem(at: url)) != nil { removed += 1 }
        }
        return removed
    }
}
