import LearnSyncModels
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
    /// The connection's close, which fails a statement waiting on it (``unlessClosed(_:)``).
    let watch: ConnectionWatch
    /// Where a statement's wait for its answer is watched, and for how long.
    let deadlines: Deadlines
    let statementDeadline: Duration

    // MARK: Statements written in place

    /// Runs `query`, handing each row to `body` until it returns false (the rest are read and
    /// dropped).
    func forEachRow(_ query: PostgresQuery, logger: Logger, _ body: (PostgresRow) throws -> Bool) async throws {
        try await metrics.timingStatement {
            var reading = true
            let connection = connection
            for try await row in try await unlessClosed({ try await connection.query(query, logger: logger) }) where reading {
                reading = try body(row)
            }
        }
    }

    /// Every row of `query`, read whole before the first is handed on: for a statement whose
    /// rows may take more than one network read (a feed page, a push's stored events).
    ///
    /// postgres-nio (1.33) traps, ending the process, when its row stream waits for its
    /// consumer to ask for more and the connection ends without an error from PostgreSQL (a
    /// backend ended while it was blocked sending rows, a pooler or the network closing the
    /// socket): NIO then reads to the socket's end though no read was asked for, and the
    /// stream's state machine takes that read's completion as impossible
    /// (RowStreamStateMachine.swift:94). Read whole through postgres-nio's future API, rows are
    /// asked for again in the event-loop turn that delivers them, so the stream never waits.
    /// The statement goes unnamed (parsed and planned each time).
    func allRows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await metrics.timingStatement {
            let connection = connection
            return try await unlessClosed { try await connection.query(query, logger: logger).get().rows }
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

    /// Copies `parts` (rows in the text format of `COPY … FROM STDIN`, ``CopyText``) into
    /// `columns` of `table`, each part in a write of its own: a row costs PostgreSQL less than an
    /// `INSERT`'s, for two round trips (the copy starts, then takes the rows). Parts without
    /// rows are left out, and none with rows means no copy. The copy's calls run on the
    /// connection's event loop, each after a look at the connection in the same loop turn
    /// (``GuardedCopyWriter``): a connection closed under the copy throws rather than trap.
    func copy(_ parts: [CopyText], into table: String, columns: [String], logger: Logger) async throws {
        let connection = connection
        let buffers = parts.map(\.buffer).filter { $0.readableBytes > 0 }
        guard !buffers.isEmpty else { return }
        try await metrics.timingStatement {
            try await unlessClosed {
                try await withTaskExecutorPreference(EventLoopTaskExecutor(connection.eventLoop)) {
                    try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                        let guarded = GuardedCopyWriter(writer: writer, connection: connection)
                        do {
                            for buffer in buffers { try await guarded.write(buffer) }
                        } catch {
                            // postgres-nio sends `CopyFail` next, in this loop turn.
                            try? await guarded.settle()
                            throw error
                        }
                        // postgres-nio sends `CopyDone` next, in this loop turn.
                        try await guarded.settle()
                    }
                }
            }
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
            let connection = connection
            if prepares {
                let statement = Prepared<Query>(bindings: bindings)
                let rows = try await unlessClosed { Handed(value: try await connection.execute(statement, logger: logger)) }
                for try await row in rows.value where reading { reading = try body(row) }
            } else {
                let query = PostgresQuery(unsafeSQL: Query.sql, binds: bindings)
                let rows = try await unlessClosed { try await connection.query(query, logger: logger) }
                for try await row in rows where reading { reading = try body(row) }
            }
        }
    }

    /// Every row of the ``PreparedQuery`` `query` run with `values`, read whole
    /// (``allRows(_:logger:)``), unnamed.
    func allRows<Query: PreparedQuery, each Value: PostgresDynamicTypeEncodable>(
        _ query: Query.Type, _ values: repeat each Value, logger: Logger
    ) async throws -> [PostgresRow] {
        var bindings = PostgresBindings()
        for value in repeat each values { bindings.append(value, context: .default) }
        return try await allRows(PostgresQuery(unsafeSQL: Query.sql, binds: bindings), logger: logger)
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

    // MARK: A connection that closes

    /// What `start` returns (a statement sent, up to its first answer), or ``ConnectionLost``
    /// as soon as the connection closes.
    ///
    /// postgres-nio (1.33) hands a statement to its channel without a promise for the write: on
    /// a connection that closed meanwhile (PostgreSQL ended the backend, the network dropped
    /// it), the statement never reaches the connection's handler, nothing fails it, and its
    /// caller would wait for ever, holding its pool lease and its request (a `COPY` even trips
    /// a leaked-continuation warning). So the start runs in a task of its own, raced with the
    /// connection's close (``ConnectionWatch``). A start abandoned so stays suspended: a few
    /// hundred bytes, once for each statement caught by a closing connection.
    private func unlessClosed<T: Sendable>(_ start: @escaping @Sendable () async throws -> T) async throws -> T {
        guard !connection.isClosed else { throw ConnectionLost() }
        let watch = watch
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let pending = Locked<CheckedContinuation<T, any Error>?>(continuation)
            let finish: @Sendable (Result<T, any Error>) -> Void = { result in
                pending.withLock { waiting in
                    waiting?.resume(with: result)
                    waiting = nil
                }
            }
            guard let id = watch.register({ finish(.failure(ConnectionLost())) }) else { return finish(.failure(ConnectionLost())) }
            // Unanswered past the deadline: the connection closes (the pool drops it), which
            // ends the statement on PostgreSQL's side too.
            let connection = connection
            let watched = deadlines.add(ContinuousClock.now + statementDeadline) {
                finish(.failure(StatementTimedOut()))
                connection.close().whenComplete { _ in }
            }
            Task {
                let result: Result<T, any Error>
                do {
                    result = .success(try await start())
                } catch {
                    result = .failure(error)
                }
                deadlines.remove(watched)
                watch.unregister(id)
                finish(result)
            }
        }
    }
}

/// The connection to PostgreSQL closed under a statement: the request is answered
/// `storage-failed` (503), as when no connection can be had.
struct ConnectionLost: Error {}

/// PostgreSQL did not answer a statement within the store's deadline; its connection was
/// closed. Answered as ``ConnectionLost``.
struct StatementTimedOut: Error {}

/// A value made by one task and handed to another, which alone uses it afterwards.
///
/// `@unchecked`: postgres-nio's rows of a prepared statement come as a map over its row sequence
/// whose closure is not `Sendable`. ``StoreConnection``'s start task makes the value and returns
/// it without keeping or touching it again; the continuation's resume orders that hand-over
/// before the waiting task's first use, so no two tasks ever use it at once.
private struct Handed<Value>: @unchecked Sendable {
    let value: Value
}
