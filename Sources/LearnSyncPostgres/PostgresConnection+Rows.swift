import LearnSyncModels
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

/// The columns `replica, seq, learner, hlc, course, type, item, answers, choice, amount` of an
/// event row, as PostgreSQL sends them.
typealias EventRowColumns = (String, Int64, String, Int64, String, String, String?, String?, String?, Int64?)

extension EventColumns {
    init(row c: EventRowColumns) {
        self.init(
            replica: c.0, seq: c.1, learner: c.2, hlc: c.3, course: c.4, type: c.5, item: c.6, answers: c.7, choice: c.8,
            amount: c.9.map(Int.init))
    }
}
