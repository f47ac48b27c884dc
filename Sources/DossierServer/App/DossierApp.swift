import DossierCore
import Fluent
import Leaf
import LeafKit
import Vapor

/// Builds the Dossier application: one factory, used by `serve`, the CLI commands and the tests.
public enum DossierApp {
    /// Loads the register (refusing an invalid one), sets up storage, views, middleware and routes.
    public static func configure(
        _ app: Application, _ configuration: DossierConfiguration, clock: any WallClock = SystemClock()
    ) async throws {
        if let problem = configuration.baseURLProblem ?? configuration.blobStoreProblem ?? configuration.metricsTokenProblem {
            throw ConfigurationError(problem)
        }
        // Before the production rules, which trusted proxies bring in: a range that cannot be
        // read is said first.
        let clientAddresses = try ClientAddressResolver(trustedProxies: configuration.trustedProxies)
        let register = try RegisterLoader.load(from: configuration.registerPath.map { URL(fileURLWithPath: $0) })
        try requireStoredCategories(in: register)
        let problems = configuration.productionProblems
        if !problems.isEmpty {
            throw ConfigurationError("refusing to run as a production instance (DOSSIER_ENV=production, an https DOSSIER_BASE_URL, "
                + "DOSSIER_TRUSTED_PROXIES, or serving on a public address) with: " + problems.joined(separator: "; "))
        }
        if !configuration.isDevelopmentInstance {
            // A corporate website may live elsewhere than the service: said, not refused.
            if let host = URLComponents(string: configuration.baseURL)?.host, !Placeholders.websiteMatches(register.register, baseURLHost: host) {
                app.logger.warning("the register's controller.website (\(register.register.controller.website ?? "")) is not where the service is served (DOSSIER_BASE_URL \(configuration.baseURL)): check that the policy names the right website")
            }
            let placeholders = productionRegisterProblems(register.register, configuration)
            if !placeholders.isEmpty {
                throw ConfigurationError("refusing to run as a production instance with a register that is not yours ("
                    + (configuration.registerPath ?? "the shipped example register") + "): " + placeholders.joined(separator: "; ")
                    + ". Copy Sources/DossierCore/Resources/register.yaml, edit it, check it with `dossier register check PATH`, and set DOSSIER_REGISTER to it")
            }
        }
        try DataDirectory.prepare(configuration.dataDirectory)
        try DataDirectory.prepare(configuration.blobDirectory, variable: configuration.blobsURL == nil ? "the blob directory" : "DOSSIER_BLOBS_URL",
                                  what: "the blob directory")
        let inDataDirectory = configuration.dataDirectory.appendingPathComponent("blobs")
        if configuration.runsBackgroundJobs, configuration.usesObjectStore || configuration.blobDirectory.path != inDataDirectory.path,
           let left = try? FileManager.default.contentsOfDirectory(atPath: inDataDirectory.path), !left.isEmpty {
            let store = configuration.usesObjectStore ? "the object store" : configuration.blobDirectory.path
            app.logger.warning("documents are kept in DOSSIER_BLOBS_URL (\(store)) but \(inDataDirectory.path) still holds blobs: move its contents there (the server stopped), or every document stored before is missing")
        }
        if let problem = configuration.smtpCAFileProblem { throw ConfigurationError(problem) }
        // Emptied by the server only: a command run beside it must not pull files from under it.
        try DataDirectory.prepareScratch(configuration.scratchDirectory, emptying: configuration.runsBackgroundJobs)
        if configuration.runsBackgroundJobs, configuration.isDevelopmentInstance, configuration.masterKey == nil,
           configuration.keyFileIsInDataDirectory {
            app.logger.warning("development instance: the master key is kept in the data directory (\(configuration.masterKeyFileURL.path)); a backup of that directory decrypts everything. Never put real data here.")
        }
        if configuration.runsBackgroundJobs, case let .sqliteFile(path) = KeyStore.location(configuration) {
            if configuration.databaseURL != nil {
                app.logger.warning("the data is on PostgreSQL but the key store is a file of this host (\(path)): several instances would each keep their own keys. Set DOSSIER_KEYS_URL to a PostgreSQL database of its own, shared by every instance.")
            }
            if !configuration.isDevelopmentInstance, path.hasPrefix(configuration.dataDirectory.path + "/") {
                app.logger.warning("the key store (\(path)) is inside the data directory: keep it (and its -wal file) out of the data's backups, or set DOSSIER_KEYS_URL outside it, or an erasure survives in those backups.")
            }
        }
        let (masterKey, keySource) = try KeyVault.loadMasterKey(configuration)
        let databases = app.databases
        let group = app.eventLoopGroup
        let logger = app.logger
        let vault = KeyVault(masterKey: masterKey, clock: clock, keys: {
            guard let keys = databases.database(.keys, logger: logger, on: group.any()) else {
                throw ConfigurationError("the key store is not available (the server is stopping)")
            }
            return keys
        })
        let transport: any MailTransport
        if let url = configuration.smtpURL {
            var smtp = try MailSettings.smtp(from: url)
            smtp.trustedCAFile = configuration.smtpCAFile
            transport = SMTPTransport(settings: smtp, group: app.eventLoopGroup)
        } else {
            transport = FileMailTransport(directory: configuration.outboxDirectory)
        }
        let audit = AuditTrail(clock: clock, masterKey: masterKey, anchorFile: configuration.auditAnchorURL, logger: app.logger)
        app.dossier = DossierServices(
            configuration: configuration,
            register: register,
            clock: clock,
            audit: audit,
            mailer: Mailer(sender: configuration.resolvedMailSender, baseURL: configuration.baseURL, clock: clock, vault: vault),
            outbox: OutboxDispatcher(transport: transport, clock: clock, logger: app.logger, vault: vault,
                                     keep: OutboxMessage.retention(in: register.register)),
            vault: vault,
            keySource: keySource,
            csrfKey: Vault.derivedKey(from: masterKey, for: "csrf"),
            blobs: try blobStore(configuration, app: app),
            // Checked against when no account matches, at the same cost as a real hash: an unknown
            // address takes as long as a known one.
            decoyHash: try Bcrypt.hash(SecretToken.generate(), cost: configuration.passwordCost),
            clientAddresses: clientAddresses,
            uploads: UploadGate(maximumConcurrent: 4),
            exports: UploadGate(maximumConcurrent: 2, work: .export),
            inspections: InspectionPool(maximumConcurrent: max(1, min(4, System.coreCount)), maximumWaiting: 16) {
                $0 == .fr ? "Le serveur vérifie d'autres fichiers : réessayez dans quelques secondes."
                    : "The server is busy checking other files: try again in a few seconds."
            },
            inspector: InspectionSandbox(executable: try InspectionSandbox.locate(), scratch: configuration.scratchDirectory),
            renditions: InspectionPool(maximumConcurrent: max(1, min(2, System.coreCount)), maximumWaiting: 16) {
                $0 == .fr ? "Le serveur prépare d'autres fichiers partagés : réessayez dans quelques secondes."
                    : "The server is busy preparing other shared files: try again in a few seconds."
            },
            renderer: RenditionSandbox(executable: try RenditionSandbox.locate()),
            accessJournal: AccessJournal(audit: audit)
        )
        RenditionSandbox.ignoreBrokenPipes()
        app.passwords.use(.bcrypt(cost: configuration.passwordCost))
        // A connection silent this long is closed (it would otherwise hold an upload slot).
        app.http.server.configuration.idleTimeout = .seconds(60)
        if configuration.runsBackgroundJobs {
            app.lifecycle.use(OutboxLoop())
            if let every = try configuration.retentionSchedule() {
                app.lifecycle.use(RetentionScheduler(every: every))
            } else {
                app.logger.warning("""
                    DOSSIER_RETENTION_INTERVAL=off: this server deletes nothing the register's retention rules make due; \
                    run `dossier retention run` every day (cron, a timer), or another instance must sweep
                    """)
            }
        }

        try await DatabaseSetup.configure(app, configuration)
        app.migrations.add(DossierMigrations.all)
        try KeyStore.configure(app, configuration)

        app.views.use(.leaf)
        app.leaf.configuration = LeafConfiguration(rootDirectory: Views.directory)
        app.leaf.sources = Views.sources(fileio: app.fileio)

        DossierMetrics.bootstrap()
        let inFlight = InFlightRequests()
        // Multipart content decoded by any route goes through the guard (MultipartGuard.swift).
        ContentConfiguration.global.use(decoder: GuardedFormDataDecoder(), for: .formData)
        app.middleware = Middlewares()
        app.middleware.use(InFlightRequests.Middleware(requests: inFlight))
        app.middleware.use(RequestLogMiddleware())
        app.middleware.use(SecurityHeadersMiddleware(usesHTTPS: configuration.usesHTTPS))
        app.middleware.use(APIErrorMiddleware(environment: app.environment))
        app.middleware.use(MethodNotAllowedMiddleware())
        app.lifecycle.use(InspectionPoolShutdown())
        app.lifecycle.use(InFlightRequests.Drain(requests: inFlight))

        try routes(app)
        // Every route says who may call it (the authorization matrix holds it to that).
        let undeclared = RouteAccessCheck.undeclared(in: app.routes)
        if !undeclared.isEmpty {
            throw ConfigurationError("routes without a declared access (.access(…) where they are registered): " + undeclared.joined(separator: ", "))
        }
        app.allowedMethods = AllowedMethods(routes: app.routes)
        // The register promises only what this build does: a security measure it lacks stops
        // the start; rights fall back to the DPO, features' cookies and measures stay out.
        app.capabilities = BuildCapabilities.provided(by: app.routes)
        let unkept = RegisterValidator.capabilityProblems(in: register.register, provided: app.capabilities)
        if !unkept.isEmpty {
            throw InvalidRegister(problems: unkept.map { RegisterProblem(file: configuration.registerPath ?? "register", path: $0.path, message: $0.message) })
        }
    }

