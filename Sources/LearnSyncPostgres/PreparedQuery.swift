import Logging
import PostgresNIO

/// A statement a sync runs, prepared once per connection: PostgreSQL then parses it once and,
/// after a few runs, keeps a generic plan. Parsing and planning every statement anew took 45 %
/// of PostgreSQL's CPU in small syncs (docs/PERFORMANCE.md).
///
/// Two cautions. A generic plan is made from the statistics of the moment: a query whose best
/// plan depends on a bound array's length or on a table that grows fast (the push's lookup of
/// stored counters) stays unprepared. And postgres-nio remembers a failed preparation for the
/// connection's lifetime: a statement must never first run in a transaction that already
/// failed, which holds while `PostgresServerStore.transaction(readOnly:_:)` rolls back at the
/// first error.
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
    /// Named by a hash of the SQL (64-bit FNV-1a): two queries share a name only when they are
    /// the same query. PostgreSQL compares at most 63 bytes of a name, so a type's full name
    /// (module and enclosing types first) could make two queries one.
    static var name: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "learnsync_" + String(hash, radix: 16)
    }
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
