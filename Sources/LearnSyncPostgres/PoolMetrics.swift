import Metrics

/// How a PostgreSQL store's connection pool is used, for operators (`serve --metrics-port`;
/// docs/OPERATIONS.md says how to read them):
///
/// - `learnsync_postgres_pool_connections_max`: the most connections the pool opens
///   (`--database-connections`);
/// - `learnsync_postgres_pool_in_use`: connections held by requests now (the one that listens
///   for live notices, when it is the pool's, is not counted);
/// - `learnsync_postgres_pool_waiting`: requests waiting for a connection now;
/// - `learnsync_postgres_pool_wait_duration_seconds`: how long requests waited for one, those
///   whose wait ended in an error (the database unreachable) included;
/// - `learnsync_postgres_statement_duration_seconds`: each statement, from sending it to its
///   last row.
///
/// Several stores in one process (tests) share them.
struct PoolMetrics: Sendable {
    let inUse = Meter(label: "learnsync_postgres_pool_in_use")
    let waiting = Meter(label: "learnsync_postgres_pool_waiting")
    let waitTime = Timer(label: "learnsync_postgres_pool_wait_duration_seconds")
    let statementTime = Timer(label: "learnsync_postgres_statement_duration_seconds")

    init(maxConnections: Int) {
        Gauge(label: "learnsync_postgres_pool_connections_max").record(maxConnections)
    }

    /// Runs `body`, one statement, and records its time.
    func timingStatement<T>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async throws -> T {
        let start = ContinuousClock.now
        defer { statementTime.record(duration: start.duration(to: .now)) }
        return try await body()
    }
}
