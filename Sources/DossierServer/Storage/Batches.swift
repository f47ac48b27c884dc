import Fluent

extension Array {
    /// The array in consecutive slices of `size` at most (the last may be shorter).
    func batches(of size: Int) -> [ArraySlice<Element>] {
        precondition(size > 0)
        return stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

extension Array where Element: Model {
    /// Inserts the models a statement per thousand rows: one statement for the usual few, and
    /// never past PostgreSQL's limit of 65,535 bound values in one (a tenant with thousands of
    /// links must still be able to leave).
    func createInBatches(on database: any Database) async throws {
        for batch in batches(of: Self.rowsPerStatement) { try await Array(batch).create(on: database) }
    }

    static var rowsPerStatement: Int { 1000 }
}
