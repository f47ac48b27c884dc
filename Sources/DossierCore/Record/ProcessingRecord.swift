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
            fr ? "Rôles des responsables" : "Controller roles",
            fr ? "Données hautement personnelles et mesures" : "Highly personal data and measures",
            fr ? "Analyse d'impact (AIPD)" : "Impact assessment (DPIA)",
            fr ? "Origine des durées" : "Origin of the periods",
            fr ? "Version du registre" : "Register version",
            fr ? "Date de création" : "Created",
            fr ? "Date de mise à jour" : "Last update",
        ]
    }

    /// The record of `register` on a build that provides `capabilities` (the measures it lists
    /// are those the build keeps).
    public static func rows(_ register: Register, language: Language, capabilities: Set<Capability>) -> [[String]] {
        let words = Wording(language)
        let fr = language == .fr
        let none = fr ? "aucun" : "none"
        let document = PolicyDocument(register: register, language: language, capabilities: capabilities)
        let controller = "\(register.controller.name), \(register.controller.address), \(register.controller.email)"
        let dpo = [register.dpo.name, register.dpo.email, register.dpo.address].compactMap { $0 }.joined(separator: ", ")
        let created = register.record?.created ?? register.effectiveDate
        let updated = register.record?.updated ?? register.effectiveDate
        let measures = register.security.filter { $0.isShown(with: capabilities) }
        return zip(register.purposes.filter { $0.isCarriedOut(with: capabilities) }, document.purposes).map { purpose, entry in
            let categories = purpose.categories.compactMap { register.category($0) }
            let sensitive = categories.filter { $0.sensitive == true }
            let flagged = categories.filter { !$0.flags.isEmpty }
            let transfers = register.transfers(for: purpose)
            let processors = purpose.processors.compactMap { register.processor($0) }
            let security = measures.filter { $0.covers(purpose) }.map { $0.text[language] }.joined(separator: "; ")
            let roles = purpose.recipients.compactMap { register.recipient($0) }
                .filter { $0.role != nil && $0.role != .internal }
                .map { "\(words.capitalised($0.name[language])): \(words.role($0.role!))" }
            let origins = purpose.retention.map { rule -> String in
                let origin = rule.origin.map { words.origin($0) } ?? (fr ? "origine non indiquée" : "origin not stated")
                let what = rule.categories.isEmpty ? "" : words.list(rule.categories.compactMap { register.category($0)?.name[language] }) + ": "
                return "\(what)\(words.period(rule.keep)) — \(origin)\(rule.reference.map { " (\($0))" } ?? "")"
            }
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
                processors.isEmpty ? none : processors.map { "\($0.name) (\($0.role[language]), \(words.country($0.country)))" }.joined(separator: "; "),
                transfers.isEmpty ? none : transfers.map { words.country($0.country) }.joined(separator: "; "),
                transfers.isEmpty ? (fr ? "sans objet (aucun transfert)" : "not applicable (no transfer)")
                    : transfers.compactMap { $0.safeguard.map(words.safeguard) }.joined(separator: "; "),
                security.isEmpty ? none : security,
                ([fr ? "Responsable du traitement : \(register.controller.name)" : "Controller: \(register.controller.name)"] + roles).joined(separator: "; "),
                flagged.isEmpty ? none : flagged.map { category in
                    let flags = words.list(category.flags.map { words.flag($0) })
                    let measures = category.flagMeasures.map { " — \($0[language])" } ?? ""
                    return "\(words.capitalised(category.name[language])) (\(flags))\(measures)"
                }.joined(separator: "; "),
                purpose.dpia?[language] ?? (fr ? "aucune analyse d'impact enregistrée" : "no impact assessment recorded"),
                origins.joined(separator: "; "),
                register.version,
                created,
                updated,
            ]
        }
    }

    /// RFC 4180 CSV with a header row, CRLF line ends.
    public static func csv(_ register: Register, language: Language, capabilities: Set<Capability>) -> String {
        ([header(language)] + rows(register, language: language, capabilities: capabilities))
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

    /// A table with a header line, CRLF line ends (RFC 4180). A cell that a spreadsheet would
    /// take for a formula (=, +, -, @, a tab or a carriage return first: text someone else may
    /// have chosen, such as the browser name of a failed sign-in) is prefixed with a quote mark.
    public static func table(_ header: [String], _ rows: [[String]]) -> String {
        let lines = ([header] + rows).map { row in
            row.map { cell in field(cell.first.map { "=+-@\t\r".contains($0) } == true ? "'" + cell : cell) }.joined(separator: ",")
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
