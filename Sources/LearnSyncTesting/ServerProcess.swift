package import Foundation

/// A `learnsync serve` process started by a test or a benchmark, and the address it listens on.
package struct ServerProcess: Sendable {
    package let child: ChildProcess
    package let url: URL

    /// Starts `count` server processes of `binary` on `database` (a SQLite file or a PostgreSQL
    /// URL), each on a free loopback port, and returns once every one listens.
    /// - Parameter arguments: more `serve` options (the password cost is 4: for tests only).
    package static func start(
        _ count: Int, binary: URL, database: String, folder: URL, arguments: [String] = []
    ) async throws -> [ServerProcess] {
        var servers = [ServerProcess]()
        for index in 0..<count {
            let child = try ChildProcess(
                [binary.path, "serve", "--database", database, "--port", "0", "--password-cost", "4", "--sign-ups-per-address", "1000000",
                 "--log-level", "notice"] + arguments,
                outputPath: folder.appendingPathComponent("server-\(index).out").path,
                errorPath: folder.appendingPathComponent("server-\(index).err").path)
            var url: URL?
            for _ in 0..<600 where url == nil {
                try await Task.sleep(for: .milliseconds(50))
                let log = child.output + child.errors
                if let range = log.range(of: #"listening on http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                    url = URL(string: String(log[range].dropFirst("listening on ".count)))
                }
            }
            guard let url else {
                child.kill()
                servers.forEach { $0.child.kill() }
                throw ChildProcessError(description: "server \(index) did not start: \(child.errors)")
            }
            servers.append(ServerProcess(child: child, url: url))
        }
        return servers
    }

    /// The metrics address the process logged (with `--metrics-port`), once it listens.
    package var metricsURL: URL? {
        let log = child.output + child.errors
        guard let range = log.range(of: #"metrics at http://127\.0\.0\.1:[0-9]+/metrics"#, options: .regularExpression) else { return nil }
        return URL(string: String(log[range].dropFirst("metrics at ".count)))
    }

    /// The metrics address, waited for up to 5 s after the process listens.
    package func waitForMetricsURL() async throws -> URL? {
        for _ in 0..<100 {
            if let metricsURL { return metricsURL }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Stops the process gracefully (SIGTERM) and waits for it.
    package func stop() {
        child.terminate()
        child.wait()
    }
}
