import Logging
import PostgresNIO

/// A statement a sync runs, prepared once per connection: PostgreSQL then parses it once and,
/// after a few runs, keeps a generic plan. Parsing and planning every statement anew took 45 %
/// of PostgreSQL's CPU in small syncs (docs/PERFORMANCE.md, session 12).
///
/// ```swift
/// enum LastSeen: PreparedQuery {
///     static let sql = "SELECT last_seen_at FROM learner WHERE id = $1"
/// }
/// let seen = try await connection.row(LastSeen.self, learner.rawValue, as: Int64?.self, logger: logger)
/// ```
protocol PreparedQuery {
    /// The SQL, with parameters `$1`, `$2`, … in the order they are bound.
    static var sql: String { get }
}

/// Runs a ``PreparedQuery`` through postgres-nio's prepared statements, which prepare it on a
/// connection the first time it runs there.
struct Prepared<Query: PreparedQuery>: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static var name: String { "learnsync.\(Query.self)" }
    static var sql: String { Query.sql }
    let bindings: PostgresBindings

    init<each Value: PostgresDynamicTypeEncodable>(_ query: Query.Type, _ values: repeat each Value) {
        var bindings = PostgresBindings()
        for value in repeat each values { bindings.append(value, context: .default) }
        self.bindings = bindings
    }

    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}

extension PostgresConnection {
    /// Every row of the prepared `query` run with `values`, decoded as `columns`.
    func rows<Query: PreparedQuery, each Value: PostgresDynamicTypeEncodable, each Column: PostgresDecodable & Sendable>(
        _ query: Query.Type, _ values: repeat each Value, as columns: (repeat each Column).Type, logger: Logger
    ) async throws -> [(repeat each Column)] {
        var rows: [(repeat each Column)] = []
        for try await row in try await execute(Prepared(query, repeat each values), logger: logger) {
            rows.append(try row.decode(columns))
        }
        return rows
    }

    /// The first row of the prepared `query` run with `values`, decoded as `columns`, or nil
    /// when there is none.
    func row<Query: PreparedQuery, each Value: PostgresDynamicTypeEncodable, each Column: PostgresDecodable & Sendable>(
        _ query: Query.Type, _ values: repeat each Value, as columns: (repeat each Column).Type, logger: Logger
    ) async throws -> (repeat each Column)? {
        try await rows(query, repeat each values, as: columns, logger: logger).first
    }

    /// Runs the prepared `query` with `values`, ignoring what it returns.
    func execute<Query: PreparedQuery, each Value: PostgresDynamicTypeEncodable>(
        _ query: Query.Type, _ values: repeat each Value, logger: Logger
    ) async throws {
        for try await _ in try await execute(Prepared(query, repeat each values), logger: logger) {}
    }
}
