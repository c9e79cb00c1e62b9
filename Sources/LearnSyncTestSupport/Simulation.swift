public import Foundation
public import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage

/// How a simulation runs, and which real-world faults it injects.
public struct SimulationOptions: Sendable {
    public var devices: Int
    public var learners: Int
    public var ops: Int
    public var seed: UInt64
    public var faults: Faults
    /// The chance, per operation, that the acting device goes offline or back online.
    public var offline: Double
    /// Largest clock error, in seconds, of each device and of the server, ahead or behind (at
    /// most ten years); each clock is re-drawn now and then during the run. 0 keeps every clock
    /// true.
    public var clockSkewSeconds: Int64
    /// How many catalog versions the server and the devices upgrade through, each at its own
    /// moment (1: one catalog throughout).
    public var catalogVersions: Int
    /// How many times a device is cloned to a new phone or restored from an earlier backup.
    public var clones: Int
    /// The chance that a recorded event is a course reset (a retake).
    public var resetRate: Double
    /// Whether learners also live the product's life: sign out and in again, change their
    /// password, erase their account and start over, and update their app.
    public var lifecycle: Bool
    /// How many times the server's database is restored from a backup taken at a random
    /// earlier moment (the server needs ``SimulatedServer/backup`` and ``SimulatedServer/restore``).
    public var serverRestores: Int
    /// How many times the server loses its last commits (a power cut under `synchronous=NORMAL`,
    /// a standby promoted before it replayed them): restored from the latest backup, taken a
    /// few operations before.
    public var serverForgets: Int
    /// Whether every device runs live sync (``LearnSyncClient/startSync(_:)``) throughout, as
    /// well as the syncs the operations make; the report then measures how soon a recorded
    /// event reaches the learner's other devices.
    public var live: Bool

    public init(
        devices: Int, learners: Int, ops: Int, seed: UInt64, faults: Faults = Faults(), offline: Double = 0,
        clockSkewSeconds: Int64 = 0, catalogVersions: Int = 1, clones: Int = 0, resetRate: Double = 0.03, lifecycle: Bool = false,
        serverRestores: Int = 0, serverForgets: Int = 0, live: Bool = false
    ) {
        self.live = live
        self.lifecycle = lifecycle
        self.serverRestores = max(0, serverRestores)
        self.serverForgets = max(0, serverForgets)
        self.devices = devices
        self.learners = learners
        self.ops = ops
        self.seed = seed
        self.faults = faults
        self.offline = offline
        // Ten years either way at most: a clock further behind would read before 1970.
        self.clockSkewSeconds = min(max(0, clockSkewSeconds), 315_360_000)
        self.catalogVersions = catalogVersions
        self.clones = clones
        self.resetRate = resetRate
    }
}

/// The server a simulation talks to, and the handles it has on it.
public struct SimulatedServer: Sendable {
    /// A new transport to the server, for each device.
    public var transport: @Sendable () -> any SyncTransport
    /// The server's clock, to skew; nil leaves the server's clock alone.
    public var clock: OffsetWallClock?
    /// Publishes a catalog on the server (`SyncService.publish`); nil when the server cannot be
    /// upgraded from here.
    public var publish: (@Sendable (Catalog) async throws -> Void)?
    /// Runs the server's retention sweep with this guest retention in milliseconds (0 expires
    /// every unattached guest); nil when the server cannot be swept from here.
    public var sweep: (@Sendable (Int64) async throws -> Void)?
    /// Backs the server's database up as it is now; returns the backup's number. Nil when the
    /// server cannot be backed up from here.
    public var backup: (@Sendable () async throws -> Int)?
    /// Restores the server's database from a backup and starts it again at the same address,
    /// serving the catalog given (the operator's catalog folder).
    public var restore: (@Sendable (Int, Catalog) async throws -> Void)?

    /// One server at `url`.
    public init(
        url: URL, clock: OffsetWallClock? = nil, publish: (@Sendable (Catalog) async throws -> Void)? = nil,
        sweep: (@Sendable (Int64) async throws -> Void)? = nil, backup: (@Sendable () async throws -> Int)? = nil,
        restore: (@Sendable (Int, Catalog) async throws -> Void)? = nil
    ) {
        self.init(transport: { URLSessionTransport(baseURL: url) }, clock: clock, publish: publish, sweep: sweep)
        self.backup = backup
        self.restore = restore
    }

    /// Several server processes on one database, behind a load balancer.
    public init(pool: ServerPool) {
        self.init(transport: { pool.transport })
    }

