import Foundation
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting

/// The server on PostgreSQL with 1, 2 and 4 `learnsync serve` processes on one database: the
/// concurrent-clients and end-to-end workloads of the SQLite store, each process behind a
/// load balancer (``ServerPool``). The cluster is a throwaway one started with
/// `Tools/postgres`, durable (fsync and synchronous commit on), on this machine.
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
        var bare: (String, Double)?
        var rows = [Row]()
        for processes in [1, 2, 4] {
            let name = "bench_\(processes)"
            _ = try await ChildProcess.run(["psql", admin, "-q", "-c", "CREATE DATABASE \(name)"])
            let database = admin.replacingOccurrences(of: "/postgres?", with: "/\(name)?")
            let logs = folder.appendingPathComponent("logs-\(processes)")
            try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
            let servers = try await ServerProcess.start(
                processes, binary: binary, database: database, folder: logs, arguments: ["--database-connections", "\(max(4, 32 / processes))"])
            defer { servers.forEach { $0.stop() } }
            let pool = ServerPool(servers.map(\.url), seed: 21)
            rows.append(try await concurrentClients(servers, pool: pool, bare: &bare))
            rows.append(try await endToEnd(pool: pool, processes: processes))
        }
        return rows
    }

    /// The bare Hummingbird endpoint answering `answer` (a small sync's bytes), 64 connections.
    private func bareBaseline(answer: Data, script: URL) async throws -> (String, Double) {
        let bare = try await BareServer.start(answer: answer)
        let result = try await onOwnThread { [quick] in try Wrk.run(url: bare.url, path: "/bare", connections: 64, seconds: quick ? 4 : 10, script: script) }
        await bare.stop()
        return (Self.describe(result) + " (bare Hummingbird, same bytes)", result.rate)
    }

    /// 64 clients doing small syncs, split evenly over the processes (one wrk per process, run
    /// at once; rates add up, p99 is the worst of them).
    private func concurrentClients(_ servers: [ServerProcess], pool: ServerPool, bare: inout (String, Double)?) async throws -> Row {
        let connections = 64, seconds = quick ? 4 : 10
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
        let (bareText, bareRate) = bare!
        let share = connections / servers.count
        var runs = [(URL, URL)]()
        for (index, server) in servers.enumerated() {
            let script = folder.appendingPathComponent("pg-\(servers.count)-\(index).lua")
            try Data(Wrk.script(clients: Array(clients[index * share..<(index + 1) * share]), course: course).utf8).write(to: script)
            runs.append((server.url, script))
        }
        let results = try await withThrowingTaskGroup(of: Wrk.Result.self) { group in
            for (url, script) in runs {
                group.addTask { try await onOwnThread { try Wrk.run(url: url, path: Endpoint.sync.path, connections: share, seconds: seconds, script: script) } }
            }
            return try await group.reduce(into: [Wrk.Result]()) { $0.append($1) }
        }
        let rate = results.map(\.rate).reduce(0, +), p99 = results.map(\.p99).max() ?? 0
        let p50 = results.map(\.p50).max() ?? 0
        let ratio = rate / bareRate
        return Row(
            workload: "PostgreSQL, \(servers.count) server process\(servers.count == 1 ? "" : "es"): \(connections) concurrent clients doing small syncs (wrk, \(seconds) s)",
            measure: "req/s, p99", value: Self.describe(Wrk.Result(rate: rate, p50: p50, p99: p99, requests: results.map(\.requests).reduce(0, +))), baseline: bareText,
            ratio: String(format: "%.2f×", ratio), target: "-", met: nil)
    }

    /// Events from device A through the processes (each request to any of them) to device B.
    private func endToEnd(pool: ServerPool, processes: Int) async throws -> Row {
        let count = quick ? 20_000 : 100_000
        let a = LearnSyncClient(store: try DeviceStore(path: folder.appendingPathComponent("pg-a-\(processes).sqlite").path, catalog: catalog), transport: pool.transport)
        let b = LearnSyncClient(store: try DeviceStore(path: folder.appendingPathComponent("pg-b-\(processes).sqlite").path, catalog: catalog), transport: pool.transport)
        try await a.signUp(username: "e2e-\(processes)", password: "bench password")
        try await b.signIn(username: "e2e-\(processes)", password: "bench password")
        let recorded = try await ServerWorkloads.record(count, on: a, in: course)
        var push = 0.0
        let total = try await Measure.time {
            push = try await Measure.time { try await a.sync() }
            try await b.sync()
        }
        guard try await b.progress(in: course.id).eventCount == count else { throw BenchError("device B lacks events") }
        let baseline = try await ServerWorkloads.rawTransfer(recorded, folder: folder)
        let rate = Double(count) / total, baseRate = Double(count) / baseline
        return Row(
            workload: "PostgreSQL, \(processes) process\(processes == 1 ? "" : "es"): \(count) events A → server → B (push \(String(format: "%.1f", push)) s, pull \(String(format: "%.1f", total - push)) s)",
            measure: "events/s", value: Measure.format(rate, "events/s"),
            baseline: Measure.format(baseRate, "events/s") + " (JSON encode+decode + raw insert)",
            ratio: String(format: "%.2f×", rate / baseRate), target: "-", met: nil)
    }

    static func describe(_ result: Wrk.Result) -> String {
        String(format: "%.0f req/s, p50 %.1f ms, p99 %.1f ms", result.rate, result.p50 * 1000, result.p99 * 1000)
    }
}