    /// The directory, or the object store `DOSSIER_BLOBS_URL` names.
    static func blobStore(_ configuration: DossierConfiguration, app: Application) throws -> any BlobStore {
        if let store = try configuration.objectStore() {
            let client = S3BlobStore.makeClient()
            app.lifecycle.use(HTTPClientShutdown(client: client))
            return S3BlobStore(location: store.location, credentials: store.credentials, client: client, scratch: configuration.scratchDirectory)
        }
        return FileBlobStore(directory: configuration.blobDirectory)
    }

    /// Shuts the object store's client down with the application.
    struct HTTPClientShutdown: LifecycleHandler {
        let client: HTTPClient

        func shutdownAsync(_ application: Application) async {
            try? await client.shutdown()
        }

        func shutdown(_ application: Application) {
            try? client.syncShutdown()
        }
    }

    /// What a production instance must not publish as its own: the example's identity, or a
    /// hosting country other than where the configuration keeps the documents.
    static func productionRegisterProblems(_ register: Register, _ configuration: DossierConfiguration) -> [String] {
        var problems = Placeholders.found(in: register)
        if let region = configuration.objectStoreRegion,
           let country = Placeholders.country(ofAWSRegion: region), country != register.hosting.country {
            problems.append("hosting.country '\(register.hosting.country)' is not where AWS_REGION \(region) keeps the data (\(country)): write where your data is hosted")
        }
        return problems
    }