    public init(
        transport: @escaping @Sendable () -> any SyncTransport, clock: OffsetWallClock? = nil,
        publish: (@Sendable (Catalog) async throws -> Void)? = nil, sweep: (@Sendable (Int64) async throws -> Void)? = nil
    ) {
        self.sweep = sweep
        self.transport = transport
        self.clock = clock
        self.publish = publish
    }
}

/// Many devices studying at random against one server through fault-injecting transports, in
/// the real world: skewed clocks, catalog upgrades, clones and restores, retakes. At the end
/// every device comes online on the newest catalog, signs in to its learner's account and
/// syncs, and the report counts lost events, divergent devices and regressions.
public enum Simulation {
    public static func run(
        _ options: SimulationOptions, catalog: Catalog, server: SimulatedServer, progress: @Sendable (Int) -> Void = { _ in }
    ) async throws -> SimulationReport {
        var world = try World(options: options, catalog: catalog, server: server)
        return try await world.run(progress: progress)
    }
}

/// One device of a simulation.
struct SimDevice {
    var client: LearnSyncClient
    let link: FaultyTransport
    let clock: OffsetWallClock
    let learner: Int
    /// The catalog version the app has (index into the versions).
    var appVersion: Int
    /// Backups taken now and then, to restore from, with the recorded events each held.
    var backups: [(store: DeviceStore, tracked: Set<EventID>)] = []
    /// The recorded events this device's store holds, under their current ids. A store moves
    /// events to a new replica id after a clone or a restore, and a restored store may record
    /// again under ids its lost timeline had used, so ids are followed per store, as they move.
    var tracked: Set<EventID> = []
    /// The last erasure notice this device showed.
    var lastNotice: Date?

    /// Follows the moves this device's store made since the last look.
    mutating func followMoves() async throws {
        let moved = try await client.store.movedEvents()
        guard !moved.isEmpty else { return }
        tracked = Set(tracked.map { id in
            var id = id
            var hops = 0
            while let next = moved[id], hops < 100 { id = next; hops += 1 }
            return id
        })
    }
}

/// What a device shows, to tell a regression.
struct Visible: Equatable {
    var completed: Set<String> = []
    var passed: Set<String> = []
    var certificates: Set<String> = []
}

struct World {
    let options: SimulationOptions
    let server: SimulatedServer
    let versions: [Catalog]
    var generator: SeededGenerator
    var devices: [SimDevice] = []
    var serverVersion = 0
    var accountExists = Set<Int>()
    /// Each learner's account password, and how many times the learner erased the account and
    /// started over (a new username each time).
    var passwords = [Int: String]()
    /// The accounts erased.
    var erased = Set<LearnerID>()
    var epochs = [Int: Int]()
    /// Recorded events, per learner, that reached the server from a store later replaced by a
    /// restore, under the ids they had there.
    var settled = [Int: Set<EventID>]()
    /// Backups of the server's database, with what the learners had made by then.
    var serverBackups: [ServerBackup] = []
    var serverRestoresLeft = 0, serverForgetsLeft = 0
    /// Per learner, events no device held when the server went back to a backup: gone if the
    /// backup did not have them.
    var onlyOnServer = [Int: Set<EventID>]()
    var report: SimulationReport
    let runID: String
    let start = Date()

    init(options: SimulationOptions, catalog: Catalog, server: SimulatedServer) throws {
        self.options = options
        self.server = server
        versions = try CatalogVersions.make(from: catalog, count: max(1, options.catalogVersions), changingRules: options.lifecycle)
        generator = SeededGenerator(seed: options.seed)
        if server.backup != nil, server.restore != nil {
            serverRestoresLeft = options.serverRestores
            serverForgetsLeft = options.serverForgets
        }
        runID = String(options.seed, radix: 36) + "-" + IdentifierRules.randomToken().prefix(6)
        report = SimulationReport(
            seed: options.seed, devices: options.devices, learners: max(1, options.learners), ops: options.ops, events: 0, syncs: 0,
            failedSyncs: 0, signIns: 0, faultsInjected: 0, droppedRequests: 0, droppedAnswers: 0, duplicated: 0, reordered: 0,
            clockChanges: 0, catalogUpgrades: 0, clonesMade: 0, restores: 0, resets: 0, movedEvents: 0, destroyedByRestore: 0,
            divergentDevices: 0, lostEvents: 0, regressions: 0, seconds: 0)
        for index in 0..<options.devices {
            let clock = OffsetWallClock()
            devices.append(try makeDevice(store: try DeviceStore.inMemory(catalog: versions[0], clock: clock), clock: clock, learner: index % report.learners, appVersion: 0))
        }
    }

