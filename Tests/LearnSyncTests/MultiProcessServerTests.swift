import Foundation
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting
import Testing

/// Three `learnsync serve` processes on one PostgreSQL database, behind a load balancer that
/// sends every request to one of them at random: devices switch processes between sync rounds
/// and within one (a retry lands elsewhere). One process is killed with SIGKILL while devices
/// push and pull. Every device must converge with every event, and the database must hold each
/// event once. Then simulations with every network and device fault run on the survivors.
/// It runs with the processes connected to PostgreSQL directly, and through PgBouncer in
/// transaction mode (listening for live notices directly). `LEARNSYNC_SEED=<seed>` replays a run.
@Suite(.serialized, .tags(.slow, .postgres), .enabled(if: !TestPostgres.isSkipped, "LEARNSYNC_SKIP_POSTGRES=1"))
struct MultiProcessServerTests {
    @Test(arguments: [false, true])
    func threeProcessesOnOneDatabaseLoseAndDuplicateNothingWhenOneIsKilled(throughPgBouncer: Bool) async throws {
        let seed = SeededGenerator.seedFromEnvironment()
        print("MultiProcessServerTests seed: \(seed)\(throughPgBouncer ? " (through PgBouncer)" : "")")
        var generator = SeededGenerator(seed: seed)
        let catalog = try SampleCatalog.load()
        let course = catalog[SampleCatalog.courseID]!
        let location = try await TestPostgres.freshDatabase("multiprocess", throughPooler: throughPgBouncer)
        let direct = try await TestPostgres.direct(location)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-multiprocess-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let servers = try await ServerProcess.start(
            3, binary: try BuiltExecutable.url(), database: location.description, folder: folder,
            arguments: ["--database-connections", "8"] + (throughPgBouncer ? ["--listen-database", direct.description] : []))
        defer {
            for server in servers {
                server.child.kill()
                server.child.wait()
            }
        }
        let pool = ServerPool(servers.map(\.url), seed: generator.next())
        let victim = servers[Int.random(in: 0..<3, using: &generator)]

        // Four learners, two devices each: both start as guests, then one signs up and the
        // other signs in, attaching its guest.
        let retry = RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(5), maxDelay: .milliseconds(50))
        var devices = [(learner: Int, client: LearnSyncClient)]()
        for learner in 0..<4 {
            for _ in 0..<2 {
                devices.append((learner, LearnSyncClient(store: try DeviceStore.inMemory(catalog: catalog), transport: pool.transport, retry: retry)))
            }
        }
        for (index, device) in devices.enumerated() {
            _ = try await device.client.record(.lessonStarted(lesson: course.lessons[0].id), in: course.id)
            if index % 2 == 0 {
                _ = try await device.client.signUp(username: "multi-\(seed)-\(device.learner)", password: "a long password")
            } else {
                _ = try await device.client.signIn(username: "multi-\(seed)-\(device.learner)", password: "a long password")
            }
        }

        // Every device records and syncs concurrently; one process dies in the middle.
        let killAfter = Duration.milliseconds(Int.random(in: 200...1200, using: &generator))
        let seeds = devices.map { _ in generator.next() }
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                try await Task.sleep(for: killAfter)
                victim.child.kill()
                pool.remove(victim.url)
                return 0
            }
            for (index, device) in devices.enumerated() {
                group.addTask {
                    var random = SeededGenerator(seed: seeds[index])
                    var failed = 0
                    for _ in 0..<25 {
                        for _ in 0..<Int.random(in: 1...4, using: &random) {
                            _ = try await device.client.record(RandomStudy.payload(in: course, resets: false, using: &random), in: course.id)
                        }
                        do {
                            _ = try await device.client.sync()
                        } catch is SyncError {
                            failed += 1
                        }
                    }
                    return failed
                }
            }
            return try await group.reduce(0, +)
        }
        let status = victim.child.wait()
        #expect(status & 0x7f == 9, "the victim died of SIGKILL (wait status \(status))")

        // The survivors serve everyone: every device settles.
        for _ in 0..<2 {
            for device in devices { _ = try await device.client.sync() }
        }
        var recorded = Set<EventID>()
        for learner in 0..<4 {
            let group = devices.filter { $0.learner == learner }.map(\.client)
            var held = [Set<EventID>]()
            for client in group {
                #expect(try await client.store.pendingCount() == 0)
                held.append(Set(try await client.store.events(in: course.id).map(\.id)))
            }
            #expect(held[0] == held[1], "learner \(learner)'s devices differ")
            recorded.formUnion(held[0])
            #expect(try await Convergence.disagreesWithServer(group[0]) == false)
        }
        let stored = try await TestPostgres.query(location, "SELECT COUNT(*), COUNT(DISTINCT (replica, seq)) FROM event")
        #expect(stored == "\(recorded.count)|\(recorded.count)", "every event stored once")

        // The real world on the survivors: lost, duplicated and reordered requests, offline
        // devices, clones and restores, retakes; each request to either process.
        let simulated = SimulatedServer(pool: pool)
        for run in 0..<10 {
            let options = SimulationOptions(
                devices: 3, learners: 2, ops: 60, seed: seed &+ UInt64(run),
                faults: Faults(dropRequest: 0.05, dropAnswer: 0.05, duplicate: 0.05, reorder: 0.05), offline: 0.05, clones: 2, resetRate: 0.05)
            let report = try await Simulation.run(options, catalog: catalog, server: simulated)
            #expect(report.converged, "seed \(options.seed): \(report.lostDetails) \(report.divergenceDetails) \(report.regressionDetails)")
        }
        if throughPgBouncer {
            let passed = try await TestPostgres.poolerTransactions(database: location.database)
            #expect((passed ?? 0) > recorded.count / 4, "PgBouncer passed \(passed.map(String.init) ?? "no") transactions")
        }
        print("MultiProcessServerTests: \(recorded.count) events from \(devices.count) devices over 3 processes, one killed after \(killAfter); \(failures) syncs failed and were retried later")
    }
}
