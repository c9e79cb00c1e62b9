import Foundation
import LearnSyncProtocol
import LearnSyncTesting

/// What PostgreSQL itself takes for the work of the syncs, without the server: the floors the
/// PostgreSQL rows are read against.
extension PostgresWorkloads {
    /// What PostgreSQL itself takes for the least a push writes: one durable INSERT of a row
    /// into a table keyed as the feed is (random root, position; random replica, counter) per
    /// transaction, from 32 pgbench clients on this machine. Its CPU per commit is the floor
    /// of the sync's.
    func insertFloor(admin: String, postmaster: Int32) async throws -> Row {
        _ = try await ChildProcess.run(["psql", admin, "-q", "-c", "CREATE DATABASE bench_floor"])
        let database = admin.replacingOccurrences(of: "/postgres?", with: "/bench_floor?")
        _ = try await ChildProcess.run([
            "psql", database, "-q", "-c",
            "CREATE TABLE floor_event (root TEXT, pos BIGINT, replica TEXT, seq BIGINT, type TEXT, item TEXT, PRIMARY KEY (root, pos), UNIQUE (replica, seq))",
        ])
        let script = folder.appendingPathComponent("floor.sql")
        try Data("INSERT INTO floor_event VALUES (md5(random()::text), 1, md5(random()::text), 1, 'lesson.started', 'keep-secure');\n".utf8)
            .write(to: script)
        let before = Measure.treeCPU([postmaster])
        let started = ContinuousClock.now
        // A count of transactions: the same work in every run.
        let perClient = quick ? 500 : 2_000
        let report = try await ChildProcess.run(["pgbench", "-n", "-M", "prepared", "-c", "32", "-j", "2", "-t", "\(perClient)", "-f", script.path, database])
        let elapsed = (ContinuousClock.now - started) / .seconds(1)
        let cpu = Measure.treeCPU([postmaster]) - before
        guard let line = report.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
            let tps = line.split(separator: " ").dropFirst(2).first.flatMap({ Double($0) })
        else { throw BenchError("pgbench gave no rate:\n\(report)") }
        return Row(
            workload: "PostgreSQL floor: one durable INSERT per transaction, 32 pgbench clients (\(32 * perClient) transactions)",
            measure: "commits/s; database CPU per commit", value: String(format: "%.0f commits/s; PostgreSQL CPU %.0f µs/commit", tps, cpu / (tps * elapsed) * 1e6),
            baseline: "-", ratio: "-", target: "-", met: nil)
    }

    /// What PostgreSQL itself takes to store the full sync's feed rows and read them back: the
    /// rows device A's push stored (in database `database`), copied by psql into a table keyed
    /// and indexed as the feed is, in the push's batches, one durable transaction each, then read
    /// in the pull's pages (the server's page query, rows sent to psql). Beside the push's time
    /// through the server (`pushSeconds`).
    func copyFloor(database: String, pushSeconds: Double) async throws -> Row {
        let rows = folder.appendingPathComponent("floor-rows.txt").path
        _ = try await ChildProcess.run([
            "psql", database, "-q", "-c", "CREATE TABLE floor_feed (LIKE event INCLUDING ALL)", "-c",
            "\\copy (SELECT * FROM event WHERE root = (SELECT root FROM event GROUP BY root ORDER BY count(*) DESC LIMIT 1) ORDER BY pos) TO '\(rows)'",
        ])
        let lines = try String(contentsOfFile: rows, encoding: .utf8).split(separator: "\n")
        let batch = ProtocolLimits.maxEventsPerRequest, page = ProtocolLimits.maxPageSize
        var copies = "", reads = ""
        for (index, start) in stride(from: 0, to: lines.count, by: batch).enumerated() {
            let file = folder.appendingPathComponent("floor-batch-\(index).txt")
            try Data((lines[start..<min(lines.count, start + batch)].joined(separator: "\n") + "\n").utf8).write(to: file)
            copies += "\\copy floor_feed FROM '\(file.path)'\n"
        }
        let columns = "pos, replica, seq, learner, hlc, course, type, item, answers, seen, choice, seconds, position, version, COALESCE(stamp, 0)"
        for after in stride(from: 0, to: lines.count, by: page) {
            reads += "\\copy (SELECT \(columns) FROM floor_feed WHERE root = (SELECT root FROM floor_feed LIMIT 1) "
                + "AND pos > \(after) AND pos <= \(lines.count) ORDER BY pos LIMIT \(page)) TO '/dev/null'\n"
        }
        func run(_ script: String, _ name: String) async throws -> Double {
            let file = folder.appendingPathComponent(name)
            try Data(script.utf8).write(to: file)
            return try await Measure.time { _ = try await ChildProcess.run(["psql", database, "-q", "-v", "ON_ERROR_STOP=1", "-f", file.path]) }
        }
        let copied = try await run(copies, "floor-copy.sql"), read = try await run(reads, "floor-read.sql")
        return Row(
            workload: "PostgreSQL floor: the full sync's \(lines.count) feed rows copied in by psql (COPY, \(batch) a durable transaction) and read back in pages of \(page)",
            measure: "seconds", value: String(format: "copy in %.2f s, read %.2f s", copied, read),
            baseline: String(format: "push through 1 server process %.2f s", pushSeconds),
            ratio: String(format: "%.2f×", copied / pushSeconds), target: "-", met: nil)
    }
}