    mutating func makeDevice(store: DeviceStore, clock: OffsetWallClock, learner: Int, appVersion: Int) throws -> SimDevice {
        let link = FaultyTransport(server.transport(), faults: options.faults, seed: generator.next())
        let client = LearnSyncClient(
            store: store, transport: link, retry: RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(1), maxDelay: .milliseconds(20)))
        if options.live { try client.startSync(.simulated) }
        return SimDevice(client: client, link: link, clock: clock, learner: learner, appVersion: appVersion)
    }

    func username(_ learner: Int) -> String { "sim-\(runID)-\(learner)-\(epochs[learner, default: 0])" }
    func password(_ learner: Int) -> String { passwords[learner] ?? "simulated password" }

    mutating func run(progress: @Sendable (Int) -> Void) async throws -> SimulationReport {
        try await server.publish?(versions[0])
        var clonesLeft = options.clones
        for op in 0..<options.ops {
            progress(op)
            // Live sync learns of an erasure in the background and starts the device over: the
            // events the device tracked are gone with it before a clone or a restore copies them.
            if options.live { for device in devices.indices { try await noticeErasure(device) } }
            try await injectRealWorld(clonesLeft: &clonesLeft, remainingOps: options.ops - op)
            let index = Int.random(in: 0..<devices.count, using: &generator)
            if Double.random(in: 0..<1, using: &generator) < options.offline {
                devices[index].link.setOffline(Bool.random(using: &generator))
            }
            let roll = Int.random(in: 0..<100, using: &generator)
            do {
                if options.lifecycle, Int.random(in: 0..<25, using: &generator) == 0 {
                    try await lifecycleStep(index)
                } else if roll < 75 {
                    try await record(on: index)
                } else if roll < 96 {
                    try await sync(index)
                } else {
                    try await signIn(index)
                }
            } catch let error as SyncError {
                report.failedSyncs += 1
                // A password changed on another device revoked this one's token: sign in again.
                if error.code == .unauthorized { _ = try? await signIn(index, again: true) }
            }
            try await noticeErasure(index)
        }
        progress(options.ops)
        try await settle()
        if options.live {
            // Live sync may have learned of an erasure in the background and started a device
            // over as a guest: settled again without it, every device signs in, then live sync
            // runs again for the measurement.
            for device in devices { await device.client.stopSync() }
            try await settle()
            for device in devices { try device.client.startSync(.simulated) }
            try await measurePropagation()
            for device in devices { await device.client.stopSync() }
        }
        try await judge()
        return report
    }

    /// Clocks drift, catalogs upgrade, phones are cloned or restored.
    mutating func injectRealWorld(clonesLeft: inout Int, remainingOps: Int) async throws {
        try await injectServerFaults(remainingOps: remainingOps)
        if options.clockSkewSeconds > 0, Int.random(in: 0..<20, using: &generator) == 0 {
            let skew = Int64.random(in: -options.clockSkewSeconds...options.clockSkewSeconds, using: &generator) * 1000
            if Bool.random(using: &generator), let clock = server.clock {
                clock.setOffset(milliseconds: skew / 10)
            } else {
                devices.randomElement(using: &generator)!.clock.setOffset(milliseconds: skew)
            }
            report.clockChanges += 1
        }
        if options.lifecycle, let sweep = server.sweep, Int.random(in: 0..<60, using: &generator) == 0 {
            try await sweep(0)
            report.guestExpiries += 1
        }
        if options.lifecycle, let publish = server.publish, Int.random(in: 0..<40, using: &generator) == 0 {
            if Bool.random(using: &generator) {
                // The server's catalog folder now holds only the newest version of each course.
                try await publish(try Catalog(versions[serverVersion].courses))
                report.narrowPublishes += 1
            } else {
                // An answer key corrected without a new version number: refused.
                let corrected = try Catalog(versions[serverVersion].courses.map(CatalogVersions.corrected))
                do {
                    try await publish(corrected)
                    report.divergentDevices += 1
                    report.divergenceDetails.append("the server accepted a course version with other content than it served")
                } catch {
                    report.refusedCorrections += 1
                }
            }
        }
        if versions.count > 1, Int.random(in: 0..<30, using: &generator) == 0 {
            if Bool.random(using: &generator), serverVersion + 1 < versions.count, let publish = server.publish {
                serverVersion += 1
                try await publish(versions[serverVersion])
            } else {
                let index = Int.random(in: 0..<devices.count, using: &generator)
                guard devices[index].appVersion + 1 < versions.count else { return }
                devices[index].appVersion += 1
                try await devices[index].client.store.setBundledCatalog(versions[devices[index].appVersion])
            }
            report.catalogUpgrades += 1
        }
        if Int.random(in: 0..<15, using: &generator) == 0 {
            let index = Int.random(in: 0..<devices.count, using: &generator)
            try await devices[index].followMoves()
            devices[index].backups.append((try devices[index].client.store.snapshot(), devices[index].tracked))
        }
        if clonesLeft > 0, Int.random(in: 0..<max(1, remainingOps / clonesLeft), using: &generator) == 0 {
            clonesLeft -= 1
            let index = Int.random(in: 0..<devices.count, using: &generator)
            if Bool.random(using: &generator), let backup = devices[index].backups.randomElement(using: &generator) {
                try await restore(index, from: backup)
            } else {
                try await devices[index].followMoves()
                let original = devices[index]
                let clock = OffsetWallClock()
                clock.setOffset(milliseconds: Int64.random(in: -options.clockSkewSeconds...options.clockSkewSeconds, using: &generator) * 1000)
                var clone = try makeDevice(
                    store: try original.client.store.snapshot(clock: clock), clock: clock, learner: original.learner, appVersion: original.appVersion)
                clone.tracked = original.tracked
                devices.append(clone)
                report.clonesMade += 1
            }
        }
    }

    /// The phone is restored from an older backup: what only it held since is gone with the
    /// restore itself (not expected anywhere), and so is a guest's work the backup does not know;
    /// what it synced to an account comes back from the server.
    mutating func restore(_ index: Int, from backup: (store: DeviceStore, tracked: Set<EventID>)) async throws {
        try await devices[index].followMoves()
        let device = devices[index]
        let unsynced = Set(try await device.client.store.pendingEvents(limit: .max).map(\.id)
            + (try await device.client.rejectedEvents().map(\.event.id)))
        // A guest's synced events are the guest's alone: a restore that forgets the guest (a
        // backup from before the guest signed in, or from an earlier sign-out) leaves them in
        // no account, as it leaves the events only the phone held.
        // A store restored from before an erasure it has not learned of yet holds the erased
        // learner's events: the erasure removed them.
        let learner = try await device.client.identity().learner
        let destroyed = learner.isGuest || erased.contains(learner) ? device.tracked : device.tracked.intersection(unsynced)
        settled[device.learner, default: []].formUnion(device.tracked.subtracting(destroyed))
        // After the server went back in time, an acknowledged event may be one it forgot, which
        // only this phone held: the restore removed it.
        if report.serverRestores + report.serverForgets > 0 {
            onlyOnServer[device.learner, default: []].formUnion(device.tracked.subtracting(destroyed))
        }
        report.destroyedByRestore += destroyed.count
        report.movedEvents += try await device.client.store.movedEvents().count
        devices[index].tracked = backup.tracked
        await device.client.stopSync()
        devices[index].client = LearnSyncClient(
            store: try backup.store.snapshot(clock: device.clock), transport: device.link,
            retry: RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(1), maxDelay: .milliseconds(20)))
        if options.live { try devices[index].client.startSync(.simulated) }
        report.restores += 1
    }

    mutating func record(on index: Int) async throws {
        let client = devices[index].client
        let course = client.catalog.courses.randomElement(using: &generator)!
        let payload: EventPayload = Double.random(in: 0..<1, using: &generator) < options.resetRate
            ? .courseReset() : RandomStudy.payload(in: course, resets: false, using: &generator)
        let event = try await client.record(payload, in: course.id)
        if event.isReset { report.resets += 1 }
        try await devices[index].followMoves()
        devices[index].tracked.insert(event.id)
        report.events += 1
        try await checkModel(index)
    }

    mutating func signIn(_ index: Int, again: Bool = false) async throws {
        var attempts = 0
        while true {
            do {
                return try await signInOnce(index, again: again)
            } catch let error as SyncError where attempts < 3 && report.serverRestores + report.serverForgets > 0 {
                // After a restore the learner's tries may pass the sign-in throttle (it waits, as
                // asked), or name an account the restored server erased again (the device starts
                // over as a guest, which signs in).
                attempts += 1
                switch error.code {
                case .rateLimited: try await Task.sleep(for: min(error.retryAfter ?? .seconds(1), .seconds(5)))
                case .learnerErased: try await noticeErasure(index)
                default: throw error
                }
            }
        }
    }

    private mutating func signInOnce(_ index: Int, again: Bool) async throws {
        let device = devices[index]
        let isGuest = try await device.client.identity().learner.isGuest
        guard again || isGuest else { return }
        let name = username(device.learner), secret = password(device.learner)
        // As a learner does after a server went back in time: signs in, and if the account is
        // unknown signs up again under the same username; signs up, and if the username is
        // taken signs in.
        if accountExists.contains(device.learner) {
            do {
                try await device.client.signIn(username: name, password: secret)
            } catch let error as SyncError where error.code == .unauthorized && report.serverRestores + report.serverForgets > 0 {
                try await device.client.signUp(username: name, password: secret)
            }
        } else {
            do {
                try await device.client.signUp(username: name, password: secret)
            } catch let error as SyncError where error.problem?.code == "conflict" && report.serverRestores + report.serverForgets > 0 {
                try await device.client.signIn(username: name, password: secret)
            }
            accountExists.insert(device.learner)
        }
        report.signIns += 1
    }

    /// Every device online, without faults, on the newest catalog, signed in, synced until quiet.
    mutating func settle() async throws {
        try await server.publish?(versions[versions.count - 1])
        server.clock?.setOffset(milliseconds: 0)
        for index in devices.indices {
            devices[index].link.setOffline(false)
            devices[index].link.setFaultsEnabled(false)
            try await devices[index].client.store.setBundledCatalog(versions[versions.count - 1])
            do {
                try await signIn(index)
            } catch let error as SyncError where error.code == .learnerErased {
                // A guest erased with its account starts over as a new guest.
                try await noticeErasure(index)
                try await signIn(index)
            }
            try await noticeErasure(index)
        }
        for _ in 0..<3 {
            for index in devices.indices {
                do {
                    try await sync(index)
                } catch let error as SyncError where error.code == .unauthorized || error.code == .learnerErased {
                    // A server clock that ran ahead expired the token, or a password change
                    // revoked it: the learner signs in again. A device that learned its learner
                    // was erased starts over as a guest and signs in to the learner's new account.
                    try await noticeErasure(index)
                    try await signIn(index, again: true)
                    try await sync(index)
                }
                try await noticeErasure(index)
            }
        }
    }

    mutating func judge() async throws {
        for index in devices.indices {
            try await devices[index].followMoves()
            report.movedEvents += try await devices[index].client.store.movedEvents().count
        }
        for learner in 0..<report.learners {
            let group = devices.filter { $0.learner == learner }.map(\.client)
            for index in try await Convergence.divergentDevices(group) {
                report.divergentDevices += 1
                report.divergenceDetails.append(try await Convergence.difference(group[0], group[index]))
            }
            if let first = group.first, try await Convergence.disagreesWithServer(first) {
                report.divergentDevices += 1
                report.divergenceDetails.append("learner \(learner)'s first device differs from the server's grading")
            }
            if let first = group.first {
                var events = [ProgressEvent]()
                for course in first.catalog.courses { events += try await first.store.events(in: course.id) }
                let found = try await Convergence.serverModelDifferences(first, events: events, catalog: first.catalog)
                report.modelMismatches += found.isEmpty ? 0 : 1
                report.modelDetails += found.prefix(3).map { "learner \(learner): \($0)" }
            }
            let expected = devices.filter { $0.learner == learner }.reduce(settled[learner, default: []]) { $0.union($1.tracked) }
            for client in group {
                var held = Set<EventID>()
                for course in client.catalog.courses { held.formUnion(try await client.store.events(in: course.id).map(\.id)) }
                let missing = expected.subtracting(held).subtracting(onlyOnServer[learner, default: []])
                report.forgottenByServer = max(report.forgottenByServer, expected.subtracting(held).count - missing.count)
                report.lostEvents += missing.count
                let device = try await client.identity()
                for id in missing { report.lostDetails.append("\(id) missing on device \(device.replica) of learner \(learner)") }
                // Everything must be on the server too: nothing pending, held or refused.
                let pending = try await client.store.pendingEvents(limit: 1000).map(\.id)
                let refused = try await client.rejectedEvents()
                report.lostEvents += pending.count + refused.count
                for id in pending { report.lostDetails.append("\(id) still pending on \(device.replica)") }
                for event in refused { report.lostDetails.append("\(event.event.id) refused \(event.code) on \(device.replica)") }
            }
        }
        let counts = devices.reduce(into: FaultCounts()) { total, device in
            let c = device.link.counts
            total.droppedRequests += c.droppedRequests
            total.droppedAnswers += c.droppedAnswers
            total.duplicated += c.duplicated
            total.reordered += c.reordered
        }
        report.devices = devices.count
        report.droppedRequests = counts.droppedRequests
        report.droppedAnswers = counts.droppedAnswers
        report.duplicated = counts.duplicated
        report.reordered = counts.reordered
        report.faultsInjected = counts.total
        report.seconds = Date().timeIntervalSince(start)
    }
}

