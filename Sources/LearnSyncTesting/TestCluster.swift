import Foundation
package import LearnSyncPostgres

/// A PostgreSQL cluster of its own for a test that crashes, replicates or promotes one: started
/// with `Tools/postgres` on a free loopback port, durable (fsync and synchronous commit on), as an
/// unprivileged user. ``stop()`` stops it and removes its folder.
package final class TestCluster: Sendable {
    /// The cluster's folder.
    package let directory: String
    /// The administrative URL (the `postgres` database).
    package let url: String
    /// The loopback port it listens on.
    package let port: Int

    private init(directory: String, url: String) throws {
        self.directory = directory
        self.url = url
        guard let port = URLComponents(string: url)?.port else { throw TestClusterError("Tools/postgres printed no port: \(url)") }
        self.port = port
    }

    /// A new cluster in a new temporary folder.
    package static func start(_ label: String) async throws -> TestCluster {
        let directory = Self.newDirectory(label)
        return try TestCluster(directory: directory, url: try await tool(["start", directory, "auto"]))
    }

    /// An asynchronous streaming standby of `primary` (`pg_basebackup -R`), started.
    package static func standby(of primary: TestCluster, label: String) async throws -> TestCluster {
        let directory = Self.newDirectory(label)
        _ = try await tool(["standby", directory, "\(primary.port)"])
        return try TestCluster(directory: directory, url: try await tool(["start", directory, "auto"]))
    }

    /// The database `name` on this cluster.
    package func database(_ name: String) throws -> PostgresLocation { try TestPostgres.database(name, on: url) }

    /// Creates the database `name` and returns where it is.
    package func createDatabase(_ name: String) async throws -> PostgresLocation { try await TestPostgres.createDatabase(name, on: url) }

    /// Kills the postmaster with SIGKILL, as a crash of the machine's database would.
    package func kill() async throws { _ = try await Self.tool(["kill", directory]) }

    /// Stops this standby receiving from its primary (`primary_conninfo` emptied and reloaded),
    /// as a partition does: what the primary commits from now on never reaches it.
    package func detach() async throws {
        _ = try await ChildProcess.run([
            "psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", "ALTER SYSTEM SET primary_conninfo = ''", "-c", "SELECT pg_reload_conf()",
        ])
    }

    /// Promotes this standby to a primary and returns once it takes writes.
    package func promote() async throws { _ = try await Self.tool(["promote", directory]) }

    /// Stops the cluster (if it runs) and removes its folder.
    package func stop() async {
        _ = try? await Self.tool(["stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func newDirectory(_ label: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-\(label)-\(UUID().uuidString.prefix(8))").path
    }

    private static func tool(_ arguments: [String]) async throws -> String {
        try await ChildProcess.run([TestPostgres.toolPath()] + arguments).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A ``TestCluster`` could not be used.
package struct TestClusterError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
