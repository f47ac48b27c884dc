/// The GDPR Art. 30 record of processing activities, one row per purpose, with the fields of
/// the CNIL's template.
public enum ProcessingRecord {
    /// The columns, in the record's language.
    public static func header(_ language: Language) -> [String] {
        let fr = language == .fr
        return [
            fr ? "Identifiant" : "Identifier",
            fr ? "Nom du traitement" : "Processing activity",
            fr ? "Finalité(s)" : "Purpose(s)",
            fr ? "Base légale" : "Legal basis",
            fr ? "Responsable du traitement" : "Controller",
            fr ? "Délégué à la protection des données" : "Data protection officer",
            fr ? "Catégories de personnes concernées" : "Categories of data subjects",
            fr ? "Catégories de données" : "Categories of personal data",
            fr ? "Données sensibles (art. 9 et 10)" : "Sensitive data (Art. 9 and 10)",
            fr ? "Source des données" : "Source of the data",
            fr ? "Durées de conservation" : "Retention periods",
            fr ? "Catégories de destinataires" : "Categories of recipients",
            fr ? "Sous-traitants" : "Processors",
            fr ? "Transferts hors UE" : "Transfers outside the EU",
            fr ? "Garanties des transferts" : "Transfer safeguards",
            fr ? "Mesures de sécurité" : "Security measures",
            fr ? "Version du registre" : "Register version",
            fr ? "Date de mise à jour" : "Last update",
        ]
    }

    public static func rows(_ register: Register, language: Language) -> [[String]] {
        let words = Wording(language)
        let document = PolicyDocument(register: register, language: language)
        let controller = "\(register.controller.name), \(register.controller.address), \(register.controller.email)"
        let dpo = [register.dpo.name, register.dpo.email, register.dpo.address].compactMap { $0 }.joined(separator: ", ")
        let security = register.security.map { $0[language] }.joined(separator: "; ")
        return zip(register.purposes, document.purposes).map { purpose, entry in
            let sensitive = purpose.categories.compactMap { register.category($0) }.filter { $0.sensitive == true }
            let transfers = register.transfers(for: purpose)
            let processors = purpose.processors.compactMap { register.processor($0) }
            return [
                purpose.id,
                entry.name,
                [entry.name, entry.description].compactMap { $0 }.joined(separator: " — "),
                (entry.bases + [entry.withdrawal.map { "\(document.labels["withdrawal"] ?? "")\(document.labels["colon"] ?? ": ")\($0)" }].compactMap { $0 })
                    .joined(separator: "; "),
                controller,
                dpo,
                words.list(purpose.subjects.compactMap { register.dataSubject($0)?.name[language] }),
                entry.categories,
                sensitive.isEmpty ? (language == .fr ? "aucune" : "none") : words.list(sensitive.map { $0.name[language] }),
                entry.source ?? (language == .fr ? "la personne concernée" : "the data subject"),
                entry.retention.joined(separator: " "),
                entry.recipients,
                processors.map { "\($0.name) (\($0.role[language]), \(words.country($0.country)))" }.joined(separator: "; "),
                transfers.isEmpty ? (language == .fr ? "aucun" : "none") : transfers.map { words.country($0.country) }.joined(separator: "; "),
                transfers.compactMap { $0.safeguard.map(words.safeguard) }.joined(separator: "; "),
                security,
                register.version,
                register.effectiveDate,
            ]
        }
    }

    /// RFC 4180 CSV with a header row, CRLF line ends.
    public static func csv(_ register: Register, language: Language) -> String {
        ([header(language)] + rows(register, language: language))
            .map { $0.map(CSV.field).joined(separator: ",") }
            .joined(separator: "\r\n") + "\r\n"
    }
}

/// Comma-separated values as RFC 4180 writes them.
public enum CSV {
    public static func field(_ value: String) -> String {
        guard value.contains(where: { ",\"\r\n".contains($0) }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
