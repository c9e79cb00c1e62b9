import LearnSyncModels
import Foundation
package import LearnSyncPostgres
import LearnSyncServer
import Logging

/// The PostgreSQL server of a test run, started by the tests themselves.
///
/// `LEARNSYNC_POSTGRES_URL` names a running server to use (its user must be allowed to create
/// databases); otherwise the first test that needs one starts a throwaway cluster with
/// `Tools/postgres` (durability off, a free loopback port, as an unprivileged user) and it is
/// stopped when the test process exits. Tests skip PostgreSQL only when asked:
/// `LEARNSYNC_SKIP_POSTGRES=1`. A machine without PostgreSQL fails them, saying so.
package enum TestPostgres {
    /// Whether the run was asked to skip PostgreSQL (`LEARNSYNC_SKIP_POSTGRES=1`).
    package static let isSkipped = ProcessInfo.processInfo.environment["LEARNSYNC_SKIP_POSTGRES"] == "1"

    /// The server's administrative URL (its `postgres` database).
    package static func server() async throws -> String {
        try await cluster.value
    }

    /// A new, empty database on the server, named after `label`; reached through the test
    /// run's PgBouncer in transaction mode (``pooler()``) when `throughPooler`.
    package static func freshDatabase(_ label: String, throughPooler: Bool = false) async throws -> PostgresLocation {
        let name = "t_" + label.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(30) + "_" + UUID().uuidString.prefix(8).lowercased()
        let direct = try await createDatabase(name, on: try await server())
        return throughPooler ? try database(name, on: try await pooler()) : direct
    }

    /// The administrative URL of a PgBouncer in transaction mode in front of the server,
    /// started (`Tools/postgres pgbouncer`, on a free loopback port) by the first test that
    /// needs it and stopped when the test process exits. Its URL carries `pool_mode=transaction`.
    package static func pooler() async throws -> String {
        try await bouncer.value
    }

    /// The database of `location` reached directly, not through the pooler.
    package static func direct(_ location: PostgresLocation) async throws -> PostgresLocation {
        guard location.poolMode == .transaction else { return location }
        let server = try PostgresLocation(url: try await server())
        var direct = location
        (direct.host, direct.port, direct.poolMode) = (server.host, server.port, .session)
        return direct
    }

    /// How many transactions the test run's PgBouncer has passed to `database` (its
    /// `SHOW STATS`), or nil when it has no pool for it.
    package static func poolerTransactions(database: String) async throws -> Int? {
        var admin = try PostgresLocation(url: try await pooler())
        (admin.database, admin.poolMode) = ("pgbouncer", .session)
        let stats = try await ChildProcess.run(["psql", admin.description, "-q", "-tA", "-c", "SHOW STATS"])
        // database|total_xact_count|...
        for line in stats.split(separator: "\n") {
            let columns = line.split(separator: "|", omittingEmptySubsequences: false)
            if columns.count > 1, columns[0] == database { return Int(columns[1]) }
        }
        return nil
    }

    /// Creates the database `name` on the server at the administrative URL `admin`.
    static func createDatabase(_ name: String, on admin: String) async throws -> PostgresLocation {
        _ = try await ChildProcess.run(["psql", admin, "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)"])
        return try database(name, on: admin)
    }

    /// Where the database `name` is on the server at `admin`.
    static func database(_ name: String, on admin: String) throws -> PostgresLocation {
        var components = URLComponents(string: admin)!
        components.path = "/" + name
        return try PostgresLocation(url: components.string!)
    }

    /// Runs one SQL statement with `psql` and returns what it printed (unaligned, no headers).
    package static func query(_ location: PostgresLocation, _ sql: String) async throws -> String {
        // libpq knows no pool_mode; psql's simple statements pass a pooler in any mode.
        var location = location
        location.poolMode = .session
        return try await ChildProcess.run(["psql", location.description, "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static let cluster = Task<String, any Error> {
        if let url = ProcessInfo.processInfo.environment["LEARNSYNC_POSTGRES_URL"], !url.isEmpty { return url }
        return try await start("learnsync-pg", ["start", "auto"], environment: ["LEARNSYNC_POSTGRES_FAST": "1"])
    }

    private static let bouncer = Task<String, any Error> {
        let upstream = try PostgresLocation(url: try await server())
        return try await start("learnsync-pgbouncer", ["pgbouncer", "\(upstream.host):\(upstream.port)"])
    }

    /// Runs `Tools/postgres COMMAND DIR ARGUMENTS…` in a fresh temporary folder named after
    /// `name`, and returns the URL it prints; the service is stopped (`Tools/postgres stop DIR`)
    /// and its folder removed when the test process exits.
    private static func start(_ name: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid())").path
        let url = try await ChildProcess.run([toolPath(), arguments[0], directory] + arguments.dropFirst(), environment: environment)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let first = started.withLock { started in
            started.append(directory)
            return started.count == 1
        }
        if first {
            atexit {
                // The pooler before the cluster it stands in front of.
                for directory in TestPostgres.started.withLock({ $0 }).reversed() {
                    _ = try? ChildProcess.run([TestPostgres.toolPath(), "stop", directory])
                    try? FileManager.default.removeItem(atPath: directory)
                }
            }
        }
        return url
    }

    /// The folders of the services started, in order.
    private static let started = Locked<[String]>([])

    /// `Tools/postgres` of this package: tests run from the package's root.
    static func toolPath() -> String {
        let fromRoot = FileManager.default.currentDirectoryPath + "/Tools/postgres"
        if FileManager.default.isExecutableFile(atPath: fromRoot) { return fromRoot }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tools/postgres").path
    }
}

/// A PostgreSQL store on a fresh database, its connection pool running and migrated, for tests
/// that drive a store without a server's service group. The pool stops when this is released.
package final class RunningPostgresStore: Sendable {
    package let store: PostgresServerStore
    /// The fresh database the store runs on.
    package let location: PostgresLocation
    private let task: Task<Void, any Error>

    /// A store on a fresh database named after `label`, reached through the test run's
    /// PgBouncer in transaction mode when `throughPooler` (listening for live notices on the
    /// database itself).
    package init(_ label: String, throughPooler: Bool = false) async throws {
        var logger = Logger(label: "learnsync.test.postgres")
        logger.logLevel = .warning
        location = try await TestPostgres.freshDatabase(label, throughPooler: throughPooler)
        let listen = throughPooler ? try await TestPostgres.direct(location) : nil
        // A request waits up to 2 minutes for a pool connection, not the server's 10 s: the
        // test run's hundreds of tests on two cores have held the whole test process up for
        // 11–25 s, and a test of something else must not fail as if PostgreSQL were away.
        // `PostgresReachabilityTests` tests the deadline itself, with stores of their own.
        store = PostgresServerStore(location: location, listenLocation: listen, logger: logger, leaseDeadline: .seconds(120))
        let store = store
        task = Task { try await store.run() }
        try await store.prepare()
    }

    /// Stops the connection pool now: every later lease fails at once.
    package func stop() { task.cancel() }

    deinit { task.cancel() }
}
