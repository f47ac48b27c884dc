import ArgumentParser
import DossierCore
import DossierServer
import Foundation

/// `dossier register …`: check and render the processing register.
struct RegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Check and render the processing register.",
        subcommands: [Check.self, Render.self]
    )

    /// `dossier register check [PATH]`
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a register; exit 1 with a precise message for each problem."
        )

        @Argument(help: "The register to check (default: $DOSSIER_REGISTER, else the shipped register).")
        var path: String?

        func run() async throws {
            let url = (path ?? DossierConfiguration.fromEnvironment().registerPath).map { URL(fileURLWithPath: $0) }
            try await reportingFailures {
                let loaded = try RegisterLoader.load(from: url)
                let register = loaded.register
                let capabilities = try await BuildCapabilities.ofThisBuild()
                let unkept = RegisterValidator.capabilityProblems(in: register, provided: capabilities)
                if !unkept.isEmpty {
                    throw InvalidRegister(problems: unkept.map { RegisterProblem(file: url?.path ?? "register", path: $0.path, message: $0.message) })
                }
                print("\(url?.path ?? "shipped register"): valid, version \(register.version) effective \(register.effectiveDate): "
                    + "\(register.purposes.count) purposes, \(register.categories.count) data categories, "
                    + "\(register.recipients.count) recipients, \(register.processors.count) processors, \(register.transfers.count) transfers.")
                // What this build offers for each right; the others point to the DPO.
                let fallback = register.rights.filter { right in !right.exercise.contains { $0.isOpen(with: capabilities) } }
                if !fallback.isEmpty {
                    print("On this build, no page yet for: " + fallback.map(\.id).joined(separator: ", ")
                        + "; the policy tells people to write to the DPO (\(register.dpo.email)) for these.")
                }
            }
        }
    }

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case html, markdown, csv, jsonld, json
    }

    /// `dossier register render --format html|markdown|csv|jsonld|json [--lang fr|en]`
    struct Render: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the privacy policy (html, markdown) or the Art. 30 record (csv, jsonld), or the register (json)."
        )

        @Option(help: "html, markdown, csv, jsonld or json.")
        var format: Format

        @Option(help: "fr or en.")
        var lang: Language = .fr

        @Option(help: "The register file (default: $DOSSIER_REGISTER, else the shipped register).")
        var register: String?

        func run() async throws {
            let path = register ?? DossierConfiguration.fromEnvironment().registerPath
            try await reportingFailures {
                let loaded = try RegisterLoader.load(from: path.map { URL(fileURLWithPath: $0) })
                let capabilities = try await BuildCapabilities.ofThisBuild()
                let output: String = switch format {
                case .html: try await PolicyPage.html(PolicyDocument(register: loaded.register, language: lang, capabilities: capabilities))
                case .markdown: MarkdownPolicy.render(PolicyDocument(register: loaded.register, language: lang, capabilities: capabilities))
                case .csv: ProcessingRecord.csv(loaded.register, language: lang, capabilities: capabilities)
                case .jsonld: String(decoding: DPVRecord.document(loaded.register, language: lang, capabilities: capabilities).encoded(), as: UTF8.self) + "\n"
                case .json: String(decoding: try RegisterJSON.encode(loaded.register), as: UTF8.self) + "\n"
                }
                FileHandle.standardOutput.write(Data(output.utf8))
            }
        }
    }
}

extension Language: ExpressibleByArgument {}
