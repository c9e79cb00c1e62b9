import LearnSyncModels
import LearnSyncServer
import Logging
import PostgresNIO

extension PostgresConnection {
    /// Every row of `query`, decoded as `columns`.
    func rows<each Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as columns: (repeat each Column).Type, logger: Logger
    ) async throws -> [(repeat each Column)] {
        var rows: [(repeat each Column)] = []
        for try await row in try await self.query(query, logger: logger).decode(columns) { rows.append(row) }
        return rows
    }

    /// The first row of `query`, decoded as `columns`, or nil when there is none.
    func row<each Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as columns: (repeat each Column).Type, logger: Logger
    ) async throws -> (repeat each Column)? {
        for try await row in try await self.query(query, logger: logger).decode(columns) { return row }
        return nil
    }

    /// The first column of the first row of `query`, or nil when there is no row.
    func value<Value: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: Value.Type, logger: Logger) async throws -> Value? {
        for try await value in try await self.query(query, logger: logger).decode(Value.self) { return value }
        return nil
    }

    /// Runs a statement, ignoring what it returns.
    func execute(_ query: PostgresQuery, logger: Logger) async throws {
        for try await _ in try await self.query(query, logger: logger) {}
    }

    /// Runs a statement and counts the rows it returns (a change `RETURNING 1` counts the rows
    /// it changed).
    func count(_ query: PostgresQuery, logger: Logger) async throws -> Int {
        var count = 0
        for try await _ in try await self.query(query, logger: logger) { count += 1 }
        return count
    }
}

extension PostgresRow.Iterator {
    /// The next cell, decoded as `type`.
    mutating func next<Value: PostgresDecodable>(_ type: Value.Type) throws -> Value {
        guard let cell = next() else { throw ServerError("PostgreSQL sent a row with fewer columns than the query selects") }
        return try cell.decode(Value.self)
    }
}

extension EventColumns {
    /// The event columns (``EventColumns/names``) in the next cells of a row.
    init(_ cells: inout PostgresRow.Iterator) throws {
        // Arguments are evaluated in order: the order of `names`.
        self.init(
            replica: try cells.next(String.self), seq: try cells.next(Int64.self), learner: try cells.next(String.self),
            hlc: try cells.next(Int64.self), course: try cells.next(String.self), type: try cells.next(String.self),
            item: try cells.next(String?.self), answers: try cells.next(String?.self), seen: try cells.next(String?.self),
            choice: try cells.next(String?.self), seconds: try cells.next(Int64?.self).map { Int($0) },
            position: try cells.next(Int64?.self).map { Int($0) }, version: try cells.next(Int64?.self).map { Int($0) })
    }
}
