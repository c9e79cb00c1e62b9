import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncPostgres
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting

/// The server on PostgreSQL with 1, 2 and 4 `learnsync serve` processes on one database: the
/// concurrent-clients and end-to-end workloads of the SQLite store, each process behind a
/// load balancer (``ServerPool``), and 2 processes through PgBouncer in transaction mode. The
/// cluster is a throwaway one started with `Tools/postgres`, durable (fsync and synchronous
/// commit on), on this machine.
struct PostgresWorkloads {
    let catalog: Catalog
    let folder: URL
    let quick: Bool

    var course: Course { catalog[SampleCatalog.courseID]! }
    /// The release `learnsync` beside this benchmark (Tools/bench builds both).
    var binary: URL { URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("learnsync") }
    var tool: String { FileManager.default.currentDirectoryPath + "/Tools/postgres" }

    func rows() async throws -> [Row] {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw BenchError("build the learnsync product (Tools/bench does)") }
        let cluster = folder.appendingPathComponent("postgres").path
        let admin = try await ChildProcess.run([tool, "start", cluster, "auto"]).trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? ChildProcess.run([tool, "stop", cluster]) }
        let pidFile = try String(contentsOfFile: cluster + "/postmaster.pid", encoding: .utf8)
        guard let postmaster = pidFile.split(separator: "\n").first.flatMap({ Int32($0) }) else { throw BenchError("no postmaster.pid") }
        var bare: (String, Double)?
        // The SQLite store through the same binary, clients and load balancer: the baseline of
        // the PostgreSQL rows, with their durability (each commit flushed, as PostgreSQL's
        // fsync and synchronous_commit do; serve's default WAL `synchronous=NORMAL` does not
        // flush a commit, and its own row shows what that costs).
        let sqliteLogs = folder.appendingPathComponent("logs-sqlite")
        try FileManager.default.createDirectory(at: sqliteLogs, withIntermediateDirectories: true)
        let sqliteServers = try await ServerProcess.start(
            1, binary: binary, database: folder.appendingPathComponent("bench-server.sqlite").path, folder: sqliteLogs,
            arguments: ["--sqlite-synchronous", "full"])
        let sqlitePool = ServerPool(sqliteServers.map(\.url), seed: 21)
        let sqliteSmall = try await smallSyncs(sqliteServers, pool: sqlitePool, bare: &bare)
        let sqliteFull = try await endToEnd(pool: sqlitePool, label: "sqlite")
        sqliteServers.forEach { $0.stop() }
        let (bareText, bareRate) = bare!
        var rows = [
            Row(
                workload: "SQLite store, each commit flushed, 1 `serve` process (the PostgreSQL rows' baseline): \(clientCount) concurrent clients doing small syncs (wrk, \(seconds) s)",
                measure: "req/s, p99", value: Self.describe(sqliteSmall), baseline: bareText,
                ratio: String(format: "%.2f×", sqliteSmall.rate / bareRate), target: "-", met: nil),
            sqliteFull.row(workload: "SQLite store, each commit flushed, 1 process: \(sqliteFull.count) events A → server → B"),
        ]
        rows.append(try await insertFloor(admin: admin, postmaster: postmaster))
        var oneProcess: Double?
        var twoProcesses: (small: Wrk.Result, full: FullSync)?
        // Directly with 1, 2 and 4 processes; then 2 processes through PgBouncer in transaction
        // mode, against the 2 direct ones.
        for (processes, pooled) in [(1, false), (2, false), (4, false), (2, true)] {
            let name = "bench_\(processes)\(pooled ? "_pgbouncer" : "")"
            _ = try await ChildProcess.run(["psql", admin, "-q", "-c", "CREATE DATABASE \(name)"])
            let direct = admin.replacingOccurrences(of: "/postgres?", with: "/\(name)?")
            var database = direct, bouncer: Int32?
            if pooled {
                let directory = folder.appendingPathComponent("pgbouncer").path
                let url = try await ChildProcess.run([tool, "pgbouncer", directory, "\(try PostgresLocation(url: admin).port)"])
                database = url.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "/postgres?", with: "/\(name)?")
                bouncer = try String(contentsOfFile: directory + "/pgbouncer.pid", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").first.flatMap { Int32($0) }
            }
            defer { if pooled { _ = try? ChildProcess.run([tool, "stop", folder.appendingPathComponent("pgbouncer").path]) } }
            let logs = folder.appendingPathComponent("logs-\(name)")
            try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
            let servers = try await ServerProcess.start(
                processes, binary: binary, database: database, folder: logs,
                arguments: ["--database-connections", "\(max(4, 32 / processes))", "--metrics-port", "0"]
                    + (pooled ? ["--listen-database", direct] : []))
            defer { servers.forEach { $0.stop() } }
            let pool = ServerPool(servers.map(\.url), seed: 21)
            let pathsBefore = try await Self.pushPaths(servers)
            let databaseProcesses = [postmaster] + (bouncer.map { [$0] } ?? [])
            let cpuBefore = Measure.treeCPU(databaseProcesses), machineBefore = Measure.machineCPU()
            let small = try await smallSyncs(servers, pool: pool, bare: &bare)
            let databaseCPU = (Measure.treeCPU(databaseProcesses) - cpuBefore) / Double(max(small.requests, 1))
            let machineAfter = Measure.machineCPU()
            let busy = (machineAfter.busy - machineBefore.busy) / max(machineAfter.total - machineBefore.total, 1)
            let pathsAfter = try await Self.pushPaths(servers)
            let quick = pathsAfter.quick - pathsBefore.quick, general = pathsAfter.general - pathsBefore.general
            let share = Double(quick) / Double(max(quick + general, 1))
            let full = try await endToEnd(pool: pool, label: name)
            let value = Self.describe(small) + String(
                format: "; %@ CPU %.0f µs/sync; %.0f %% of pushes in one statement (1 round trip, else 6); cores %.0f %% busy",
                pooled ? "PostgreSQL and PgBouncer" : "PostgreSQL", databaseCPU * 1e6, share * 100, busy * 100)
            if pooled, let twoProcesses {
                rows.append(Row(
                    workload: "PgBouncer (transaction mode, unnamed statements) before PostgreSQL, 2 server processes: \(clientCount) concurrent clients doing small syncs (wrk, \(seconds) s)",
                    measure: "req/s, p99; database CPU and round trips per sync", value: value,
                    baseline: Self.describe(twoProcesses.small) + " (PostgreSQL directly, 2 processes)",
                    ratio: String(format: "%.2f×", small.rate / twoProcesses.small.rate), target: "-", met: nil))
                var row = full.row(workload: "PgBouncer before PostgreSQL, 2 processes: \(full.count) events A → server → B")
                row.baseline = Measure.format(twoProcesses.full.rate, "events/s") + " (PostgreSQL directly, 2 processes)"
                row.ratio = String(format: "%.2f×", full.rate / twoProcesses.full.rate)
                rows.append(row)
                continue
            }
            if processes == 2 { twoProcesses = (small, full) }
            let ratio = small.rate / sqliteSmall.rate
            var target = "≥ 0.5×, p99 < 50 ms", met = ratio >= 0.5 && small.p99 < 0.05
            if let oneProcess {
                target += ", ≥ 1 process's"
                met = met && small.rate >= oneProcess
            } else {
                oneProcess = small.rate
            }
            rows.append(Row(
                workload: "PostgreSQL, \(processes) server process\(processes == 1 ? "" : "es"): \(clientCount) concurrent clients doing small syncs (wrk, \(seconds) s)",
                measure: "req/s, p99; database CPU and round trips per sync", value: value,
                baseline: Self.describe(sqliteSmall) + " (SQLite store, each commit flushed, same clients)",
                ratio: String(format: "%.2f×", ratio), target: target, met: met))
            var row = full.row(workload: "PostgreSQL, \(processes) process\(processes == 1 ? "" : "es"): \(full.count) events A → server → B")
            row.baseline = Measure.format(sqliteFull.rate, "events/s") + " (SQLite store, each commit flushed, same devices)"
            row.ratio = String(format: "%.2f×", full.rate / sqliteFull.rate)
            row.target = "≥ 0.8×"
            row.met = full.rate >= 0.8 * sqliteFull.rate
            rows.append(row)
            if processes == 1 { rows.append(try await copyFloor(database: direct, pushSeconds: full.push)) }
        }
        return rows
    }

    var clientCount: Int { 64 }
    var seconds: Int { quick ? 4 : 10 }

    /// The pushes each server process ran in one statement and as a transaction so far
    /// (`learnsync_postgres_pushes_total`), summed.
    static func pushPaths(_ servers: [ServerProcess]) async throws -> (quick: Double, general: Double) {
        var total = (quick: 0.0, general: 0.0)
        for server in servers {
            guard let url = try await server.waitForMetricsURL() else { throw BenchError("a server published no metrics") }
            let (data, _) = try await URLSession.shared.data(from: url)
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("learnsync_postgres_pushes_total{") {
                let value = line.split(separator: " ").last.flatMap { Double($0) } ?? 0
                if line.contains("one-statement") { total.quick += value } else { total.general += value }
            }
        }
        return total
    }

    /// The bare Hummingbird endpoint answering `answer` (a small sync's bytes), 64 connections.
    private func bareBaseline(answer: Data, script: URL) async throws -> (String, Double) {
        let bare = try await BareServer.start(answer: answer)
        let result = try await onOwnThread { [seconds] in try Wrk.run(url: bare.url, path: "/bare", connections: 64, seconds: seconds, script: script) }
        await bare.stop()
        return (Self.describe(result) + " (bare Hummingbird, same bytes)", result.rate)
    }

    /// 64 clients doing small syncs, split evenly over the processes (one wrk per process, run
    /// at once; rates add up, p99 is the worst of them).
    private func smallSyncs(_ servers: [ServerProcess], pool: ServerPool, bare: inout (String, Double)?) async throws -> Wrk.Result {
        let connections = clientCount, seconds = seconds
        var clients = [Wrk.Client]()
        for _ in 0..<connections {
            let learner = LearnerID.newGuest()
            let answer = try await pool.transport.send(TransportRequest(
                path: Endpoint.guests.path, headers: ["Content-Type": "application/json"],
                body: try WireCoding.encode(RegisterGuestRequest(learner: learner, secret: "benchmark-device-secret"))))
            let session = try WireCoding.decode(SessionResponse.self, from: answer.body)
            clients.append(Wrk.Client(token: session.token, replica: .random(), learner: learner))
        }
        if bare == nil {
            let sample = try await pool.transport.send(TransportRequest(
                path: Endpoint.sync.path, headers: ["Content-Type": "application/json", "Authorization": "Bearer \(clients[0].token)"],
                body: try WireCoding.encode(SyncRequest(replica: clients[0].replica, lastSeq: 0, cursor: 0, events: [], limit: 5))))
            let script = folder.appendingPathComponent("pg-bare.lua")
            try Data(Wrk.script(clients: clients, course: course).utf8).write(to: script)
            bare = try await bareBaseline(answer: sample.body, script: script)
        }
        let share = connections / servers.count
        var runs = [(URL, URL)]()
        for (index, server) in servers.enumerated() {
            let script = folder.appendingPathComponent("pg-\(servers.count)-\(index)-\(UUID().uuidString).lua")
            try Data(Wrk.script(clients: Array(clients[index * share..<(index + 1) * share]), course: course).utf8).write(to: script)
            runs.append((server.url, script))
        }
        let results = try await withThrowingTaskGroup(of: Wrk.Result.self) { group in
            for (url, script) in runs {
                group.addTask { try await onOwnThread { try Wrk.run(url: url, path: Endpoint.sync.path, connections: share, seconds: seconds, script: script) } }
            }
            return try await group.reduce(into: [Wrk.Result]()) { $0.append($1) }
        }
        return Wrk.Result(
            rate: results.map(\.rate).reduce(0, +), p50: results.map(\.p50).max() ?? 0, p99: results.map(\.p99).max() ?? 0,
            requests: results.map(\.requests).reduce(0, +))
    }

    /// What a full sync measured.
    struct FullSync {
        var count: Int
        var rate: Double
        var push: Double
        var total: Double
        var baseRate: Double

        func row(workload: String) -> Row {
            Row(
                workload: workload + " (push \(String(format: "%.1f", push)) s, pull \(String(format: "%.1f", total - push)) s)",
                measure: "events/s", value: Measure.format(rate, "events/s"),
                baseline: Measure.format(baseRate, "events/s") + " (JSON encode+decode + raw insert)",
                ratio: String(format: "%.2f×", rate / baseRate), target: "-", met: nil)
        }
    }

    /// Events from device A through the processes (each request to any of them) to device B.
    func endToEnd(pool: ServerPool, label: String) async throws -> FullSync {
        let count = quick ? 20_000 : 100_000
        let a = LearnSyncClient(store: try DeviceStore(path: folder.appendingPathComponent("\(label)-a.sqlite").path, catalog: catalog), transport: pool.transport)
        let b = LearnSyncClient(store: try DeviceStore(path: folder.appendingPathComponent("\(label)-b.sqlite").path, catalog: catalog), transport: pool.transport)
        try await a.signUp(username: "e2e-\(label)", password: "bench password")
        try await b.signIn(username: "e2e-\(label)", password: "bench password")
        let recorded = try await ServerWorkloads.record(count, on: a, in: course)
        var push = 0.0
        let total = try await Measure.time {
            push = try await Measure.time { try await a.sync() }
            try await b.sync()
        }
        guard try await b.progress(in: course.id).eventCount == count else { throw BenchError("device B lacks events") }
        let baseline = try await ServerWorkloads.rawTransfer(recorded, folder: folder)
        return FullSync(count: count, rate: Double(count) / total, push: push, total: total, baseRate: Double(count) / baseline)
    }

    static func describe(_ result: Wrk.Result) -> String {
        String(format: "%.0f req/s, p50 %.1f ms, p99 %.1f ms", result.rate, result.p50 * 1000, result.p99 * 1000)
    }
}
