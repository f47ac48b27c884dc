import DossierCore
import DossierTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The `dossier` binary as an operator runs it: real processes, real files, a real port on loopback.
@Suite("dossier command line")
struct CLITests {
    @Test func checkAcceptsTheShippedRegister() throws {
        let run = try DossierProcess.run(["register", "check"])
        #expect(run.status == 0)
        #expect(run.output.contains("valid, version 1.3.0"))
    }

    @Test func checkReportsEachProblemWithItsLine() throws {
        let yaml = try Fixtures.shippedRegisterYAML()
            .replacingOccurrences(of: "keep: 12 months", with: "keep: twelve months")
            .replacingOccurrences(of: "    safeguard: standard-contractual-clauses\n", with: "")
        let file = try temporaryFile(yaml)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let run = try DossierProcess.run(["register", "check", file.path])
        #expect(run.status == 1)
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        let durationLine = try #require(lines.firstIndex { $0.contains("keep: twelve months") }) + 1
        #expect(run.errors.contains("\(file.path):\(durationLine):"))
        #expect(run.errors.contains("unparseable duration 'twelve months'"))
        #expect(run.errors.contains("transfer 'visualisation-us' to US has no safeguard"))
        #expect(run.errors.contains("Invalid register (3 problems)"))
    }

    @Test func checkRefusesAMissingFile() throws {
        let run = try DossierProcess.run(["register", "check", "/nonexistent/register.yaml"])
        #expect(run.status == 1)
        #expect(run.errors.contains("cannot read the file"))
    }

    @Test(arguments: [("csv", "Identifier,Processing activity"), ("markdown", "# Privacy policy"), ("html", "<h1>Privacy policy</h1>"), ("jsonld", "\"dpv:ROPA\""), ("json", "\"purposes\"")])
    func renderPrintsEachFormat(format: String, expected: String) throws {
        let run = try DossierProcess.run(["register", "render", "--format", format, "--lang", "en"])
        #expect(run.status == 0)
        #expect(run.output.contains(expected))
    }

    @Test(arguments: Language.allCases)
    func theRenderedRecordFillsEveryColumnForEveryActivity(language: Language) throws {
        let run = try DossierProcess.run(["register", "render", "--format", "csv", "--lang", language.rawValue])
        #expect(run.status == 0)
        let rows = CSVReader.rows(run.output)
        #expect(rows.first == ProcessingRecord.header(language))
        #expect(rows.count > 10)
        for row in rows.dropFirst() {
            #expect(row.count == ProcessingRecord.header(language).count)
            #expect(zip(ProcessingRecord.header(language), row).filter { $0.1.trimmingCharacters(in: .whitespaces).isEmpty }.map(\.0) == [], "\(row[0])")
        }
    }

    @Test func checkSaysWhichRightsPointToTheDPOOnThisBuild() throws {
        let run = try DossierProcess.run(["register", "check"])
        // Every right of the shipped register has its way on this build.
        #expect(!run.output.contains("no page yet for"))
        // A right whose only way this build lacks points to the DPO.
        let lacking = try Fixtures.shippedRegisterYAML().replacingOccurrences(
            of: "{capability: account-deletion, page: /account,", with: "{capability: audience-measurement, page: /account,")
            .replacingOccurrences(of: "{capability: rights-requests, page: /account,", with: "{capability: audience-measurement, page: /account,")
        let lackingFile = try temporaryFile(lacking)
        defer { try? FileManager.default.removeItem(at: lackingFile.deletingLastPathComponent()) }
        let fallback = try DossierProcess.run(["register", "check", lackingFile.path])
        #expect(fallback.output.contains("On this build, no page yet for: erasure;"), "\(fallback.output) \(fallback.errors)")
        // A measure this build cannot keep is an error.
        let yaml = try Fixtures.shippedRegisterYAML().replacingOccurrences(
            of: "    capability: watermarks\n    appliesTo: share-links\n", with: "    capability: cookie-consent\n")
        let file = try temporaryFile(yaml)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let broken = try DossierProcess.run(["register", "check", file.path])
        #expect(broken.status == 1)
        #expect(broken.errors.contains("the measure promises 'cookie-consent', which this build does not provide"))
    }

