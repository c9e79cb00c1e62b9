public import ArgumentParser
import Foundation
import Hummingbird
import LearnSyncPostgres
import LearnSyncProtocol
import LearnSyncServer
import NIOCore
import Logging

struct ServeCommand: AsyncParsableCommand {
    /// The server's defaults, which the options show and start from.
    private static let defaults = ServerConfiguration()
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the sync server on an embedded SQLite file or on PostgreSQL (stops cleanly on Ctrl-C or SIGTERM).",
        discussion: """
            --database takes a file path (SQLite, created if missing; one server process) or a PostgreSQL URL \
            postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require][&host=SOCKET-DIR][&pool_mode=session|transaction], \
            which several server processes may share. The password may come from PGPASSWORD instead. \
            pool_mode=transaction names a pooler in transaction mode (PgBouncer): no statement is prepared, and \
            --listen-database should reach PostgreSQL itself for live notices across processes.
            """)

    @Option(help: "The address to listen on.") var host = Self.defaults.host
    @Option(help: "The TCP port (0 picks a free one).") var port = Self.defaults.port
    @Option(help: ArgumentHelp("A SQLite file (created if missing) or a postgres:// URL.", valueName: "path-or-url"))
    var database = Self.defaults.databasePath
    @Option(help: "Most PostgreSQL connections this process opens.") var databaseConnections = 16
    @Option(help: ArgumentHelp(
        "A postgres:// URL reaching PostgreSQL itself, where live notices are listened for (one connection), when --database names a pooler in transaction mode.",
        valueName: "url"))
    var listenDatabase: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"
    @Option(help: ArgumentHelp("Delete guests that never attached to an account after this many days without a sync.", valueName: "days"))
    var guestRetention = Int(Self.defaults.guestRetention.components.seconds / 86_400)
    @Option(help: ArgumentHelp("The address learners reach the server at, naming them in xAPI exports (default: http://HOST from the request).", valueName: "url"))
    var publicURL: String?
    @Option(help: ArgumentHelp("A reverse proxy's address, trusted to name the client in X-Forwarded-For (repeatable).", valueName: "ip"))
    var trustedProxy: [String] = []
    @Option(help: ArgumentHelp("Seconds a connection may take to send a request's head.", valueName: "seconds")) var headTimeout = Int(Self.defaults.headTimeout.components.seconds)
    @Option(help: ArgumentHelp("Seconds a request's body may take after its head, and a client may stop taking an answer once the server's buffers for it are full.", valueName: "seconds")) var bodyTimeout = Int(Self.defaults.bodyTimeout.components.seconds)
    @Option(help: "Most connections open at once, live streams included (more wait in the backlog).") var maxConnections = Self.defaults.maxConnections
    @Option(help: ArgumentHelp("Seconds between heartbeats on an idle live stream (1 to 15: devices drop a stream silent for 45 s).", valueName: "seconds"))
    var liveHeartbeat = Int(Self.defaults.liveHeartbeat.components.seconds)
    @Option(help: "Most connections one client address may hold at once (a trusted proxy's are not capped).")
    var maxConnectionsPerAddress = Self.defaults.maxConnectionsPerAddress
    @Option(help: "Sign-ups one client address may make in 15 minutes (and five times as many guests).") var signUpsPerAddress = Self.defaults.signUpsPerAddress
    @Option(help: "Events one learner (an account with its guests) may store.") var maxEventsPerLearner = Self.defaults.maxEventsPerLearner
    @Option(help: "The bcrypt cost of new password hashes (4 to 31; lower than 12 only for tests).") var passwordCost = Int(Self.defaults.passwordCost)
    @Option(help: ArgumentHelp(
        "Publish Prometheus metrics at http://HOST:PORT/metrics, a listener of its own (0 picks a free port; default: none).",
        valueName: "port"))
    var metricsPort: Int?
    @Option(help: ArgumentHelp("The address the metrics listener binds to (keep it private).", valueName: "host"))
    var metricsHost = "127.0.0.1"
    @Option(help: ArgumentHelp(
        "Where erasures are written outside the database, and made again at start after a restore (default: DATABASE.erasures beside a SQLite file; none with PostgreSQL).",
        valueName: "path"))
    var erasureJournal: String?
    @Option(help: ArgumentHelp(
        "How a SQLite file's commits reach the disk: normal (a power cut may roll back the last commits; devices send them again) or full (each commit flushed).",
        valueName: "normal|full"))
    var sqliteSynchronous: SQLiteSynchronous = .normal
    @OptionGroup var catalog: CatalogOptions

    func validate() throws {
        if let metricsPort, !(0...65_535).contains(metricsPort) { throw ValidationError("--metrics-port must be 0 to 65535") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard (1...36_500).contains(guestRetention) else { throw ValidationError("--guest-retention must be 1 to 36500 days") }
        guard (1...3600).contains(headTimeout), (1...3600).contains(bodyTimeout) else {
            throw ValidationError("--head-timeout and --body-timeout must be 1 to 3600 seconds")
        }
        guard (4...31).contains(passwordCost) else { throw ValidationError("--password-cost must be 4 to 31") }
        guard (1...LiveStreamLimits.heartbeatSeconds).contains(liveHeartbeat) else {
            throw ValidationError("--live-heartbeat must be 1 to \(LiveStreamLimits.heartbeatSeconds) seconds")
        }
        guard maxConnections >= 1, maxConnectionsPerAddress >= 1, signUpsPerAddress >= 1, maxEventsPerLearner >= 1 else {
            throw ValidationError(
                "--max-connections, --max-connections-per-address, --sign-ups-per-address and --max-events-per-learner must be at least 1")
        }
        if let publicURL { _ = try serverURL(publicURL, insecure: true, option: "--public-url") }
        guard (1...1000).contains(databaseConnections) else { throw ValidationError("--database-connections must be 1 to 1000") }
        let store: ServerDatabase
        do {
            store = try ServerDatabase(database)
        } catch {
            throw ValidationError("--database: \(error)")
        }
        if let listenDatabase {
            guard case .postgres = store else { throw ValidationError("--listen-database applies to a PostgreSQL --database only") }
            _ = try listenLocation(listenDatabase)
        } else if case .postgres(let location) = store, location.poolMode == .session, databaseConnections < 2 {
            throw ValidationError("--database-connections must be at least 2: one of them listens for live notices (or give --listen-database)")
        }
    }

    /// `--listen-database`'s location: PostgreSQL itself, or a pooler in session mode.
    private func listenLocation(_ url: String) throws -> PostgresLocation {
        let location: PostgresLocation
        do {
            location = try PostgresLocation(url: url)
        } catch {
            throw ValidationError("--listen-database: \(error)")
        }
        guard location.poolMode == .session else {
            throw ValidationError("--listen-database must reach PostgreSQL itself (a LISTEN cannot pass a pooler in transaction mode)")
        }
        return location
    }

    /// The addresses `serve` listens on, for an error that cannot tell which one failed.
    private var listeners: String {
        metricsPort.map { "\(host):\(port) or the metrics listener's \(metricsHost):\($0)" } ?? "\(host):\(port)"
    }

    func run() async throws {
        var logger = Logger(label: "learnsync.server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let host = host
        var configuration = ServerConfiguration(
            host: host, port: port, databasePath: database, passwordCost: UInt8(passwordCost),
            guestRetention: .seconds(guestRetention * 86_400),
            publicURL: publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }, trustedProxies: Set(trustedProxy))
        configuration.headTimeout = .seconds(headTimeout)
        configuration.bodyTimeout = .seconds(bodyTimeout)
        configuration.maxConnections = maxConnections
        configuration.liveHeartbeat = .seconds(liveHeartbeat)
        configuration.maxConnectionsPerAddress = maxConnectionsPerAddress
        configuration.signUpsPerAddress = signUpsPerAddress
        configuration.maxEventsPerLearner = maxEventsPerLearner
        let metricsHost = metricsHost
        configuration.metrics = metricsPort.map { MetricsExport.prometheus(host: metricsHost, port: $0) }
        var database = try ServerDatabase(database)
        if case .postgres(var location) = database {
            location.maxConnections = databaseConnections
            database = .postgres(location)
        }
        logger.notice("LearnSync server database: \(database)")
        let listen = try listenDatabase.map(listenLocation)
        if case .postgres(let location) = database, location.poolMode == .transaction, listen == nil {
            logger.warning(
                "--database names a pooler in transaction mode and no --listen-database: this process's live streams hear only of its own pushes, revocations and erasures (the other processes still hear of them)")
        }
        if case .postgres = database, sqliteSynchronous != .normal {
            logger.warning("--sqlite-synchronous applies to a SQLite file only: PostgreSQL's own synchronous_commit decides")
        }
        switch (database, erasureJournal) {
        case (_, let path?): configuration.erasureJournal = path
        case (.sqlite(let path), nil): configuration.erasureJournal = path + ".erasures"
        case (.postgres, nil):
            logger.warning("no --erasure-journal: a database restored from an older backup or dump brings back learners erased since")
        }
        let app = try await buildApplication(
            configuration: configuration, catalog: try catalog.load(),
            storage: database.storage(sqliteSynchronous: sqliteSynchronous, postgresConnectDeadline: .seconds(15), postgresListen: listen),
            logger: logger,
            onServerRunning: { [logger] port in logger.notice("LearnSync server listening on http://\(host):\(port)") },
            onMetricsRunning: { [logger] port in logger.notice("LearnSync metrics at http://\(metricsHost):\(port)/metrics") })
        do {
            try await app.runService()
        } catch is CancellationError {
            // Stopped by Ctrl-C or SIGTERM before it took a request.
            logger.notice("LearnSync server stopped before it started")
        } catch let error as SocketAddressError {
            throw ServerError("cannot listen on \(listeners): \(error)", cause: error)
        } catch let error as IOError {
            // A listener could not bind: the port is taken, or needs privileges.
            throw ServerError("cannot listen on \(listeners): \(String(cString: strerror(error.errnoCode)))", cause: error)
        }
    }
}

extension SQLiteSynchronous: ExpressibleByArgument {}
