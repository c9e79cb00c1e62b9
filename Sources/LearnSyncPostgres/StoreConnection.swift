import Logging
import PostgresNIO

/// A pooled connection as the store uses it. Every statement is timed for the pool's metrics
/// (``PoolMetrics``). A ``PreparedQuery`` is prepared on the connection, or sent unnamed when
/// the store reaches PostgreSQL through a pooler in transaction mode (PgBouncer's
/// `pool_mode = transaction`): there the next transaction may run on a server connection that
/// never saw the preparation, while an unnamed statement travels whole in one message batch
/// (parse, bind, execute, sync).
struct StoreConnection: Sendable {
    let connection: PostgresConnection
    /// Whether ``PreparedQuery``s are prepared on the connection.
    let prepares: Bool
    let metrics: PoolMetrics

    // MARK: Statements written in place

    /// Runs `query`, handing each row to `body` until it returns false (the rest are read and
    /// dropped).
    func forEachRow(_ query: PostgresQuery, logger: Logger, _ body: (PostgresRow) throws -> Bool) async throws {
        try await metrics.timingStatement {
            var reading = true
            for try await row in try await connection.query(query, logger: logger) where reading { reading = try body(row) }
        }
    }

    /// Every row of `query`, decoded as `columns`.
    func rows<each Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as columns: (repeat each Column).Type, logger: Logger
    ) async throws -> [(repeat each Column)] {
        var rows: [(repeat each Column)] = []
        try await forEachRow(query, logger: logger) { row in
            rows.append(try row.decode(columns))
            return true
        }
        return rows
    }

    /// The first row of `query`, decoded as `columns`, or nil when there is none.
    func row<each Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as columns: (repeat each Column).Type, logger: Logger
    ) async throws -> (repeat each Column)? {
        var first: (repeat each Column)?
        try await forEachRow(query, logger: logger) { row in
            first = try row.decode(columns)
            return false
        }
        return first
    }

    /// The first column of the first row of `query`, or nil when there is no row.
    func value<Value: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: Value.Type, logger: Logger) async throws -> Value? {
        try await row(query, as: Value.self, logger: logger)
    }

    /// Runs a statement, ignoring what it returns.
    func execute(_ query: PostgresQuery, logger: Logger) async throws {
        try await forEachRow(query, logger: logger) { _ in true }
    }

    /// Runs a statement and counts the rows it returns (a change `RETURNING 1` counts the rows
    /// it changed).
    func count(_ query: PostgresQuery, logger: Logger) async throws -> Int {
        var count = 0
        try await forEachRow(query, logger: logger) { _ in
            count += 1
            return true
        }
        return count
    }

    /// Copies `rows`, in the text format of `COPY … FROM STDIN` (``CopyText``), into `columns`
    /// of `table`: a row costs PostgreSQL less than an `INSERT`'s, for two round trips (the copy
    /// starts, then takes the rows).
    func copy(_ rows: CopyText, into table: String, columns: [String], logger: Logger) async throws {
        try await metrics.timingStatement {
            try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in try await writer.write(rows.buffer) }
        }
    }

    // MARK: Prepared statements

    /// Runs the ``PreparedQuery`` `query` with `values`, handing each row to `body` until it
    /// returns false.
    func forEachRow<Query: PreparedQuery, each Value: PostgresDynamicTypeEncodable>(
        _ query: Query.Type, _ values: repeat each Value, logger: Logger, _ body: (PostgresRow) throws -> Bool
    ) async throws {
        var bindings = PostgresBindings()
        for value in repeat each values { bindings.append(value, context: .default) }
        try await metrics.timingStatement { [bindings] in
            var reading = true
            if prepares {
                for try await row in try await connection.execute(Prepared<Query>(bindings: bindings), logger: logger) where reading {
                    reading = try body(row)
                }
            } else {
                for try await row in try await connection.query(PostgresQuery(unsafeSQL: Query.sql, binds: bindings), logger: logger)
                where reading {
                    reading = try body(row)
                }
            }
        }
    }

    /// Every row of the ``PreparedQuery`` `query` run with `values`, decoded as `columns`.
    func rows<Query: PreparedQuery, each Value: PostgresDynamicTypeEncodable, each Column: PostgresDecodable & Sendable>(
        _ query: Query.Type, _ values: repeat each Value, as columns: (repeat each Column).Type, logger: Logger
    ) async throws -> [(repeat each Column)] {
        var rows: [(repeat each Column)] = []
        try await forEachRow(query, repeat each values, logger: logger) { row in
            rows.append(try row.decode(columns))
            return true
        }
        return rows
    }

    /// The first row of the ``PreparedQuery`` `query` run with `values`, decoded as `columns`,
    /// or nil when there is none.
    func row<Query: PreparedQuery, each Value: PostgresDynamicTypeEncodable, each Column: PostgresDecodable & Sendable>(
        _ query: Query.Type, _ values: repeat each Value, as columns: (repeat each Column).Type, logger: Logger
    ) async throws -> (repeat each Column)? {
        var first: (repeat each Column)?
        try await forEachRow(query, repeat each values, logger: logger) { row in
            first = try row.decode(columns)
            return false
        }
        return first
    }
}