    @Test func renderRefusesAnUnknownFormat() throws {
        let run = try DossierProcess.run(["register", "render", "--format", "pdf"])
        #expect(run.status != 0)
        #expect(run.errors.contains("The value 'pdf' is invalid for '--format <format>'"))
    }

    @Test func migrateCreatesAPrivateDataDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try DossierProcess.run(["migrate"], environment: ["DOSSIER_DATA_DIR": directory.path, "DATABASE_URL": ""])
        #expect(run.status == 0, "\(run.errors)")
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("dossier.sqlite").path))
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
    }

    @Test func retentionPlansRunsAndRefusesWhatItCannotRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = ["DOSSIER_DATA_DIR": directory.path, "DATABASE_URL": ""]
        let plan = try DossierProcess.run(["retention", "plan", "--at", "2030-01-01"], environment: environment)
        #expect(plan.status == 0, "\(plan.errors)")
        #expect(plan.output.contains("connection-log [account / connection-data: 6 months from collection, then delete] delete: 0 due"))
        let json = try DossierProcess.run(["retention", "plan", "--json"], environment: environment)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let report = try decoder.decode(RetentionReport.self, from: Data(json.output.utf8))
        #expect(report.dryRun && report.lines.contains { $0.task == "inactive-accounts" && $0.action == "remind" })
        let run = try DossierProcess.run(["retention", "run", "--at", "2030-01-01T00:00:00Z"], environment: environment)
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.hasPrefix("Sweep at 2030-01-01T00:00:00Z"))
        for bad in ["yesterday", "2030-13-01", "2030-01-01T25:00:00Z", ""] {
            let refused = try DossierProcess.run(["retention", "run", "--at", bad], environment: environment)
            #expect(refused.status != 0 && refused.errors.contains("is not an ISO 8601 instant"), "\(bad): \(refused.errors)")
        }
        // Years outside those the data can have are refused, not searched (a date's double is coarse there).
        for far in ["0001-01-01", "1969-12-31T23:59:59Z", "10000-01-01"] {
            let refused = try DossierProcess.run(["retention", "plan", "--at", far], environment: environment)
            #expect(refused.status != 0 && refused.errors.contains("--at"), "\(far): \(refused.errors)")
        }
        // A production instance does not sweep ahead of time (it would delete before the day).
        let production = try DossierProcess.run(["retention", "run", "--at", "2030-01-01"],
                                                environment: environment.merging(["DOSSIER_ENV": "production"]) { $1 })
        #expect(production.status == 1 && production.errors.contains("refusing to sweep --at a future instant"), "\(production.errors)")
    }

    @Test func userCreateReadsThePasswordFromStandardInput() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = ["DOSSIER_DATA_DIR": directory.path, "DATABASE_URL": ""]
        let refused = try DossierProcess.run(["user", "create", "--email", "admin@example.org", "--role", "admin"], environment: environment)
        #expect(refused.status != 0)
        #expect(refused.errors.contains("--password-stdin"))

        let weak = try DossierProcess.run(["user", "create", "--email", "admin@example.org", "--role", "admin", "--password-stdin", "--language", "en"],
                                          environment: environment, input: "short\n")
        #expect(weak.status == 1)
        #expect(weak.errors.contains("password: At least 12 characters."))

        let created = try DossierProcess.run(["user", "create", "--email", "admin@example.org", "--role", "admin", "--password-stdin", "--language", "en"],
                                             environment: environment, input: "a long secure passphrase\n")
        #expect(created.status == 0, "\(created.errors)")
        #expect(created.output.contains("Created admin account admin@example.org"))
        #expect(!created.output.contains("passphrase") && !created.errors.contains("passphrase"))
        // One-shot commands keep quiet unless asked: no migration chatter.
        #expect(!created.errors.contains("Migrator"))

        let again = try DossierProcess.run(["user", "create", "--email", "ADMIN@example.org", "--role", "dpo", "--password-stdin", "--language", "en"],
                                           environment: environment, input: "another long passphrase\n")
        #expect(again.status == 1)
        #expect(again.errors.contains("already exists"))

        let badRole = try DossierProcess.run(["user", "create", "--email", "x@example.org", "--role", "tenant", "--password-stdin"], environment: environment)
        #expect(badRole.status != 0)
        #expect(badRole.errors.contains("--role"))
    }

    @Test func organisationMembersBelongToAnExistingOrganisation() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = ["DOSSIER_DATA_DIR": directory.path, "DATABASE_URL": ""]
        let organisation = try DossierProcess.run(["organisation", "create", "--name", "Agence du Centre", "--kind", "agency"], environment: environment)
        #expect(organisation.status == 0, "\(organisation.errors)")
        let id = try #require(organisation.output.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(UUID(uuidString: id) != nil)

        let member = try DossierProcess.run(["user", "create", "--email", "agent@example.org", "--role", "member", "--organisation", id, "--password-stdin"],
                                            environment: environment, input: "a long member passphrase\n")
        #expect(member.status == 0, "\(member.errors)")
        let unknown = try DossierProcess.run(["user", "create", "--email", "other@example.org", "--role", "member",
                                              "--organisation", UUID().uuidString, "--password-stdin"],
                                             environment: environment, input: "a long member passphrase\n")
        #expect(unknown.status == 1)
        #expect(unknown.errors.contains("No organisation"))
        let orphan = try DossierProcess.run(["user", "create", "--email", "x@example.org", "--role", "member", "--password-stdin"], environment: environment)
        #expect(orphan.status != 0)
        #expect(orphan.errors.contains("--organisation goes with --role member"))
        let badKind = try DossierProcess.run(["organisation", "create", "--name", "X", "--kind", "bank"], environment: environment)
        #expect(badKind.status != 0)

        // Its address, and its first administrator's invitation: each mailed (to the outbox).
        let address = try DossierProcess.run(["organisation", "set-email", id, "--email", "contact@centre.example", "--language", "en"],
                                             environment: environment)
        #expect(address.status == 0, "\(address.errors)")
        let invite = try DossierProcess.run(["organisation", "invite", id, "--email", "boss@centre.example", "--admin"], environment: environment)
        #expect(invite.status == 0, "\(invite.errors)")
        #expect(invite.output.contains("Invitation sent to boss@centre.example"))
        let nowhere = try DossierProcess.run(["organisation", "invite", UUID().uuidString, "--email", "boss@centre.example"], environment: environment)
        #expect(nowhere.status == 1)
        #expect(nowhere.errors.contains("No organisation"))
        let badAddress = try DossierProcess.run(["organisation", "set-email", id, "--email", "not an address"], environment: environment)
        #expect(badAddress.status != 0)
        #expect(badAddress.errors.contains("not a valid email address"))
        let lonelyAdmin = try DossierProcess.run(["user", "create", "--email", "y@example.org", "--role", "operator", "--organisation-admin",
                                                  "--password-stdin"], environment: environment)
        #expect(lonelyAdmin.status != 0)
    }

    @Test func auditVerifyPassesThenCatchesATamperedRow() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = ["DOSSIER_DATA_DIR": directory.path, "DATABASE_URL": ""]
        for email in ["a@example.org", "b@example.org"] {
            let created = try DossierProcess.run(["user", "create", "--email", email, "--role", "operator", "--password-stdin"],
                                                 environment: environment, input: "a long operator passphrase\n")
            #expect(created.status == 0, "\(created.errors)")
        }
        let intact = try DossierProcess.run(["audit", "verify"], environment: environment)
        #expect(intact.status == 0, "\(intact.errors)")
        #expect(intact.output.contains("Audit trail intact: 2 entries"))
        let consistent = try DossierProcess.run(["verify"], environment: environment)
        #expect(consistent.status == 0, "\(consistent.errors)")
        #expect(consistent.output.contains("Database, blobs and keys agree."))

        try await Tamper.auditEntry(sequence: 1, inSQLiteAt: directory.appendingPathComponent("dossier.sqlite").path)
        let broken = try DossierProcess.run(["audit", "verify"], environment: environment)
        #expect(broken.status == 1)
        #expect(broken.errors.contains("Audit trail broken at entry 1: its content does not match its hash: it was altered."))
        let inconsistent = try DossierProcess.run(["verify"], environment: environment)
        #expect(inconsistent.status == 1)
        #expect(inconsistent.errors.contains("inconsistent: audit trail broken at entry 1"))
    }

    @Test func keysRotateReplacesTheKeyFileAndEverythingStillOpens() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = ["DOSSIER_DATA_DIR": directory.path, "DATABASE_URL": ""]
        let created = try DossierProcess.run(["user", "create", "--email", "a@example.org", "--role", "operator", "--password-stdin"],
                                             environment: environment, input: "a long operator passphrase\n")
        #expect(created.status == 0, "\(created.errors)")
        let keyFile = directory.appendingPathComponent("master.key")
        let before = try String(contentsOf: keyFile, encoding: .utf8)
        let rotated = try DossierProcess.run(["keys", "rotate"], environment: environment)
        #expect(rotated.status == 0, "\(rotated.errors)")
        #expect(rotated.output.contains("Re-wrapped 1 keys"))
        #expect(try String(contentsOf: keyFile, encoding: .utf8) != before)
        #expect(!FileManager.default.fileExists(atPath: keyFile.path + ".next"))
        // The audit chain's key was re-wrapped, not re-derived: the chain still verifies.
        let intact = try DossierProcess.run(["audit", "verify"], environment: environment)
        #expect(intact.status == 0, "\(intact.errors)")
        let consistent = try DossierProcess.run(["verify"], environment: environment)
        #expect(consistent.status == 0, "\(consistent.errors)")
        // With the key in the environment, the new one is written where asked.
        let fromEnvironment = try DossierProcess.run(["keys", "rotate"], environment: environment.merging(["DOSSIER_MASTER_KEY": before]) { $1 })
        #expect(fromEnvironment.status == 1)
    }

    @Test func serveRefusesAnInvalidRegister() throws {
        let file = try temporaryFile("version: 1\n")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let run = try DossierProcess.run(["serve", "--port", "1"], environment: ["DOSSIER_REGISTER": file.path])
        #expect(run.status == 1)
        #expect(run.errors.contains("missing required key"))
    }

    /// Variables a run of the tests may carry that would change what `config check` sees.
    static let unsetConfiguration = Dictionary(uniqueKeysWithValues: [
        "DATABASE_URL", "DOSSIER_KEYS_URL", "DOSSIER_BLOBS_URL", "SMTP_URL", "DOSSIER_MASTER_KEY", "DOSSIER_MASTER_KEY_FILE",
        "DOSSIER_ENV", "DOSSIER_BASE_URL", "DOSSIER_TRUSTED_PROXIES", "DOSSIER_LOG_FORMAT", "LOG_LEVEL", "DOSSIER_REGISTER",
        "DOSSIER_RETENTION_INTERVAL", "DOSSIER_ALLOW_KEY_IN_DATA_DIR", "SMTP_CA_FILE", "DOSSIER_MAIL_FROM", "DOSSIER_AUDIT_ANCHOR",
        "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    ].map { ($0, "") })

    @Test func configCheckPrintsEverySettingWithSecretsMaskedAndChangesNothing() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-config-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let secrets = ["db-secret-1", "keys-secret-2", "smtp-secret-3", key]
        let environment = Self.unsetConfiguration.merging([
            "DOSSIER_DATA_DIR": directory.path,
            "DATABASE_URL": "postgres://dossier:db-secret-1@db.internal:5432/dossier",
            "DOSSIER_KEYS_URL": "postgres://keys:keys-secret-2@keys.internal/keys",
            "SMTP_URL": "smtp://relay:smtp-secret-3@mail.internal:587",
            "DOSSIER_MASTER_KEY": key,
            "DOSSIER_BLOBS_URL": directory.path + "-documents",
            "DOSSIER_LOG_FORMAT": "json",
            "DOSSIER_RETENTION_INTERVAL": "6 hours",
        ]) { $1 }
        let run = try DossierProcess.run(["config", "check"], environment: environment)
        #expect(run.status == 0, "\(run.errors)")
        for secret in secrets {
            #expect(!run.output.contains(secret))
            #expect(!run.errors.contains(secret))
        }
        let lines = run.output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.contains("DATABASE_URL postgres://dossier:********@db.internal:5432/dossier (environment)"))
        #expect(lines.contains("DOSSIER_KEYS_URL postgres://keys:********@keys.internal/keys (environment)"))
        #expect(lines.contains("SMTP_URL smtp://********@mail.internal:587 (environment)"))
        #expect(lines.contains("DOSSIER_MASTER_KEY ******** (environment)"))
        #expect(lines.contains("DOSSIER_BLOBS_URL \(directory.path)-documents (not there yet: made on first start) (environment)"))
        #expect(lines.contains("DOSSIER_RETENTION_INTERVAL every 6 hours (environment)"))
        #expect(lines.contains("DOSSIER_LOG_FORMAT json (environment)"))
        #expect(lines.contains("DOSSIER_REGISTER the shipped register, version 1.3.0 (default)"))
        #expect(lines.contains("DOSSIER_BASE_URL http://127.0.0.1:8080 (default)"))
        #expect(lines.contains { $0.hasPrefix("Instance: development") })
        #expect(lines.last == "Configuration OK.")
        // Opens no database, makes no directory.
        #expect(!FileManager.default.fileExists(atPath: directory.path))

        // A flag is said to be one.
        let flagged = try DossierProcess.run(["config", "check", "--data-dir", directory.path], environment: Self.unsetConfiguration)
        #expect(flagged.status == 0)
        #expect(flagged.output.contains("(not there yet: made on first start)  (flag)"))
    }

    @Test(arguments: [
        (["DOSSIER_ENV": "prod"], "DOSSIER_ENV must be \"production\" or \"development\""),
        (["DOSSIER_LOG_FORMAT": "xml"], "DOSSIER_LOG_FORMAT must be \"text\" or \"json\""),
        (["LOG_LEVEL": "loud"], "LOG_LEVEL must be one of"),
        (["DOSSIER_ALLOW_KEY_IN_DATA_DIR": "maybe"], "DOSSIER_ALLOW_KEY_IN_DATA_DIR must be 1 or 0"),
        (["DATABASE_URL": "postgres://u:pw-secret@/db"], "DATABASE_URL is not a usable URL"),
        (["DATABASE_URL": "postgres://u:pw-secret@db/x?sslmode=sometimes"], "DATABASE_URL is not a usable URL"),
        (["DATABASE_URL": "postgres://u:pw-secret@db/x", "DOSSIER_KEYS_URL": "postgresql://u:pw-secret@db/x"], "names the data database itself"),
        (["SMTP_URL": "smtps://u:pw-secret@mail"], "SMTP_URL must look like smtp://"),
        (["DOSSIER_MASTER_KEY": "c2hvcnQ="], "the master key must be 32 bytes"),
        (["DOSSIER_BASE_URL": "ftp://files"], "DOSSIER_BASE_URL must be an http:// or https:// address"),
        (["DOSSIER_BASE_URL": "https://u:pw-secret@dossier.example.org"], "no credentials"),
        (["DOSSIER_RETENTION_INTERVAL": "often"], "DOSSIER_RETENTION_INTERVAL must be"),
        (["DOSSIER_TRUSTED_PROXIES": "10.0.0.0/40"], "'10.0.0.0/40' has an invalid prefix length"),
        (["DOSSIER_REGISTER": "/nonexistent/register.yaml"], "cannot read the file"),
        (["DOSSIER_BLOBS_URL": "s3://bucket/prefix"], "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        (["DOSSIER_BLOBS_URL": "s3://bucket/prefix", "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "pw-secret", "AWS_ENDPOINT_URL": "ftp://h"],
         "AWS_ENDPOINT_URL must be http(s)://HOST[:PORT]"),
        (["DOSSIER_BLOBS_URL": "s3://Bucket_Name/x"], "is not a bucket name"),
        (["DOSSIER_BLOBS_URL": "ftp://u:pw-secret@files/x"], "DOSSIER_BLOBS_URL must be a directory"),
        (["DOSSIER_INSPECTOR": "/nonexistent/dossier-inspect"], "is not an executable file"),
        (["DATABASE_URL": "postgres://u:/pw-secret@db/x"], "DATABASE_URL: percent-encode"),
        (["SMTP_URL": "smtp://relay:2024/pw-secret@mail.example.org:587"], "SMTP_URL: percent-encode"),
        (["SMTP_URL": "smtp://relay:?pw-secret@mail.example.org"], "SMTP_URL: percent-encode"),
        (["DOSSIER_KEYS_URL": "\"postgres://k:pw-secret@db/k\""], "without quotes"),
        (["DOSSIER_KEYS_URL": "mysql://k:pw-secret@db/k"], "DOSSIER_KEYS_URL must be postgres://"),
        (["DOSSIER_KEYS_URL": "host=db user=dossier password=pw-secret dbname=keys"], "DOSSIER_KEYS_URL must be postgres://"),
        (["DOSSIER_KEYS_URL": "postgres:/k:pw-secret@db/k"], "DOSSIER_KEYS_URL must be postgres://"),
        (["DOSSIER_KEYS_URL": "/nonexistent/folder/keys.sqlite"], "the folder /nonexistent/folder does not exist"),
        (["DOSSIER_BLOBS_URL": "file://u:pw-secret@nas/docs"], "DOSSIER_BLOBS_URL must be a directory"),
        (["DOSSIER_BLOBS_URL": "s3:bucket"], "DOSSIER_BLOBS_URL must be a directory"),
        (["DOSSIER_BLOBS_URL": "$DATA"], "holds the data directory"),
        (["DOSSIER_BLOBS_URL": "$DATA/.."], "holds the data directory"),
        (["DOSSIER_BLOBS_URL": "$DATA/scratch"], "is inside the data directory"),
        (["SMTP_CA_FILE": "/nonexistent/ca.pem"], "SMTP_CA_FILE /nonexistent/ca.pem is not a readable file"),
    ])
    func configCheckAndServeRefuseABadValueAlikeAndSayWhy(variables: [String: String], expected: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-config-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = Self.unsetConfiguration.merging(["DOSSIER_DATA_DIR": directory.path]) { $1 }
            .merging(variables.mapValues { $0.replacingOccurrences(of: "$DATA", with: directory.path) }) { $1 }
        let run = try DossierProcess.run(["config", "check"], environment: environment)
        #expect(run.status == 1)
        #expect(run.errors.contains(expected), "\(run.errors)")
        #expect(run.output.contains("the server would refuse to start"))
        #expect(!run.output.contains("pw-secret") && !run.errors.contains("pw-secret"))
        // The server refuses it too, for the same reason, and quotes no secret either.
        let served = try DossierProcess.run(["serve", "--port", "1"], environment: environment)
        #expect(served.status == 1)
        #expect(served.errors.contains(expected), "\(served.errors)")
        #expect(!served.output.contains("pw-secret") && !served.errors.contains("pw-secret"))
    }

    @Test func configCheckHoldsAPublicAddressToProductionsRules() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-config-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = Self.unsetConfiguration.merging(["DOSSIER_DATA_DIR": directory.path]) { $1 }
        let loopback = try DossierProcess.run(["config", "check"], environment: environment)
        #expect(loopback.status == 0)
        let public_ = try DossierProcess.run(["config", "check", "--hostname", "0.0.0.0"], environment: environment)
        #expect(public_.status == 1)
        #expect(public_.output.contains("Instance: production (a public address)"))
        #expect(public_.errors.contains("the master key file"))
        #expect(public_.errors.contains("no SMTP_URL"))
        #expect(public_.errors.contains("the register: controller.name 'Dossier Example SAS' is the example's"))
        // The same on loopback when DOSSIER_ENV says production.
        let production = try DossierProcess.run(["config", "check"], environment: environment.merging(["DOSSIER_ENV": "production"]) { $1 })
        #expect(production.status == 1)
        #expect(production.errors.contains("no SMTP_URL"))
    }

    @Test func everyCommandRefusesAValueItCannotReadAndLogsAsJSONWhenAsked() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-logs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = Self.unsetConfiguration.merging(["DOSSIER_DATA_DIR": directory.path]) { $1 }
        for (name, value) in [("DOSSIER_LOG_FORMAT", "xml"), ("DOSSIER_ENV", "prod"), ("LOG_LEVEL", "loud"), ("DOSSIER_RETENTION_INTERVAL", "often")] {
            for command in [["migrate"], ["serve", "--port", "1"]] {
                let run = try DossierProcess.run(command, environment: environment.merging([name: value]) { $1 })
                #expect(run.status == 1, "\(command) with \(name)=\(value)")
                #expect(run.errors.contains("dossier: \(name) must be"), "\(run.errors)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path))
        // JSON: every line an object with its time, level, label, source and message.
        let run = try DossierProcess.run(["migrate"], environment: environment.merging(["DOSSIER_LOG_FORMAT": "json", "LOG_LEVEL": "info"]) { $1 })
        #expect(run.status == 0)
        let lines = run.errors.split(separator: "\n")
        #expect(lines.count > 10)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            #expect(Set(object.keys).isSuperset(of: ["time", "level", "label", "source", "message"]))
            #expect((object["time"] as? String)?.hasSuffix("Z") == true)
        }
        #expect(run.errors.contains("\"message\":\"[Migrator] Starting prepare\""))
        // Why a command stopped is a JSON line too.
        let refused = try DossierProcess.run(["serve", "--port", "1"], environment: environment.merging(["DOSSIER_LOG_FORMAT": "json", "DOSSIER_ENV": "prod"]) { $1 })
        #expect(refused.status == 1)
        let line = try #require(try JSONSerialization.jsonObject(with: Data(refused.errors.utf8)) as? [String: Any], "\(refused.errors)")
        #expect(line["level"] as? String == "critical")
        #expect((line["message"] as? String)?.contains("DOSSIER_ENV must be") == true)
    }

    @Test(arguments: TestDatabase.all)
    func serveAnswersOnLoopback(database: TestDatabase) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-serve-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var environment = ["DOSSIER_DATA_DIR": directory.path, "DATABASE_URL": ""]
        if case let .postgres(url) = database { environment["DATABASE_URL"] = url }
        let port = Int.random(in: 20000...45000)
        let server = try DossierProcess.start(["serve", "--port", "\(port)"], environment: environment)
        defer { server.terminate() }

        let health = try await DossierProcess.waitForHealth(port: port, process: server)
        #expect(health.contains("\"status\":\"ok\""))
        #expect(health.contains(database.testDescription == "SQLite" ? "\"database\":\"sqlite\"" : "\"database\":\"postgresql\""))
        let (page, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/privacy?lang=en")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: page, as: UTF8.self).contains("Registering on the website and creating an account"))

        server.interrupt()
        server.waitUntilExit()
        #expect(server.terminationStatus == 0)
        if case .sqlite = database {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("dossier.sqlite").path))
        }
    }
}

