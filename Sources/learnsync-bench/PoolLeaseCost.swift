import Foundation
import LearnSyncPostgres
import LearnSyncTesting
import Logging
import PostgresNIO

extension PostgresWorkloads {
    /// What the store's bounded lease (``PoolLease``: a task holds the lease and hands the
    /// connection over, with a 10 s deadline) costs, on a cluster of its own, over postgres-nio's own `withConnection`:
    /// 16 tasks lease connections of a pool of 8 and run `SELECT 1` on each, the two ways in
    /// alternating quarters of the leases. CPU is this process's (the pool's side), per lease.
    func leaseCost() async throws -> Row {
        let cluster = folder.appendingPathComponent("postgres-lease").path
        let admin = try await ChildProcess.run([tool, "start", cluster, "auto"]).trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? ChildProcess.run([tool, "stop", cluster]) }
        var location = try PostgresLocation(url: admin)
        location.maxConnections = 8
        let client = PostgresClient(configuration: location.clientConfiguration)
        let running = Task { await client.run() }
        defer { running.cancel() }
        let logger = Logger(label: "learnsync.bench.lease")
        let deadlines = Deadlines()
        let tasks = 16, perTask = quick ? 100 : 500
        @Sendable func select(_ connection: PostgresConnection) async throws {
            for try await _ in try await connection.query("SELECT 1", logger: logger) {}
        }
        func leases(bounded: Bool) async throws -> (seconds: Double, cpu: Double) {
            let cpu = Measure.treeCPU([getpid()])
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<tasks {
                    group.addTask {
                        for _ in 0..<perTask {
                            if bounded {
                                let lease = try await PoolLease.lease(from: client, within: .seconds(10), deadlines)
                                defer { lease.end() }
                                try await select(lease.connection)
                            } else {
                                try await client.withConnection { connection in try await select(connection) }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            return ((ContinuousClock.now - started) / .seconds(1), Measure.treeCPU([getpid()]) - cpu)
        }
        _ = try await leases(bounded: false)  // the pool's connections open
        var bounded = (seconds: 0.0, cpu: 0.0), plain = (seconds: 0.0, cpu: 0.0)
        for _ in 0..<2 {
            let p = try await leases(bounded: false), b = try await leases(bounded: true)
            plain = (plain.seconds + p.seconds, plain.cpu + p.cpu)
            bounded = (bounded.seconds + b.seconds, bounded.cpu + b.cpu)
        }
        let count = Double(2 * tasks * perTask)
        func describe(_ run: (seconds: Double, cpu: Double)) -> String {
            String(format: "%.1f µs a lease, this process's CPU %.1f µs a lease", run.seconds / count * 1e6, run.cpu / count * 1e6)
        }
        return Row(
            workload: "PostgreSQL pool: a lease with the store's deadline, \(tasks) tasks on 8 connections, `SELECT 1` on each (\(Int(count)) leases)",
            measure: "time, CPU per lease", value: describe(bounded), baseline: describe(plain) + " (postgres-nio's withConnection)",
            ratio: String(format: "%.2f×", bounded.seconds / plain.seconds), target: "-", met: nil)
    }
}
