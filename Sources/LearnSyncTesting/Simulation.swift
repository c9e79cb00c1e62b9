public import Foundation
public import LearnSync

/// How a simulation runs.
public struct SimulationOptions: Sendable {
    public var devices: Int
    public var learners: Int
    public var ops: Int
    public var seed: UInt64
    public var faults: Faults
    /// The chance, per operation, that the acting device goes offline or back online.
    public var offline: Double

    public init(devices: Int, learners: Int, ops: Int, seed: UInt64, faults: Faults = Faults(), offline: Double = 0) {
        self.devices = devices
        self.learners = learners
        self.ops = ops
        self.seed = seed
        self.faults = faults
        self.offline = offline
    }
}

/// The convergence report of a simulation.
public struct SimulationReport: Sendable, Encodable {
    public var seed: UInt64
    public var devices: Int
    public var learners: Int
    public var ops: Int
    public var events: Int
    public var syncs: Int
    public var failedSyncs: Int
    public var signIns: Int
    public var faultsInjected: Int
    public var droppedRequests: Int
    public var droppedAnswers: Int
    public var duplicated: Int
    public var reordered: Int
    /// Devices whose final progress differs from another device of the same learner.
    public var divergentDevices: Int
    /// Recorded events missing from a device of the learner at the end.
    public var lostEvents: Int
    public var seconds: Double

    /// Whether every device converged and no event was lost.
    public var converged: Bool { divergentDevices == 0 && lostEvents == 0 }
}

/// Many devices studying at random against one server through fault-injecting transports;
/// at the end every device signs in to its learner's account and syncs, and the report counts
/// devices that did not converge.
public enum Simulation {
    public static func run(
        _ options: SimulationOptions, catalog: Catalog, server: URL, progress: @Sendable (Int) -> Void = { _ in }
    ) async throws -> SimulationReport {
        let start = Date()
        var generator = SeededGenerator(seed: options.seed)
        let learners = max(1, options.learners)
        var devices = [(client: LearnSyncClient, link: FaultyTransport, learner: Int)]()
        for index in 0..<options.devices {
            let link = FaultyTransport(URLSessionTransport(baseURL: server), faults: options.faults, seed: generator.next())
            let client = LearnSyncClient(
                store: try DeviceStore.inMemory(catalog: catalog), transport: link,
                retry: RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(1), maxDelay: .milliseconds(20)))
            devices.append((client, link, index % learners))
        }
        let password = "simulated password"
        let runID = String(options.seed, radix: 36) + "-" + IdentifierRules.randomToken().prefix(6)
        func username(_ learner: Int) -> String { "sim-\(runID)-\(learner)" }
        var accountExists = Set<Int>()
        var recorded = [Int: Set<EventID>]()
        var report = SimulationReport(
            seed: options.seed, devices: options.devices, learners: learners, ops: options.ops, events: 0, syncs: 0,
            failedSyncs: 0, signIns: 0, faultsInjected: 0, droppedRequests: 0, droppedAnswers: 0, duplicated: 0,
            reordered: 0, divergentDevices: 0, lostEvents: 0, seconds: 0)

        func signIn(_ index: Int) async throws {
            let device = devices[index]
            guard try await device.client.identity().learner.isGuest else { return }
            if accountExists.contains(device.learner) {
                try await device.client.signIn(username: username(device.learner), password: password)
            } else {
                try await device.client.signUp(username: username(device.learner), password: password)
                accountExists.insert(device.learner)
            }
            report.signIns += 1
        }

        for op in 0..<options.ops {
            progress(op)
            let index = Int.random(in: 0..<devices.count, using: &generator)
            let device = devices[index]
            if Double.random(in: 0..<1, using: &generator) < options.offline {
                device.link.setOffline(Bool.random(using: &generator))
            }
            let roll = Int.random(in: 0..<100, using: &generator)
            do {
                if roll < 75 {
                    let course = catalog.courses.randomElement(using: &generator)!
                    let event = try await device.client.record(RandomStudy.payload(in: course, using: &generator), in: course.id)
                    recorded[device.learner, default: []].insert(event.id)
                    report.events += 1
                } else if roll < 96 {
                    report.syncs += 1
                    try await device.client.sync()
                } else {
                    try await signIn(index)
                }
            } catch is SyncError {
                report.failedSyncs += 1
            }
        }
        progress(options.ops)

        // Settle: every device online and without faults, signed in, synced until quiet.
        for (index, device) in devices.enumerated() {
            device.link.setOffline(false)
            device.link.setFaultsEnabled(false)
            try await signIn(index)
        }
        for _ in 0..<2 {
            for device in devices {
                try await device.client.sync()
                report.syncs += 1
            }
        }

        for learner in 0..<learners {
            let group = devices.filter { $0.learner == learner }.map(\.client)
            report.divergentDevices += try await Convergence.divergentDevices(group).count
            for client in group {
                var held = Set<EventID>()
                for course in catalog.courses { held.formUnion(try await client.store.events(in: course.id).map(\.id)) }
                report.lostEvents += recorded[learner, default: []].subtracting(held).count
            }
        }
        let counts = devices.reduce(into: FaultCounts()) { total, device in
            let c = device.link.counts
            total.droppedRequests += c.droppedRequests
            total.droppedAnswers += c.droppedAnswers
            total.duplicated += c.duplicated
            total.reordered += c.reordered
        }
        report.droppedRequests = counts.droppedRequests
        report.droppedAnswers = counts.droppedAnswers
        report.duplicated = counts.duplicated
        report.reordered = counts.reordered
        report.faultsInjected = counts.total
        report.seconds = Date().timeIntervalSince(start)
        return report
    }
}
