import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncServer
import LearnSyncTesting

/// Sync latency while a password-guessing flood runs: the server at its real bcrypt cost (12),
/// 8 clients sending wrong passwords as fast as they are answered, each from its own address
/// (named by `X-Forwarded-For` through a trusted proxy, so no per-address throttle spares the
/// CPU) and for its own username; meanwhile one device does small syncs. Baseline: the same
/// syncs on the same server with no guessing, in the same run.
struct GuessingWorkload {
    let catalog: Catalog
    let folder: URL
    let quick: Bool

    func syncLatencyUnderGuessing() async throws -> Row {
        let seconds = quick ? 3.0 : 8.0, guessers = 8
        let server = try await EmbeddedServer.start(
            databasePath: folder.appendingPathComponent("guessing.sqlite").path, catalog: catalog, passwordCost: 12
        ) { $0.trustedProxies = ["127.0.0.1"] }
        defer { Task { await server.stop() } }
        let transport = URLSessionTransport(baseURL: server.url)
        let device = LearnSyncClient(store: try DeviceStore.inMemory(catalog: catalog), transport: transport)
        try await device.sync()
        let quiet = try await syncLatencies(device, seconds: seconds)

        let stop = Deadline(seconds: seconds + 1)
        let outcomes = try await withThrowingTaskGroup(of: [Int: Int].self) { group in
            for guesser in 0..<guessers {
                group.addTask {
                    // Its own session: URLSession's per-host connection limit must not queue the
                    // device's syncs behind the guesses in this one process.
                    let session = URLSession(configuration: .ephemeral)
                    var request = URLRequest(url: server.url.appendingPathComponent("v1/sessions"))
                    request.httpMethod = "POST"
                    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                    request.setValue("198.51.100.\(guesser)", forHTTPHeaderField: "X-Forwarded-For")
                    request.httpBody = try WireCoding.encode(CredentialsRequest(username: "victim-\(guesser)", password: "not the password", guest: nil))
                    var statuses = [Int: Int]()
                    while !stop.passed {
                        let (_, response) = try await session.data(for: request)
                        statuses[(response as? HTTPURLResponse)?.statusCode ?? 0, default: 0] += 1
                    }
                    return statuses
                }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(500))
                return [0: Int((try await syncLatencies(device, seconds: seconds)).p99 * 1_000_000)]
            }
            return try await group.reduce(into: [Int: Int]()) { $0.merge($1, uniquingKeysWith: +) }
        }
        let loudP99 = Double(outcomes[0] ?? 0) / 1_000_000
        let checked = outcomes[401] ?? 0, busy = outcomes[429] ?? 0
        return Row(
            workload: "small syncs while \(guessers) clients guess passwords (bcrypt cost 12, \(Int(seconds)) s)", measure: "sync p99",
            value: String(format: "%.1f ms (%d guesses checked by bcrypt, %d answered 429)", loudP99 * 1000, checked, busy),
            baseline: String(format: "%.1f ms (no guessing)", quiet.p99 * 1000),
            ratio: String(format: "%.2f×", loudP99 / quiet.p99), target: "p99 < 50 ms", met: loudP99 < 0.05)
    }

    /// Sequential small syncs (one event pushed) for `seconds`: their latencies' p50 and p99.
    private func syncLatencies(_ device: LearnSyncClient, seconds: Double) async throws -> (p50: Double, p99: Double) {
        var latencies = [Double]()
        let stop = Deadline(seconds: seconds)
        let lesson = catalog[SampleCatalog.courseID]!.lessons[0].id
        while !stop.passed {
            try await device.record(.timeSpent(lesson: lesson, seconds: 1), in: SampleCatalog.courseID)
            latencies.append(try await Measure.time { try await device.sync() })
        }
        return (Measure.median(latencies), Measure.percentile(latencies, 0.99))
    }
}

/// A moment in the future.
struct Deadline: Sendable {
    let end: Date
    init(seconds: Double) { end = Date().addingTimeInterval(seconds) }
    var passed: Bool { Date() >= end }
}
