import FluentKit
import FluentSQL
import Foundation
import SQLKit

/// Writes a transaction sends together, after its reads: on PostgreSQL in one statement (each
/// write a data-modifying `WITH` part), one round trip for all of them; elsewhere (SQLite, in the
/// process, where a round trip costs nothing) one after another, in the order they were added.
///
/// The writes must not depend on one another: PostgreSQL runs the parts of one statement on one
/// snapshot, so no part sees another's rows, and two parts must not change the same row. Inserts,
/// and deletes or updates of rows no other part touches, qualify (the foreign keys' cascades run
/// after the statement, and see everything it did). An audited transaction carries one
/// (`AuditLog.writes`) and sends it just before its audit entries (and the chain's lock): where
/// round trips are the cost (an erasure, `scripts/bench`), its writes cost one.
///
/// The SQL is Fluent's own, from its query converter: the same columns and values a model's
/// `create` or a query builder's `delete`/`update` would send. What Fluent does around a query
/// is not done: no model middleware, no `@Timestamp` set, no soft-delete filter, and an inserted
/// model is not marked as saved. The models batched here have none of those, and are not saved
/// again after.
final class WriteBatch: @unchecked Sendable {
    /// The transaction's database, which the writes go to.
    let database: any Database
    private let lock = NSLock()
    private var statements: [any SQLExpression] = []

    init(on database: any Database) {
        self.database = database
    }

    /// PostgreSQL binds at most 65,535 values in one statement: past this many, the batch goes in
    /// more than one.
    static let bindsPerStatement = 30_000

    /// Inserts the models (their ids made here when unset), a thousand rows a part.
    func insert<M: Model>(_ models: [M]) where M.IDValue == UUID {
        for batch in models.batches(of: [M].rowsPerStatement) {
            var query = M.query(on: database).query
            query.action = .create
            query.fields = Self.fields(of: M.self)
            query.input = batch.map { model in
                if model.id == nil { model.id = UUID() }
                // Every column, unset ones as DEFAULT, so that the rows of one insert agree (as
                // Fluent does on SQL databases).
                let input = CollectedInput()
                model.input(to: input)
                return .dictionary(input.values)
            }
            append(query)
        }
    }

    /// Deletes what the query's filters select.
    func delete<M: Model>(_ builder: QueryBuilder<M>) {
        var query = builder.query
        query.action = .delete
        append(query)
    }

    /// Sets the query's values (`set(_:to:)`) on what its filters select.
    func update<M: Model>(_ builder: QueryBuilder<M>) {
        var query = builder.query
        query.action = .update
        query.fields = Self.fields(of: M.self)
        append(query)
    }

    /// Sends the writes, and empties the batch.
    func run() async throws {
        let statements = lock.withLock {
            defer { self.statements = [] }
            return self.statements
        }
        guard !statements.isEmpty else { return }
        let sql = try database.requireSQL()
        guard sql.dialect.name == "postgresql" else {
            for statement in statements { try await sql.execute(sql: statement) { _ in } }
            return
        }
        // Serialized once: the usual batch, under the limit, goes as it is.
        var serializer = SQLSerializer(database: sql)
        Self.combined(statements).serialize(to: &serializer)
        if serializer.binds.count <= Self.bindsPerStatement {
            try await sql.execute(sql: Serialized(sql: serializer.sql, binds: serializer.binds)) { _ in }
            return
        }
        for group in Self.groups(statements, on: sql) {
            try await sql.execute(sql: Self.combined(group)) { _ in }
        }
    }

    /// A statement already serialized (its placeholders numbered from the first).
    private struct Serialized: SQLExpression {
        let sql: String
        let binds: [any Encodable & Sendable]

        func serialize(to serializer: inout SQLSerializer) {
            serializer.write(sql)
            serializer.binds += binds
        }
    }

    /// `WITH "w0" AS (first), "w1" AS (second), … last`: one statement.
    static func combined(_ statements: [any SQLExpression]) -> any SQLExpression {
        guard let last = statements.last else { preconditionFailure("an empty batch") }
        guard statements.count > 1 else { return last }
        let parts = statements.dropLast().enumerated().map { index, statement -> any SQLExpression in
            SQLKit.SQLList([SQLIdentifier("w\(index)"), SQLRaw("AS ("), statement, SQLRaw(")")], separator: SQLRaw(" "))
        }
        return SQLKit.SQLList([SQLRaw("WITH"), SQLKit.SQLList(parts), last], separator: SQLRaw(" "))
    }

    /// Consecutive statements, as many in each group as stay under the bound-value limit (a
    /// statement past it on its own goes alone, as it would have anyway).
    static func groups(_ statements: [any SQLExpression], on sql: any SQLDatabase) -> [[any SQLExpression]] {
        var groups: [[any SQLExpression]] = []
        var group: [any SQLExpression] = []
        var binds = 0
        for statement in statements {
            var serializer = SQLSerializer(database: sql)
            statement.serialize(to: &serializer)
            let count = serializer.binds.count
            if !group.isEmpty, binds + count > bindsPerStatement {
                groups.append(group)
                group = []
                binds = 0
            }
            group.append(statement)
            binds += count
        }
        if !group.isEmpty { groups.append(group) }
        return groups
    }

    private func append(_ query: DatabaseQuery) {
        let statement = SQLQueryConverter(delegate: QueryConverterDelegate()).convert(query)
        lock.withLock { statements.append(statement) }
    }

    private static func fields<M: Model>(of model: M.Type) -> [DatabaseQuery.Field] {
        M.keys.map { .extendedPath([$0], schema: M.schema, space: M.space) }
    }
}

/// What a model's properties give for an insert: every column.
private final class CollectedInput: DatabaseInput {
    var values: [FieldKey: DatabaseQuery.Value] = [:]
    var wantsUnmodifiedKeys: Bool { true }

    func set(_ value: DatabaseQuery.Value, at key: FieldKey) {
        values[key] = value
    }
}

/// Queries need no custom data types (those are for schemas); nested paths take SQLKit's own.
private struct QueryConverterDelegate: SQLConverterDelegate {
    func customDataType(_ dataType: DatabaseSchema.DataType) -> (any SQLExpression)? { nil }
}
