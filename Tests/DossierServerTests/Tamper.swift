@testable import DossierServer
import FluentSQLiteDriver
import Foundation
import SQLKit
import Vapor

/// Edits a stored row behind Dossier's back, as an intruder with file access would.
enum Tamper {
    static func auditEntry(sequence: Int64, inSQLiteAt path: String) async throws {
        let app = try await Application.make(.testing)
        app.databases.use(.sqlite(.file(path)), as: .sqlite)
        do {
            let sql = app.db as! any SQLDatabase
            try await sql.update(AuditRecord.schema).set("actor", to: "someone-else").where("sequence", .equal, sequence).run()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
