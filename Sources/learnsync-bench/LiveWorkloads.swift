import Foundation
import LearnSync
import LearnSyncModels
import LearnSyncStorage
import LearnSyncTestSupport
import LearnSyncTesting

/// Live sync against a real `learnsync serve`: how many idle live streams one process holds and
/// what each costs, whether small syncs stay fast meanwhile, how soon a record on one device
/// reaches another with 2, 100 and 1,000 live streams open on the server (other learners' but
/// two: one learner holds at most 16), and what live sync costs a device in requests, bytes and
/// idle traffic.
struct LiveWorkloads {
    let catalog: Catalog
    let folder: URL
    let quick: Bool

    var binary: URL { URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("learnsync") }

    func rows() async throws -> [Row] {
        LiveSocket.raiseDescriptorLimit()
        let logs = folder.appendingPathComponent("live-logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let server = try await ServerProcess.start(
            1, binary: binary, database: folder.appendingPathComponent("live.sqlite").path, folder: logs,
            arguments: ["--max-connections", "30000", "--max-connections-per-address", "30000"])[0]
        defer { server.stop() }
        return try await propagation(server) + idleStreams(server)
    }

    /// A device's client on the server, with its requests counted.
    private func device(_ name: String, _ server: ServerProcess) throws -> (LearnSyncClient, CountingTransport) {
        let wire = CountingTransport(URLSessionTransport(baseURL: server.url))
        let store = try DeviceStore(path: folder.appendingPathComponent("live-\(name).sqlite").path, catalog: catalog)
        return (LearnSyncClient(store: store, transport: wire), wire)
    }

    /// Record on A, observe on B, with `streams` streams of the learner open in all.
    private func propagation(_ server: ServerProcess) async throws -> [Row] {
        let course = catalog[SampleCatalog.courseID]!
        let (a, wireA) = try device("a", server), (b, _) = try device("b", server)
        try await a.signUp(username: "live-bench", password: "a long password")
        try await b.signIn(username: "live-bench", password: "a long password")
        try a.startSync()
        try b.startSync()
        defer { Task { await a.stopSync(); await b.stopSync() } }
        for client in [a, b] {
            guard try await eventually(timeout: .seconds(10), { client.liveSyncStatus.connection == .connected }) else {
                throw BenchError("a live device did not connect")
            }
        }
        let tokens = try await guestTokens(998, server)
        var rows = [Row]()
        var others = [LiveSocket]()
        defer { others.forEach { $0.end() } }
        let records = quick ? 10 : 40
        var perEvent = (requests: 0.0, bytes: 0.0)
        for streams in [2, 100, 1_000] {
            while others.count < streams - 2 { others.append(try LiveSocket(port: server.url.port!, token: tokens[others.count])) }
            var latencies = [Double]()
            let (requests, bytes) = (wireA.requests, wireA.sent + wireA.received)
            for index in 0..<records {
                let before = try await b.progress(in: course.id).eventCount
                let arrived = Task { () -> ContinuousClock.Instant? in
                    for try await progress in b.observeProgress(in: course.id) where progress.eventCount > before { return .now }
                    return nil
                }
                let start = ContinuousClock.now
                try await a.record(.timeSpent(lesson: course.lessons[index % course.lessons.count].id, seconds: 1), in: course.id)
                let deadline = Task { try await Task.sleep(for: .seconds(5)); arrived.cancel() }
                guard let end = try? await arrived.value else { throw BenchError("a record did not reach the other device within 5 s") }
                deadline.cancel()
                latencies.append((end - start) / .seconds(1))
                // A's push is answered before the next record: one record, one push.
                _ = try await eventually(timeout: .seconds(5)) { try await a.pendingCount() == 0 && !a.liveSyncStatus.isUploading }
            }
            for socket in others { socket.drain() }
            let p50 = Measure.percentile(latencies, 0.5), p99 = Measure.percentile(latencies, 0.99)
            rows.append(Row(
                workload: "live: a record on one device observed on another, \(streams) live streams on the server (real server)",
                measure: "p50 / p99", value: String(format: "%.0f ms / %.0f ms", p50 * 1000, p99 * 1000),
                baseline: "push delay 100 ms", ratio: "-", target: "p99 ≤ 1 s", met: p99 <= 1))
            if streams == 2 {
                perEvent = (Double(wireA.requests - requests) / Double(records), Double(wireA.sent + wireA.received - bytes) / Double(records))
            }
        }
        rows.append(Row(
            workload: "live: what a recorded event costs its device (one at a time)", measure: "requests, bytes per event",
            value: String(format: "%.2f requests, %.0f B", perEvent.requests, perEvent.bytes), baseline: "-", ratio: "-", target: "-", met: nil))
        // A burst: every record as fast as the device takes them.
        let (requests, started) = (wireA.requests, ContinuousClock.now)
        for index in 0..<1_000 { try await a.record(.timeSpent(lesson: course.lessons[index % course.lessons.count].id, seconds: 1), in: course.id) }
        let burst = (ContinuousClock.now - started) / .milliseconds(100)
        guard try await eventually(timeout: .seconds(30), { try await a.pendingCount() == 0 && !a.liveSyncStatus.isUploading }) else {
            throw BenchError("the burst was not pushed within 30 s")
        }
        let pushes = Double(wireA.requests - requests), periods = max(burst.rounded(.up), 1)
        rows.append(Row(
            workload: "live: a burst of 1,000 records", measure: "requests per 100 ms begun",
            value: String(format: "%.2f (%.0f requests, %.0f ms of recording)", pushes / periods, pushes, burst * 100), baseline: "-", ratio: "-",
            target: "≤ 1", met: pushes / periods <= 1))
        return rows
    }

