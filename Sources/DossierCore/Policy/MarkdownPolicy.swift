/// The policy as Markdown, from the same ``PolicyDocument`` as the HTML page.
public enum MarkdownPolicy {
    public static func render(_ document: PolicyDocument) -> String {
        let label = { (key: String) in document.labels[key] ?? key }
        let c = document.controller
        var out: [String] = []
        out.append("# \(label("title"))")
        out.append("\(label("version")) \(document.version) — \(label("effective")) \(document.effectiveDate)")
        out.append("## \(label("controller"))")
        out.append("\(c.name), \(c.legalForm), \(label("registration")) \(c.registration), \(c.address). \(c.email)")
        out.append("## \(label("principles"))")
        out.append(document.principles.map { "- \($0)" }.joined(separator: "\n"))
        out.append("## \(label("data"))")
        out.append(document.categories.map { category in
            var line = "- **\(category.name)**"
            if let description = category.description { line += ": \(description)" }
            if let mandatory = category.mandatory { line += " — \(mandatory)" }
            return line
        }.joined(separator: "\n"))
        out.append(label("mandatoryNote"))
        out.append("## \(label("purposes"))")
        out.append("| \(label("purpose")) | \(label("basis")) | \(label("retention")) |\n| --- | --- | --- |")
        out[out.count - 1] += "\n" + document.purposes.map { purpose in
            var name = purpose.name
            if let description = purpose.description { name += " (\(description))" }
            if let source = purpose.source { name += " — \(label("source")): \(source)" }
            name += " — \(label("categories")): \(purpose.categories)"
            var bases = purpose.bases.joined(separator: "<br>")
            if let withdrawal = purpose.withdrawal { bases += "<br>\(label("withdrawal")): \(withdrawal)" }
            return "| \(cell(name)) | \(cell(bases)) | \(cell(purpose.retention.joined(separator: "<br>"))) |"
        }.joined(separator: "\n")
        if !document.notices.indirectCollection.isEmpty {
            out.append("### \(label("indirect"))")
            out.append(document.notices.indirectCollection.map { "- **\($0.subjects)**: \($0.source) \($0.notice)" }.joined(separator: "\n"))
        }
        if let text = document.notices.automatedDecisions {
            out.append("### \(label("automatedDecisions"))")
            out.append(text)
        }
        if let text = document.notices.minors {
            out.append("### \(label("minors"))")
            out.append(text)
        }
        out.append("## \(label("recipients"))")
        out.append(bullets(document.recipients))
        out.append("### \(label("processors"))")
        out.append(bullets(document.processors))
        out.append("## \(label("transfers"))")
        out.append("\(label("hosting")): \(document.hosting)")
        out.append(document.transfers.isEmpty ? label("noTransfers") : bullets(document.transfers))
        out.append("## \(label("security"))")
        out.append(document.security.map { "- \($0)" }.joined(separator: "\n"))
        out.append("## \(label("rights"))")
        out.append(document.rights.map { "- **\($0.name)** (\($0.article)): \($0.description). \(label("exercise")): \($0.exercise)." }.joined(separator: "\n"))
        out.append("\(label("writeTo")) \(c.dpoEmail)\(c.dpoAddress.map { ", \($0)" } ?? ""). \(document.identityCheck) \(document.answerDeadline)")
        if let text = document.notices.directMarketingObjection {
            out.append("### \(label("directMarketing"))")
            out.append("**\(text)**")
        }
        out.append("\(label("authority")): \(c.authorityName), \(c.authorityAddress), \(c.authorityWebsite)")
        out.append("## \(label("cookies"))")
        out.append("| \(label("cookie")) | \(label("lifetime")) | \(label("consent")) |\n| --- | --- | --- |\n"
            + document.cookies.map { "| `\($0.name)`: \(cell($0.description)) | \($0.lifetime) | \($0.consent) |" }.joined(separator: "\n"))
        if let control = document.cookieControl { out.append(control) }
        out.append("## \(label("changes"))")
        out.append("\(document.changes) \(document.changesNotice)")
        return out.joined(separator: "\n\n") + "\n"
    }

    private static func bullets(_ entries: [PolicyDocument.NamedEntry]) -> String {
        entries.map { entry in entry.detail.map { "- \(entry.name): \($0)" } ?? "- \(entry.name)" }.joined(separator: "\n")
    }

    private static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
