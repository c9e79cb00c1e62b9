package import Foundation
import GRDB
package import LearnSyncModels
import LearnSyncServer
package import LearnSyncTestSupport

/// An ``EmbeddedServer`` on a SQLite file that can be backed up while it runs and restored from
/// a backup, as an operator would after a bad deploy or a broken disk: stopped, its database
/// replaced by the backup, started again at the same address. For simulations and tests of a
/// server that goes back in time.
package final class RestorableServer: Sendable {
    private let path: String
    private let folder: URL
    private let passwordCost: UInt8
    private let clock: any WallClock
    private let state: Locked<(server: EmbeddedServer, backups: Int)>

    /// The server's address, the same across restores.
    package let url: URL

    private init(path: String, folder: URL, passwordCost: UInt8, clock: any WallClock, server: EmbeddedServer) {
        self.path = path
        self.folder = folder
        self.passwordCost = passwordCost
        self.clock = clock
        url = server.url
        state = Locked((server, 0))
    }

    /// Starts a server on the SQLite file `databasePath`; backups go beside it.
    package static func start(databasePath: String, catalog: Catalog, passwordCost: UInt8 = 12, clock: any WallClock = SystemWallClock()) async throws -> RestorableServer {
        let server = try await EmbeddedServer.start(databasePath: databasePath, catalog: catalog, passwordCost: passwordCost, clock: clock)
        let folder = URL(fileURLWithPath: databasePath).deletingLastPathComponent()
        return RestorableServer(path: databasePath, folder: folder, passwordCost: passwordCost, clock: clock, server: server)
    }

    private var server: EmbeddedServer { state.withLock { $0.server } }

    /// Backs the database up while the server runs (SQLite's online backup: a consistent copy
    /// of the last commit); returns the backup's number.
    package func backup() throws -> Int {
        let number = state.withLock { state in
            state.backups += 1
            return state.backups
        }
        try DatabaseQueue(path: path).backup(to: DatabaseQueue(path: backupPath(number)))
        return number
    }

    /// Stops the server, replaces its database with backup `number` and starts it again at the
    /// same address, serving `catalog`.
    package func restore(_ number: Int, catalog: Catalog) async throws {
        await server.stop()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try FileManager.default.copyItem(atPath: backupPath(number), toPath: path)
        let port = url.port ?? 0
        let restarted = try await EmbeddedServer.start(
            databasePath: path, catalog: catalog, passwordCost: passwordCost, clock: clock, configure: { $0.port = port })
        state.withLock { $0.server = restarted }
    }

    /// Publishes a catalog on the running server (``EmbeddedServer/publish(_:)``).
    package func publish(_ catalog: Catalog) async throws { try await server.publish(catalog) }

    /// Runs the retention sweep now (``EmbeddedServer/sweep(guestRetention:)``).
    package func sweep(guestRetention: Int64) async throws { try await server.sweep(guestRetention: guestRetention) }

    package func stop() async { await server.stop() }

    /// This server as a simulation drives it: publishes, sweeps, backups and restores.
    package func simulated(clock: OffsetWallClock? = nil) -> SimulatedServer {
        SimulatedServer(
            url: url, clock: clock, publish: { try await self.publish($0) }, sweep: { try await self.sweep(guestRetention: $0) },
            backup: { try self.backup() }, restore: { try await self.restore($0, catalog: $1) })
    }

    private func backupPath(_ number: Int) -> String { folder.appendingPathComponent("backup-\(number).sqlite").path }
}