/// Runs the `dossier` executable that `swift build` put beside the test bundle.
enum DossierProcess {
    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    static var executable: URL {
        get throws {
            let candidates = [
                URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                Bundle.main.bundleURL.deletingLastPathComponent(),
                Bundle.main.bundleURL,
            ].map { $0.appendingPathComponent("dossier") }
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
                throw CLIError("no dossier executable beside the tests (looked in \(candidates.map(\.path)))")
            }
            return found
        }
    }

    static func process(_ arguments: [String], environment: [String: String]) throws -> Process {
        let process = Process()
        process.executableURL = try executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.currentDirectoryURL = FileManager.default.temporaryDirectory
        return process
    }

    /// Runs to completion, collecting standard output and error; `input` is its standard input.
    static func run(_ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws -> Run {
        let process = try process(arguments, environment: environment)
        let output = Pipe(), errors = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        // Read before waiting, so a full pipe cannot block the child.
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
                   errors: String(decoding: errData, as: UTF8.self))
    }

    /// Starts a long-running command; its output goes to a temporary log file.
    static func start(_ arguments: [String], environment: [String: String]) throws -> Process {
        let process = try process(arguments, environment: environment)
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-serve-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// Polls `/health` for up to 60 seconds; fails early if the server exits.
    static func waitForHealth(port: Int, process: Process) async throws -> String {
        let url = URL(string: "http://127.0.0.1:\(port)/health")!
        for _ in 0..<240 {
            guard process.isRunning else { throw CLIError("the server exited with status \(process.terminationStatus)") }
            if let (data, response) = try? await URLSession.shared.data(from: url),
               (response as? HTTPURLResponse)?.statusCode == 200 {
                return String(decoding: data, as: UTF8.self)
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw CLIError("no answer on port \(port) within 60 seconds")
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