    /// The tokens of `count` new guests, registered as devices do (`POST /v1/guests`).
    private func guestTokens(_ count: Int, _ server: ServerProcess) async throws -> [String] {
        let transport = URLSessionTransport(baseURL: server.url)
        var tokens = [String]()
        for _ in 0..<count {
            let body = try JSONSerialization.data(withJSONObject: [
                "protocol": 1, "learner": LearnerID.newGuest().rawValue,
                "secret": IdentifierRules.randomToken() + IdentifierRules.randomToken(),
            ])
            let answer = try await transport.send(TransportRequest(
                path: "/v1/guests", headers: ["Content-Type": "application/json"], body: body))
            guard answer.status == 200, let token = (try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])?["token"] as? String
            else { throw BenchError("a guest registration answered \(answer.status)") }
            tokens.append(token)
        }
        return tokens
    }

    /// Opens idle streams up to 10,000 (1,000 with `--quick`), one per guest, and measures the
    /// server's memory per stream, small syncs of another learner meanwhile (against the same
    /// syncs with none open), and a stream's idle traffic.
    private func idleStreams(_ server: ServerProcess) async throws -> [Row] {
        let count = quick ? 1_000 : 10_000
        let tokens = try await guestTokens(count, server)
        let (busy, _) = try device("busy", server)
        try await busy.sync()
        let course = catalog[SampleCatalog.courseID]!
        func smallSyncs() async throws -> [Double] {
            var seconds = [Double]()
            for index in 0..<(quick ? 100 : 400) {
                try await busy.record(.timeSpent(lesson: course.lessons[index % course.lessons.count].id, seconds: 1), in: course.id)
                seconds.append(try await Measure.time { try await busy.sync() })
            }
            return seconds
        }
        let alone = try await smallSyncs()
        try await Task.sleep(for: .seconds(1))
        let before = ExportWorkload.residentBytes(of: server.child.pid)
        var sockets = [LiveSocket]()
        defer { sockets.forEach { $0.end() } }
        for token in tokens { sockets.append(try LiveSocket(port: server.url.port!, token: token)) }
        try await Task.sleep(for: .seconds(1))
        let after = ExportWorkload.residentBytes(of: server.child.pid)
        let perStream = Double(after - before) / Double(count)
        let meanwhile = try await smallSyncs()
        // Idle traffic: what one stream receives over two heartbeats, per hour; and every stream
        // still open (a heartbeat written to each).
        for socket in sockets { socket.drain() }
        let watched = sockets[0].received
        let idleSeconds = quick ? 16.0 : 31.0
        try await Task.sleep(for: .seconds(idleSeconds))
        var open = 0
        for socket in sockets {
            socket.drain()
            if socket.isOpen { open += 1 }
        }
        let perHour = Double(sockets[0].received - watched) * 3600 / idleSeconds
        let p99 = Measure.percentile(meanwhile, 0.99), baseline = Measure.percentile(alone, 0.99)
        return [
            Row(
                workload: "live: \(count) idle streams on one server process (real server)", measure: "server memory per stream",
                value: String(format: "%.1f KB (%d of %d open after %.0f s)", perStream / 1000, open, count, idleSeconds),
                baseline: String(format: "idle %.0f MB", Double(before) / 1e6), ratio: "-", target: "≤ 50 KB, all open",
                met: perStream <= 50_000 && open == count),
            Row(
                workload: "live: small syncs of another learner with \(count) idle streams open", measure: "p99",
                value: String(format: "%.1f ms", p99 * 1000), baseline: String(format: "%.1f ms with none open", baseline * 1000),
                ratio: String(format: "%.2fx", p99 / baseline), target: "p99 < 50 ms", met: p99 < 0.05),
            Row(
                workload: "live: an idle stream's traffic", measure: "bytes per hour", value: String(format: "%.0f B", perHour),
                baseline: "-", ratio: "-", target: "heartbeats only (240 per hour)", met: nil),
        ]
    }
}
