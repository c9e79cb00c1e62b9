import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LearnSync
import LearnSyncModels
import LearnSyncTesting
import Testing

/// A real `learnsync serve --metrics-port 0` on loopback: its Prometheus listener counts what
/// devices do, and every answer names its request with the id the log lines carry.
@Suite struct MetricsTests {
    @Test func aServerPublishesPrometheusMetricsAndRequestIDs() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let server = try await ServerProcess.start(
            1, binary: try BuiltExecutable.url(), database: folder.appendingPathComponent("server.sqlite").path, folder: folder,
            arguments: ["--metrics-port", "0", "--log-level", "debug"])[0]
        defer { server.stop() }
        let metricsURL = try await server.waitForMetricsURL()
        let metrics = try #require(metricsURL, "the metrics listener logs its address")

        let catalog = try SampleCatalog.load()
        let device = try await LearnSyncClient(path: folder.appendingPathComponent("phone.sqlite").path, catalog: catalog, server: server.url)
        try await device.record(.lessonCompleted(lesson: "keep-secure"), in: SampleCatalog.courseID)
        try await device.sync()
        await #expect(throws: SyncError.self) { try await device.signIn(username: "nobody-here", password: "a wrong password") }

        let (health, answer) = try await URLSession.shared.data(from: server.url.appendingPathComponent("health"))
        #expect(String(decoding: health, as: UTF8.self) == "ok")
        let requestID = try #require((answer as? HTTPURLResponse)?.value(forHTTPHeaderField: "X-Request-ID"))
        // 128 random bits in hex.
        #expect(requestID.count == 32 && requestID.allSatisfy(\.isHexDigit), "\(requestID)")
        #expect(server.child.output.contains("hb.request.id=\(requestID)") || server.child.errors.contains("hb.request.id=\(requestID)"))

        let text = String(decoding: try await URLSession.shared.data(from: metrics).0, as: UTF8.self)
        #expect(text.contains("learnsync_sync_rounds_total 1"), "\(text.prefix(2000))")
        #expect(text.contains("learnsync_events_accepted_total 1"))
        #expect(text.contains("learnsync_signin_failures_total 1"))
        #expect(text.contains(#"hb_requests{http_route="/v1/sync",http_request_method="POST",http_response_status_code="200"} 1"#))
        #expect(text.contains("http_server_request_duration_bucket"), "latency histograms")
        #expect(!text.contains(try await device.identity().learner.rawValue), "no learner in any label")
    }

    /// A real `serve` on PostgreSQL, through PgBouncer in transaction mode with a direct
    /// listening connection (`--listen-database`), and a pool of 2 connections for 12 devices
    /// syncing at once: its metrics show the pool's size, its use (back to none once the devices
    /// are done), the waits for a connection and every statement's time.
    @Test(.tags(.postgres), .enabled(if: !TestPostgres.isSkipped, "LEARNSYNC_SKIP_POSTGRES=1"))
    func aServerOnPostgreSQLPublishesItsPoolsUse() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-pool-metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let location = try await TestPostgres.freshDatabase("poolmetrics", throughPooler: true)
        let server = try await ServerProcess.start(
            1, binary: try BuiltExecutable.url(), database: location.description, folder: folder,
            arguments: ["--metrics-port", "0", "--database-connections", "2", "--listen-database", try await TestPostgres.direct(location).description])[0]
        defer { server.stop() }
        let metrics = try #require(try await server.waitForMetricsURL(), "the metrics listener logs its address")

        let catalog = try SampleCatalog.load()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<12 {
                group.addTask {
                    let device = try await LearnSyncClient(
                        path: folder.appendingPathComponent("device-\(index).sqlite").path, catalog: catalog, server: server.url)
                    for _ in 0..<3 {
                        try await device.record(.lessonStarted(lesson: "keep-secure"), in: SampleCatalog.courseID)
                        try await device.sync()
                    }
                }
            }
            try await group.waitForAll()
        }

        let text = String(decoding: try await URLSession.shared.data(from: metrics).0, as: UTF8.self)
        func value(_ name: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        #expect(value("learnsync_postgres_pool_connections_max") == 2, "\(text.prefix(3000))")
        #expect(value("learnsync_postgres_pool_in_use") == 0)
        #expect(value("learnsync_postgres_pool_waiting") == 0)
        // Each device registered and synced 3 times: at least 48 leases, and as many statements.
        #expect((value("learnsync_postgres_pool_wait_duration_seconds_count") ?? 0) >= 48)
        #expect((value("learnsync_postgres_statement_duration_seconds_count") ?? 0) >= 48)
        #expect(text.contains(#"learnsync_postgres_statement_duration_seconds_bucket{le="0.0001"}"#), "buckets from 100 µs")
        #expect(value(#"learnsync_postgres_pushes_total{path="one-statement"}"#).map { $0 > 0 } == true)
        #expect(value("learnsync_sync_rounds_total") == 36)
    }
}
