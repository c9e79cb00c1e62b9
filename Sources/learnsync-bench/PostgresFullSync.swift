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
        for store in ["sqlite", "sqlite-full", "postgres"] {
            try FileManager.default.createDirectory(at: logs.appendingPathComponent(store), withIntermediateDirectories: true)
        }
        // The SQLite store twice: as `serve` runs by default (WAL, `synchronous=NORMAL`: a commit
        // survives the process's crash, not the machine's), and flushing every commit as
        // durable PostgreSQL does (`--sqlite-synchronous full`), the baseline the target is
        // judged against.
        let sqlite = try await ServerProcess.start(
            1, binary: binary, database: folder.appendingPathComponent("bench-turns.sqlite").path, folder: logs.appendingPathComponent("sqlite"))
        defer { sqlite.forEach { $0.stop() } }
        let durable = try await ServerProcess.start(
            1, binary: binary, database: folder.appendingPathComponent("bench-turns-full.sqlite").path,
            folder: logs.appendingPathComponent("sqlite-full"), arguments: ["--sqlite-synchronous", "full"])
        defer { durable.forEach { $0.stop() } }
        let postgres = try await ServerProcess.start(1, binary: binary, database: database, folder: logs.appendingPathComponent("postgres"))
        defer { postgres.forEach { $0.stop() } }
        var ratios = [Double](), defaultRatios = [Double](), lines = [String]()
        for turn in 1...3 {
            let base = try await endToEnd(pool: ServerPool(sqlite.map(\.url), seed: 21), label: "turn-sqlite-\(turn)")
            let flushed = try await endToEnd(pool: ServerPool(durable.map(\.url), seed: 21), label: "turn-sqlite-full-\(turn)")
            let full = try await endToEnd(pool: ServerPool(postgres.map(\.url), seed: 21), label: "turn-postgres-\(turn)")
            ratios.append(full.rate / flushed.rate)
            defaultRatios.append(full.rate / base.rate)
            lines.append(String(
                format: "%.0f/%.0f/%.0f events/s (push %.2f/%.2f/%.2f s, pull %.2f/%.2f/%.2f s)", full.rate, flushed.rate, base.rate,
                full.push, flushed.push, base.push, full.total - full.push, flushed.total - flushed.push, base.total - base.push))
        }
        let median = Measure.median(ratios)
        let list = { (values: [Double]) in values.map { String(format: "%.2f", $0) }.joined(separator: ", ") }
        return [Row(
            workload: "full sync on PostgreSQL against the SQLite store, 1 process each, 3 turns (PostgreSQL/SQLite synchronous=full/SQLite default)",
            measure: "events/s", value: lines.joined(separator: "; "),
            baseline: "the SQLite store in the same turn, each commit flushed as on PostgreSQL",
            ratio: String(
                format: "%.2f× (median; %@); %.2f× against the default synchronous=normal (%@)", median, list(ratios),
                Measure.median(defaultRatios), list(defaultRatios)),
            target: "≥ 0.8×", met: median >= 0.8)]
    }
}
