import Foundation
import LearnSyncTesting

/// The full sync alone, on the SQLite store and on PostgreSQL (one process each) in turns,
/// three times: `learnsync-bench --only "full sync on PostgreSQL"` measures a change to the
/// full sync's PostgreSQL path in a few minutes, against the SQLite store of the same minutes.
extension PostgresWorkloads {
    func fullSyncTurns() async throws -> [Row] {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw BenchError("build the learnsync product (Tools/bench does)") }
        let cluster = folder.appendingPathComponent("postgres-turns").path
        let admin = try await ChildProcess.run([tool, "start", cluster, "auto"]).trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? ChildProcess.run([tool, "stop", cluster]) }
        _ = try await ChildProcess.run(["psql", admin, "-q", "-c", "CREATE DATABASE bench_turns"])
        let database = admin.replacingOccurrences(of: "/postgres?", with: "/bench_turns?")
        let logs = folder.appendingPathComponent("logs-turns")
        for store in ["sqlite", "postgres"] {
            try FileManager.default.createDirectory(at: logs.appendingPathComponent(store), withIntermediateDirectories: true)
        }
        let sqlite = try await ServerProcess.start(
            1, binary: binary, database: folder.appendingPathComponent("bench-turns.sqlite").path, folder: logs.appendingPathComponent("sqlite"))
        defer { sqlite.forEach { $0.stop() } }
        let postgres = try await ServerProcess.start(1, binary: binary, database: database, folder: logs.appendingPathComponent("postgres"))
        defer { postgres.forEach { $0.stop() } }
        var ratios = [Double](), lines = [String]()
        for turn in 1...3 {
            let base = try await endToEnd(pool: ServerPool(sqlite.map(\.url), seed: 21), label: "turn-sqlite-\(turn)")
            let full = try await endToEnd(pool: ServerPool(postgres.map(\.url), seed: 21), label: "turn-postgres-\(turn)")
            ratios.append(full.rate / base.rate)
            lines.append(String(
                format: "%.0f/%.0f events/s (push %.2f/%.2f s, pull %.2f/%.2f s)", full.rate, base.rate, full.push, base.push,
                full.total - full.push, base.total - base.push))
        }
        let median = Measure.median(ratios)
        return [Row(
            workload: "full sync on PostgreSQL against the SQLite store, 1 process each, 3 turns (PostgreSQL/SQLite)",
            measure: "events/s", value: lines.joined(separator: "; "), baseline: "the SQLite store in the same turn",
            ratio: String(format: "%.2f× (median; %@)", median, ratios.map { String(format: "%.2f", $0) }.joined(separator: ", ")),
            target: "≥ 0.8×", met: median >= 0.8)]
    }
}
