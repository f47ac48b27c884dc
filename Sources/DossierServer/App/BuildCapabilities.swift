import DossierCore
import Vapor

/// The capabilities this build has, so that the policy promises only what the code does.
///
/// A capability implemented by a route is there when the route is in the router's table (read
/// from the table, not declared); one implemented by a component is there when the component
/// is listed below, in the folder that keeps it.
public enum BuildCapabilities {
    /// The components of this build that keep a promise of the register.
    static let components: Set<Capability> = [
        .encryptionAtRest,   // Vault/KeyVault.swift, Vault/SealedDocument.swift
        .separateKeyStore,   // Vault/KeyStore.swift, Vault/KeyRotation.swift
        .uploadInspection,   // RentalFile/InspectionSandbox.swift, Sources/dossier-inspect
        .passwordHashing,    // Accounts/AccountService.swift, Sessions/Session.swift
        .auditTrail,         // Audit/AuditTrail.swift
        .staffRoles,         // Review/StaffController.swift, Sessions/Authentication.swift
        .sessionCookie,      // Web/WebSecurity.swift
        .csrfCookie,         // Web/WebSecurity.swift
        .guarantorNotice,    // RentalFile/GuarantorNotice.swift
        .watermarks,         // Sharing/RenditionSandbox.swift, Sources/dossier-render, Sources/Rendition
        .retentionSweep,     // Retention/RetentionService.swift, Retention/RetentionScheduler.swift
    ]

    /// What a server with these routes provides.
    static func provided(by routes: Routes) -> Set<Capability> {
        let table = Set(routes.all.map(\.signature))
        return Set(Capability.allCases.filter { capability in
            switch capability.implementation {
            case let .route(method, path): table.contains("\(method) \(path)")
            case .component: components.contains(capability)
            case .always: true
            }
        })
    }

    /// This build's capabilities without a running server (for `dossier register check` and
    /// `render`): the route table of an application given only its routes.
    public static func ofThisBuild() async throws -> Set<Capability> {
        let app = try await Application.make(.testing)
        do {
            try routes(app)
            let provided = provided(by: app.routes)
            try await app.asyncShutdown()
            return provided
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}

extension Application {
    private struct CapabilitiesKey: StorageKey { typealias Value = Set<Capability> }

    /// What this server provides, read from its routes once they are registered.
    var capabilities: Set<Capability> {
        get { storage[CapabilitiesKey.self] ?? [] }
        set { storage[CapabilitiesKey.self] = newValue }
    }
}

extension Request {
    var capabilities: Set<Capability> { application.capabilities }
}
