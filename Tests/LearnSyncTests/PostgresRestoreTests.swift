import Foundation
import LearnSync
import LearnSyncModels
import LearnSyncPostgres
import LearnSyncStorage
import LearnSyncTestSupport
import LearnSyncTesting
import Testing

/// PostgreSQL going back in time: a database restored from an earlier `pg_dump`, and an
/// asynchronous streaming standby promoted after its primary was killed with SIGKILL under load.
/// Devices keep their stores; the server comes back on the restored or promoted database. Every
/// event any device holds must reach the server, every device must converge, and the server's
/// grading must equal every device's. `LEARNSYNC_SEED=<seed>` replays a run.
@Suite(.serialized, .tags(.slow, .postgres), .enabled(if: !TestPostgres.isSkipped, "LEARNSYNC_SKIP_POSTGRES=1"))
struct PostgresRestoreTests {
    let catalog: Catalog
    var course: Course { catalog[SampleCatalog.courseID]! }

    init() throws { catalog = try SampleCatalog.load() }

    /// A device of the server at `url`, on its own store (kept across server restarts).
    func device(_ store: DeviceStore, _ url: URL, timeout: TimeInterval = 10) -> LearnSyncClient {
        LearnSyncClient(
            store: store, transport: URLSessionTransport(baseURL: url, timeout: timeout),
            retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(50)))
    }

    @Test func aDatabaseRestoredFromAnEarlierDumpLosesNothing() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pg-dump-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let location = try await TestPostgres.freshDatabase("dumped")
        let server = try await EmbeddedServer.start(database: .postgres(location), catalog: catalog, passwordCost: 4)
        let stores = [try DeviceStore.inMemory(catalog: catalog), try DeviceStore.inMemory(catalog: catalog)]
        var (phone, tablet) = (device(stores[0], server.url), device(stores[1], server.url))
        try await phone.signUp(username: "dumped", password: "a long password")
        try await phone.complete(course.lessons.prefix(1), in: course)
        try await phone.sync()
        try await tablet.signIn(username: "dumped", password: "a long password")

        // The operator's dump, then work every device syncs: the restore forgets it.
        let dump = folder.appendingPathComponent("learnsync.dump").path
        _ = try await ChildProcess.run(["pg_dump", "-Fc", "-f", dump, location.description])
        try await phone.complete(course.lessons.dropFirst(), in: course)
        try await phone.passQuiz(in: course)
        try await phone.sync()
        try await tablet.record(.lessonStarted(lesson: course.lessons[0].id), in: course.id)
        try await tablet.sync()
        try await phone.sync()
        await server.stop()

        let restored = try await TestPostgres.freshDatabase("restored")
        _ = try await ChildProcess.run(["pg_restore", "--no-owner", "-d", restored.description, dump])
        let again = try await EmbeddedServer.start(database: .postgres(restored), catalog: catalog, passwordCost: 4)
        defer { Task { await again.stop() } }
        (phone, tablet) = (device(stores[0], again.url), device(stores[1], again.url))
        try await Convergence.syncUntilQuiet([phone, tablet, phone])
        try await expectWhole([phone, tablet], label: "after the dump's restore")
    }

    @Test func aPromotedAsynchronousStandbyLosesNothing() async throws {
        let seed = SeededGenerator.seedFromEnvironment()
        print("PostgresRestoreTests seed: \(seed)")
        var generator = SeededGenerator(seed: seed)
        let primary = try await TestCluster.start("primary")
        let standby: TestCluster
        do {
            standby = try await TestCluster.standby(of: primary, label: "standby")
        } catch {
            await primary.stop()
            throw error
        }
        // The clusters stop whatever happens: a cluster left running outlives the test process.
        do {
            try await promote(standby, after: primary, seed: seed, generator: &generator)
        } catch {
            await primary.stop()
            await standby.stop()
            throw error
        }
        await primary.stop()
        await standby.stop()
    }

    /// Load on `primary` through a server, the standby detached, the primary killed, the
    /// standby promoted; then every device must be whole on it.
    private func promote(_ standby: TestCluster, after primary: TestCluster, seed: UInt64, generator: inout SeededGenerator) async throws {
        let location = try await primary.createDatabase("learnsync")
        let server = try await EmbeddedServer.start(database: .postgres(location), catalog: catalog, passwordCost: 4)
        defer { Task { await server.stop() } }

        // Two learners with two devices each.
        let stores = try (0..<4).map { _ in try DeviceStore.inMemory(catalog: catalog) }
        var devices = stores.map { device($0, server.url, timeout: 2) }
        for (index, device) in devices.enumerated() {
            try await device.record(.lessonStarted(lesson: course.lessons[0].id), in: course.id)
            if index % 2 == 0 {
                try await device.signUp(username: "standby-\(index / 2)", password: "a long password")
            } else {
                try await device.signIn(username: "standby-\(index / 2)", password: "a long password")
            }
        }

        // Every device records and syncs while the primary dies; syncs fail from then on.
        let killAfter = Duration.milliseconds(Int.random(in: 100...400, using: &generator))
        let lessons = course.lessons
        let seeds = devices.map { _ in generator.next() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (device, seed) in zip(devices, seeds) {
                group.addTask {
                    var generator = SeededGenerator(seed: seed)
                    // Until the first failed sync (the primary died), then a few records more.
                    var after = 0
                    for _ in 0..<1_000 where after < 5 {
                        let lesson = lessons[Int.random(in: 0..<lessons.count, using: &generator)]
                        try await device.record(.lessonCompleted(lesson: lesson.id), in: SampleCatalog.courseID)
                        if after > 0 {
                            after += 1
                        } else if (try? await device.sync()) == nil {
                            after = 1
                        }
                    }
                }
            }
            group.addTask {
                // The standby stops receiving (a partition, or a standby behind), the primary
                // goes on acknowledging, then dies: the standby never has those commits.
                try await Task.sleep(for: killAfter)
                try await standby.detach()
                try await Task.sleep(for: killAfter)
                try await primary.kill()
            }
            try await group.waitForAll()
        }
        try await standby.promote()
        let promotedLocation = try standby.database("learnsync")
        var held = Set<EventID>(), pending = 0
        for device in devices {
            held.formUnion(try await device.events(in: course.id).map(\.id))
            pending += try await device.pendingCount()
        }
        let kept = try await TestPostgres.query(promotedLocation, "SELECT count(*) FROM event")
        print("PostgresRestoreTests: the devices hold \(held.count) events, \(pending) never acknowledged; the promoted standby holds \(kept)")
        #expect(Int(kept)! < held.count - pending, "the promoted standby lost no acknowledged commit: the test proves nothing")
        let promoted = try await EmbeddedServer.start(database: .postgres(promotedLocation), catalog: catalog, passwordCost: 4)
        defer { Task { await promoted.stop() } }
        devices = stores.map { device($0, promoted.url) }
        try await Convergence.syncUntilQuiet(devices)
        try await expectWhole(Array(devices[0...1]), label: "learner 0 after the promotion (seed \(seed))")
        try await expectWhole(Array(devices[2...3]), label: "learner 1 after the promotion (seed \(seed))")
    }

    /// One learner's devices: nothing pending, every event any of them holds on the server, all
    /// converged, and the server grading as they do.
    func expectWhole(_ devices: [LearnSyncClient], label: String) async throws {
        var held = Set<EventID>()
        for device in devices {
            #expect(try await device.pendingCount() == 0, "\(label)")
            held.formUnion(try await device.events(in: course.id).map(\.id))
        }
        let stored = try await devices[0].serverExport().events.map(\.id)
        #expect(Set(stored) == held, "\(label): the server holds \(stored.count) events, the devices \(held.count)")
        #expect(stored.count == Set(stored).count, "\(label): the server holds an event twice")
        #expect(try await Convergence.divergentDevices(devices).isEmpty, "\(label)")
        for device in devices { #expect(!(try await Convergence.disagreesWithServer(device)), "\(label)") }
    }
}
