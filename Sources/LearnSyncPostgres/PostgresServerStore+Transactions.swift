import Metrics
import LearnSyncSQLite
import LearnSyncServer
import Logging
import PostgresNIO

/// Transactions on the pool: leases, retries, and what a failed statement is answered.
extension PostgresServerStore {

    /// Runs `body` in a transaction, again (up to 5 times) when PostgreSQL ends it with a
    /// deadlock or a serialization failure. A thrown error rolls everything back.
    func transaction<T: Sendable>(
        readOnly: Bool = false, _ body: @Sendable (StoreConnection) async throws -> T
    ) async throws -> T {
        try await retrying { connection in
            try await connection.execute(readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN", logger: logger)
            do {
                let value = try await body(connection)
                try await connection.execute("COMMIT", logger: logger)
                return value
            } catch {
                try? await connection.execute("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Runs `body` on a pooled connection, again (up to 5 times) when PostgreSQL ends its work
    /// with a deadlock or a serialization failure; a full disk or an I/O error is a
    /// ``DiskFailure``. A statement sent alone is its own transaction.
    func retrying<T: Sendable>(_ body: @Sendable (StoreConnection) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await withConnection { connection in try await body(connection) }
            } catch let error as PSQLError where Self.isRetryable(error) {
                guard attempt < 5 else {
                    logger.error("PostgreSQL ended the transaction 5 times", metadata: ["sqlState": "\(error.serverInfo?[.sqlState] ?? "")"])
                    throw error
                }
                logger.debug("transaction retried", metadata: ["sqlState": "\(error.serverInfo?[.sqlState] ?? "")"])
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 << attempt))))
            } catch let error as PSQLError where Self.diskFailure(error) != nil {
                // The server answers `storage-failed`: nothing of the request was stored. The
                // server's message may quote a learner's values: only its SQLSTATE is logged.
                logger.error("the database could not write", metadata: ["sqlState": "\(error.serverInfo?[.sqlState] ?? "")"])
                throw Self.diskFailure(error)!
            }
        }
    }

    /// Leases a connection of the pool for `body`, counted in the pool's metrics (a wait that
    /// ends in an error too). A request waits at most ``leaseDeadline`` for it (``PoolLease``):
    /// then, as when the pool fails the lease, PostgreSQL is taken as unreachable.
    func withConnection<T>(isolation: isolated (any Actor)? = #isolation, _ body: (StoreConnection) async throws -> sending T) async throws -> sending T {
        let asked = ContinuousClock.now
        metrics.waiting.increment()
        var waiting = true
        defer {
            if waiting {
                metrics.waiting.decrement()
                metrics.waitTime.record(duration: asked.duration(to: .now))
            }
        }
        do {
            let lease = try await PoolLease.lease(from: client, within: leaseDeadline, deadlines)
            defer { lease.end() }
            let connection = lease.connection
            metrics.waiting.decrement()
            waiting = false
            metrics.waitTime.record(duration: asked.duration(to: .now))
            metrics.inUse.increment()
            defer { metrics.inUse.decrement() }
            return try await body(StoreConnection(
                connection: connection, prepares: location.poolMode == .session, metrics: metrics, watch: watches.watch(connection),
                deadlines: deadlines, statementDeadline: statementDeadline))
        } catch let error where waiting && !(error is CancellationError) {
            // No connection: the pool could not open one (PostgreSQL or the pooler is down).
            logger.error("no PostgreSQL connection", metadata: ["error": "\(String(reflecting: error))"])
            throw StoreUnreachable()
        } catch is ConnectionLost {
            logger.error("the PostgreSQL connection closed under a statement")
            throw StoreUnreachable()
        } catch is StatementTimedOut {
            logger.error("PostgreSQL did not answer a statement in time: its connection is closed", metadata: ["deadline": "\(statementDeadline)"])
            throw StoreUnreachable()
        } catch let error as PSQLError where [.serverClosedConnection, .clientClosedConnection, .connectionError].contains(error.code) {
            logger.error("the PostgreSQL connection closed under a statement", metadata: ["code": "\(error.code)"])
            throw StoreUnreachable()
        } catch let error as PSQLError where error.serverInfo?[.sqlState].map(Self.meansUnreachable) == true {
            // PostgreSQL shutting down, out of connections, or a pooler that cannot log in to it.
            logger.error("no PostgreSQL connection", metadata: ["sqlState": "\(error.serverInfo?[.sqlState] ?? "")"])
            throw StoreUnreachable()
        } catch let error as PSQLError {
            // The request's log line names the error's type only; its SQLSTATE says what it was
            // (the server's message may quote a learner's values, and stays out).
            let state = error.serverInfo?[.sqlState]
            // Retried, answered storage-failed, or the quick push's own signal: expected.
            let expected = state.map { Self.isRetryableState($0) || $0 == QuickPush.storedMeanwhile } == true || Self.diskFailure(error) != nil
            let level: Logger.Level = expected ? .debug : .error
            logger.log(level: level, "PostgreSQL ended a statement", metadata: ["sqlState": "\(state ?? "none")", "code": "\(error.code)"])
            throw error
        }
    }

    /// PostgreSQL's `53100 disk_full` and `58030 io_error`: the transaction was rolled back.
    static func diskFailure(_ error: PSQLError) -> DiskFailure? {
        switch error.serverInfo?[.sqlState] {
        case "53100": .full
        case "58030": .ioError
        default: nil
        }
    }

    /// Deadlock detected, serialization failure.
    static func isRetryable(_ error: PSQLError) -> Bool {
        error.serverInfo?[.sqlState].map(isRetryableState) ?? false
    }

    private static func isRetryableState(_ state: String) -> Bool { state == "40P01" || state == "40001" }

    /// SQLSTATEs that say the database cannot be used now, whatever the statement: a connection
    /// exception (class 08, as a pooler reports a PostgreSQL it cannot log in to), PostgreSQL
    /// shutting down or starting (57P01–57P03), too many connections (53300).
    private static func meansUnreachable(_ state: String) -> Bool {
        state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03" || state == "53300"
    }
}
