package import Foundation
import Hummingbird
package import LearnSyncModels
package import LearnSyncPostgres
package import LearnSyncServer
import Logging
import ServiceLifecycle

/// A real LearnSync server on a free loopback port, in this process, on a SQLite file: for the
/// demo, simulations, scenarios and loopback tests. It can be stopped and started again on the
/// same database, as a restart would.
package final class EmbeddedServer: Sendable {
    /// The server's base URL, e.g. `http://127.0.0.1:49152`.
    package let url: URL
    private let service: SyncService
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(url: URL, service: SyncService, group: ServiceGroup, task: Task<Void, any Error>) {
        self.url = url
        self.service = service
        self.group = group
        self.task = task
    }

    /// Starts a server on the SQLite file `databasePath` and returns once it listens.
    /// - Parameters:
    ///   - clock: the server's wall clock (a skewed one in simulations).
    ///   - configure: changes to the configuration (timeouts, connection limit).
    package static func start(
        databasePath: String, catalog: Catalog, passwordCost: UInt8 = 12, clock: any WallClock = SystemWallClock(),
        configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> EmbeddedServer {
        try await start(database: .sqlite(path: databasePath), catalog: catalog, passwordCost: passwordCost, clock: clock, configure: configure)
    }

    /// Starts a server on `database` (SQLite or PostgreSQL, migrated first, listening for live
    /// notices on `postgresListen` when given) and returns once it listens.
    package static func start(
        database: ServerDatabase, postgresListen: PostgresLocation? = nil, catalog: Catalog, passwordCost: UInt8 = 12,
        clock: any WallClock = SystemWallClock(), configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> EmbeddedServer {
        var logger = Logger(label: "learnsync.embedded")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, passwordCost: passwordCost)
        // Every device of an embedded server signs up from the loopback address.
        configuration.signUpsPerAddress = 100_000
        configure(&configuration)
        // Erasures are journaled beside a SQLite file, as `serve` does.
        var journal = configuration.erasureJournal
        if journal == nil, case .sqlite(let path) = database, path != ":memory:" { journal = path + ".erasures" }
        let service = SyncService(
            store: try database.openStore(logger: logger, postgresListen: postgresListen), catalog: catalog, clock: clock, passwordCost: passwordCost,
            signUpsPerAddress: configuration.signUpsPerAddress, eventsPerLearner: configuration.maxEventsPerLearner,
            erasureJournal: journal.map(ErasureJournal.init(path:)))
        let app = buildApplication(configuration: configuration, service: service, logger: logger, onServerRunning: { continuation.yield($0) })
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            if case .failure(let error) = await task.result { throw ServerError("the embedded server did not start: \(error)", cause: error) }
            throw ServerError("the embedded server did not start")
        }
        return EmbeddedServer(url: URL(string: "http://127.0.0.1:\(port)")!, service: service, group: group, task: task)
    }

    /// Serves another catalog while the server runs (an upgrade to new course versions), with
    /// every version served before (``SyncService/publish(_:)``).
    package func publish(_ catalog: Catalog) async throws { try await service.publish(catalog) }

    /// Runs the retention sweep now (expired guests, ended sessions), as the hourly service does.
    @discardableResult
    package func sweep(guestRetention: Int64 = 90 * 86_400_000) async throws -> SweepReport {
        try await service.sweep(guestRetention: guestRetention)
    }

    /// Stops the server gracefully and waits until it has.
    package func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}
