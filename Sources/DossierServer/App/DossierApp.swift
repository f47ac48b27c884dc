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
        let register = try RegisterLoader.load(from: configuration.registerPath.map { URL(fileURLWithPath: $0) })
        try requireStoredCategories(in: register)
        let transport: any MailTransport
        if let url = configuration.smtpURL {
            var smtp = try MailSettings.smtp(from: url)
            smtp.trustedCAFile = configuration.smtpCAFile
            transport = SMTPTransport(settings: smtp, group: app.eventLoopGroup)
        } else {
            transport = FileMailTransport(directory: configuration.outboxDirectory)
        }
        app.dossier = DossierServices(
            configuration: configuration,
            register: register,
            clock: clock,
            audit: AuditTrail(clock: clock),
            mailer: Mailer(sender: configuration.resolvedMailSender, baseURL: configuration.baseURL, clock: clock),
            outbox: OutboxDispatcher(transport: transport, clock: clock, logger: app.logger),
            vault: KeyVault(masterKey: try KeyVault.loadMasterKey(configuration), clock: clock),
            blobs: FileBlobStore(directory: configuration.blobDirectory)
        )
        app.passwords.use(.bcrypt(cost: configuration.passwordCost))
        if configuration.runsBackgroundJobs {
            app.lifecycle.use(OutboxLoop())
        }

        try await DatabaseSetup.configure(app, configuration)
        app.migrations.add(DossierMigrations.all)

        app.views.use(.leaf)
        app.leaf.configuration = LeafConfiguration(rootDirectory: Views.directory)
        app.leaf.sources = Views.sources(fileio: app.fileio)

        app.middleware = Middlewares()
        app.middleware.use(RequestLogMiddleware())
        app.middleware.use(APIErrorMiddleware(environment: app.environment))
        app.middleware.use(SecurityHeadersMiddleware())

        try routes(app)
    }

    /// The data categories the server stores, which any register it runs with must declare
    /// (with a purpose and a retention rule), so that every stored item has a rule.
    static let storedCategories = [Account.dataCategory, ConnectionEvent.dataCategory, Document.dataCategory]

    static func requireStoredCategories(in loaded: LoadedRegister) throws {
        let register = loaded.register
        let problems = storedCategories.compactMap { id -> RegisterProblem? in
            if register.category(id) == nil {
                return RegisterProblem(file: "register", path: "categories", message: "the server stores data category '\(id)', which this register does not declare")
            }
            if !register.purposes.contains(where: { !$0.rules(for: id).isEmpty }) {
                return RegisterProblem(file: "register", path: "purposes", message: "no purpose has a retention rule for data category '\(id)', which the server stores")
            }
            return nil
        }
        if !problems.isEmpty { throw InvalidRegister(problems: problems) }
    }

    /// Applies pending migrations, then records the register's version as published.
    public static func migrate(_ app: Application) async throws {
        try await app.autoMigrate()
        try await PolicyPublisher.publish(app.dossier.register, on: app.db)
    }
}