    /// The register must justify everything the server stores (``StoredItems``): a purpose, a
    /// category and a retention rule for each table.
    static func requireStoredCategories(in loaded: LoadedRegister) throws {
        let problems = StoredItems.problems(in: loaded.register).map { RegisterProblem(file: "register", path: "purposes", message: $0) }
        if !problems.isEmpty { throw InvalidRegister(problems: problems) }
    }

    /// The migrations of the data database and the key store, and keys moved to the key store.
    public static func migrateStorage(_ app: Application) async throws {
        // The object store answers (and has its bucket) before anything is written.
        // Only a development server makes a missing bucket: a command (migrate, verify...) never
        // does, since it cannot tell whether the server it serves beside is a public one.
        let configuration = app.dossier.configuration
        if let store = app.dossier.blobs as? S3BlobStore {
            try await store.prepare(creating: configuration.isDevelopmentInstance && configuration.runsBackgroundJobs)
        }
        try await app.autoMigrate()
        try await KeyStore.prepare(app)
        try await KeyStore.requireKeysForData(app)
    }

    /// Applies pending migrations, checks the master key opens this database's data (writing a
    /// new key file only for a new database), then records the register's version as published.
    public static func migrate(_ app: Application) async throws {
        try await migrateStorage(app)
        try await app.dossier.vault.checkMasterKey(source: app.dossier.keySource)
        app.migrations.add(DossierMigrations.afterKeyCheck(vault: app.dossier.vault))
        try await app.autoMigrate()
        app.dossier.audit.install(key: try await app.dossier.vault.auditChainKey())
        let serving = app.dossier.configuration.runsBackgroundJobs
        try await PolicyPublisher.publish(app.dossier.register, capabilities: app.capabilities, on: app.db,
                                          production: !app.dossier.configuration.isDevelopmentInstance, adopt: serving, logger: app.logger)
        // Blob writes and deletions a crash interrupted: deletions finished, stale writes undone
        // (by the server; `dossier verify` only reports them).
        if serving {
            try await BlobJournal.recover(blobs: app.dossier.blobs, on: app.db, now: app.dossier.clock.now, logger: app.logger)
            // Erasures whose rows went but whose keys a crash kept: destroyed now.
            let finished = try await ErasureService.finishPending(services: app.dossier, on: app.db)
            if finished > 0 { app.logger.notice("finished \(finished) interrupted erasure(s): their keys are destroyed") }
        }
    }
}
