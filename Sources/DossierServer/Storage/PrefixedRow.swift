import FluentKit
import SQLKit
import Vapor

extension Database {
    /// This database in SQL, for hand-written queries (Dossier runs on SQLite and PostgreSQL only).
    func requireSQL() throws -> any SQLDatabase {
        guard let sql = self as? any SQLDatabase else { throw Abort(.internalServerError, reason: "The database does not speak SQL.") }
        return sql
    }
}

/// Models read from hand-written SQL: the hot paths (every authenticated request) skip Fluent's
/// query builder, whose serialisation to SQL was a fifth of a read (profiled). The SQL names each
/// model's columns once, with a prefix per model (`s_id`, `a_id`), so one joined row fills two
/// models, each marked as loaded from the database (saving it updates it).
enum PrefixedRow {
    /// `"alias"."key" AS "prefixkey", …` for every column of `model`, worked out once per call site.
    static func columns<M: Model>(of model: M.Type, table alias: String, prefix: String) -> String {
        M.keys.map { key in "\"\(alias)\".\"\(key.description)\" AS \"\(prefix)\(key.description)\"" }.joined(separator: ", ")
    }

    /// A model of type `M` from the columns of `row` that start with `prefix`.
    static func decode<M: Model>(_ model: M.Type, from row: any SQLRow, prefix: String) throws -> M {
        let decoded = M()
        try decoded.output(from: Output(row: row, prefix: prefix))
        return decoded
    }

    struct Output: DatabaseOutput {
        let row: any SQLRow
        let prefix: String

        var description: String { "row with prefix \(prefix)" }

        func schema(_ schema: String) -> any DatabaseOutput { self }

        /// Every column is there: a hand-written query that leaves one out fails to decode (the
        /// id left out would make the model look new, and saving it would insert a copy).
        func contains(_ key: FieldKey) -> Bool {
            true
        }

        func decodeNil(_ key: FieldKey) throws -> Bool {
            try row.decodeNil(column: prefix + key.description)
        }

        func decode<T: Decodable>(_ key: FieldKey, as type: T.Type) throws -> T {
            try row.decode(column: prefix + key.description, as: T.self)
        }
    }
}
