import Fluent
import FluentPostgresDriver
import Crypto
import Foundation
import NIOConcurrencyHelpers
import SQLKit

/// A read whose SQL is the same at every call (only its bound values change), sent to
/// PostgreSQL as a named prepared statement: parsed and planned once a connection instead of at
/// every call. PostgresNIO sends any other statement unnamed, and a large one (the holdings read
/// of the access view and the erasure, `AccessService.heldRows`) cost PostgreSQL about 2 ms of
/// parsing and planning each time (`scripts/bench`). On SQLite, where a statement costs no round
/// trip, it runs as any other.
///
/// Each `Name` is one statement. Its text is taken from its first call and every later call is
/// checked against it: a query whose text varies with its values (a list of `IN` values, say)
/// is refused rather than run under another statement's plan. The name PostgreSQL knows it by
/// ends with a digest of the text, so that two releases sharing a pooler's server connections
/// (PgBouncer 1.21 and later tracks prepared statements) never run each other's. Should the
/// prepared path fail (a connection whose preparation failed once keeps failing in PostgresNIO),
/// the statement runs unnamed, as any other, and the failure is logged.
protocol PreparedQueryName: Sendable {
    static var name: String { get }
}

enum PreparedQuery {
    struct Mismatch: Error, CustomStringConvertible {
        let name: String
        var description: String { "the prepared statement \(name) was called with SQL other than its own" }
    }

    struct UnsupportedBind: Error, CustomStringConvertible {
        let type: String
        var description: String { "a prepared statement cannot bind a \(type)" }
    }

    /// The text of each statement, from its first call, and the name PostgreSQL knows it by.
    private static let texts = NIOLockedValueBox<[String: (text: String, name: String)]>([:])

    static func text(of name: String) -> String {
        texts.withLockedValue { $0[name]?.text } ?? ""
    }

    static func preparedName(of name: String) -> String {
        texts.withLockedValue { $0[name]?.name } ?? "dossier.\(name)"
    }

    /// The rows of `query`, prepared on PostgreSQL under `Name`.
    static func rows<Name: PreparedQueryName>(_ query: SQLQueryString, as _: Name.Type, on database: any Database) async throws -> [any SQLRow] {
        let sql = try database.requireSQL()
        guard sql.dialect.name == "postgresql", let postgres = database as? any PostgresDatabase else {
            return try await sql.raw(query).all()
        }
        var serializer = SQLSerializer(database: sql)
        query.serialize(to: &serializer)
        let text = serializer.sql
        try texts.withLockedValue { texts in
            if let known = texts[Name.name] {
                guard known.text == text else { throw Mismatch(name: Name.name) }
            } else {
                let digest = SHA256.hash(data: Data(text.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
                texts[Name.name] = (text, "dossier.\(Name.name).\(digest)")
            }
        }
        var bindings = PostgresBindings(capacity: serializer.binds.count)
        for bind in serializer.binds {
            switch bind {
            case let value as UUID: bindings.append(value)
            case let value as String: bindings.append(value)
            case let value as Int: bindings.append(value)
            case let value as Date: bindings.append(value)
            default: throw UnsupportedBind(type: "\(type(of: bind))")
            }
        }
        let statement = Statement<Name>(bindings: bindings)
        let logger = database.logger
        do {
            let rows = try await postgres.withConnection { connection in
                connection.eventLoop.makeFutureWithTask {
                    var rows: [PostgresRow] = []
                    for try await row in try await connection.execute(statement, logger: logger) {
                        rows.append(row)
                    }
                    return rows
                }
            }.get()
            return rows.map { $0.sql() }
        } catch {
            // Unnamed, as any statement: PostgresNIO keeps a failed preparation's error for the
            // connection's life, without asking the server again, so this read still works on
            // it. A failure the server saw aborted the transaction, if any: then the fallback
            // fails too, and the first error, not "transaction aborted", is what is thrown.
            let state = (error as? PSQLError)?.serverInfo?[.sqlState] ?? "none"
            logger.warning("prepared statement \(Name.name) failed (\(String(describing: type(of: error))), SQLSTATE \(state)): running it unprepared")
            do {
                return try await sql.raw(query).all()
            } catch let fallback {
                logger.warning("the unprepared \(Name.name) failed too (\(String(describing: type(of: fallback))))")
                throw error
            }
        }
    }

    struct Statement<Name: PreparedQueryName>: PostgresPreparedStatement {
        typealias Row = PostgresRow
        static var name: String { PreparedQuery.preparedName(of: Name.name) }
        static var sql: String { PreparedQuery.text(of: Name.name) }
        let bindings: PostgresBindings

        func makeBindings() throws -> PostgresBindings { bindings }
        func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
    }
}
