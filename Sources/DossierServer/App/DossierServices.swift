import Crypto
import DossierCore
import Vapor

/// What the running server shares across requests: the configuration and the loaded register.
/// Kept in the application's storage: no globals.
public struct DossierServices: Sendable {
    public let configuration: DossierConfiguration
    public let register: LoadedRegister
    public let clock: any WallClock
    let audit: AuditTrail
    let mailer: Mailer
    let outbox: OutboxDispatcher
    let vault: KeyVault
    let keySource: KeyVault.Source
    /// Signs a signed-in browser's CSRF tokens.
    let csrfKey: SymmetricKey
    let blobs: any BlobStore
    let decoyHash: String
    let clientAddresses: ClientAddressResolver
    /// At most a few uploads received at once, one per account.
    let uploads: UploadGate
    /// At most two portability exports made at once, one per account (each holds a file in memory).
    let exports: UploadGate
    /// File inspection runs off the event loops, a few at a time.
    let inspections: InspectionPool
    /// Each file is inspected in a process of its own, under limits.
    let inspector: InspectionSandbox
    /// What recipients of a shared file receive is rendered off the event loops, a few at a time,
    /// each in a process of its own.
    let renditions: InspectionPool
    let renderer: RenditionSandbox
    /// Recipients' accesses, written by group commit.
    let accessJournal: AccessJournal
    public var catalogue: DocumentCatalogue { .shipped }
}

extension Application {
    private struct ServicesKey: StorageKey {
        typealias Value = DossierServices
    }

    /// The services `configure` installed.
    public var dossier: DossierServices {
        get {
            guard let services = storage[ServicesKey.self] else {
                fatalError("Dossier services used before DossierApp.configure ran")
            }
            return services
        }
        set { storage[ServicesKey.self] = newValue }
    }
}

extension Request {
    public var dossier: DossierServices { application.dossier }
    public var register: Register { application.dossier.register.register }
}
