import ArgumentParser
import Foundation
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Many devices studying at random through a faulty network; reports convergence.",
        discussion: """
            Devices start as guests, record random study, sync, and sign in to their learner's \
            account, through transports that drop, duplicate and reorder requests and go offline, \
            in the real world: clocks off both ways (--clock-skew), the server and the apps \
            upgrading through catalog versions at different moments (--catalog-versions), phones \
            cloned or restored from older backups (--clones), and retakes (--resets); with \
            --lifecycle, learners also sign out and in again, change passwords, erase their \
            accounts, update their apps, and the server expires guests and publishes catalogs that \
            drop old versions, change certificate rules or correct a key without a new version. \
            --server-restores restores the server's database from a backup taken at a random \
            earlier moment, --server-forgets makes it lose its last commits (a power cut, a \
            promoted standby); what was made since (accounts, guests, sessions, events) is gone \
            from it, and every device still holds its work. Every device is checked after every step against an independent reference model of \
            the merge rules, and the server's grading at the end. At the end \
            every device comes online on the newest catalog, signs in and syncs; the command exits \
            non-zero if any event was lost, any device differs from another of its learner or from \
            the server's grading, or any progress went backwards. The same --seed replays the same \
            choices (timing on a real network may still differ). With --live every device also runs \
            live sync, as an app would, through the same faults; at the end each learner's devices \
            record in turn and the report gives how soon each event reached the others (p50/p99): \
            one that does not arrive within 5 s counts as lost.
            """)

    @Option(help: "Number of devices.") var devices = 8
    @Option(help: "Number of learners (devices are shared out among them).") var learners = 2
    @Option(help: "Number of random operations.") var ops = 2000
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Chance a request is lost (0 to 1).") var drop = 0.0
    @Option(help: "Chance a request is delivered twice (0 to 1).") var duplicate = 0.0
    @Flag(help: "Deliver some old requests late, out of order.") var reorder = false
    @Option(help: "Chance per operation that the acting device goes offline or online (0 to 1).") var offline = 0.0
    @Option(name: .customLong("clock-skew"), help: "Largest clock error in seconds (at most ten years), ahead or behind, of each device and the server; redrawn during the run.")
    var clockSkew: Int64 = 0
    @Option(name: .customLong("catalog-versions"), help: "Catalog versions the server and devices upgrade through at different moments.")
    var catalogVersions = 1
    @Option(help: "How many times a phone is cloned or restored from an earlier backup.") var clones = 0
    @Option(help: "Chance that a recorded event is a retake (course reset), 0 to 1.") var resets = 0.03
    @Flag(help: "Learners also sign out and in again, change passwords, erase their accounts and update their apps.")
    var lifecycle = false
    @Option(name: .customLong("server-restores"), help: "How many times the server's database is restored from an earlier backup.")
    var serverRestores = 0
    @Option(name: .customLong("server-forgets"), help: "How many times the server loses its last commits.")
    var serverForgets = 0
    @Flag(help: "Every device also runs live sync throughout (pushes and pulls by itself); reports how soon events reach the learner's other devices.")
    var live = false
    @Option(help: "Use this server instead of an embedded one.") var server: String?
    @OptionGroup var catalog: CatalogOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard devices >= 1, learners >= 1, ops >= 0 else { throw ValidationError("--devices and --learners must be at least 1") }
        // Ten years either way: a clock further behind would read before 1970.
        guard clockSkew <= 315_360_000 else { throw ValidationError("--clock-skew is at most 315360000 seconds (ten years)") }
        guard clockSkew >= 0, catalogVersions >= 1, clones >= 0 else {
            throw ValidationError("--clock-skew and --clones must not be negative, --catalog-versions at least 1")
        }
        guard serverRestores >= 0, serverForgets >= 0 else { throw ValidationError("--server-restores and --server-forgets must not be negative") }
        if server != nil, clockSkew > 0 || catalogVersions > 1 || serverRestores > 0 || serverForgets > 0 {
            throw ValidationError("--clock-skew, --catalog-versions, --server-restores and --server-forgets need the embedded server (leave out --server)")
        }
        for (name, value) in [("drop", drop), ("duplicate", duplicate), ("offline", offline), ("resets", resets)] where !(0...1).contains(value) {
            throw ValidationError("--\(name) must be between 0 and 1")
        }
    }

    func run() async throws {
        let catalog = try catalog.load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var embedded: RestorableServer?
        let target: SimulatedServer
        if let server {
            target = SimulatedServer(url: try serverURL(server))
        } else {
            let clock = OffsetWallClock()
            let started = try await RestorableServer.start(
                databasePath: folder.appendingPathComponent("server.sqlite").path, catalog: catalog, passwordCost: 4, clock: clock)
            embedded = started
            target = started.simulated(clock: clock)
        }
        let options = SimulationOptions(
            devices: devices, learners: learners, ops: ops, seed: seed,
            faults: Faults(dropRequest: drop / 2, dropAnswer: drop / 2, duplicate: duplicate, reorder: reorder ? 0.1 : 0),
            offline: offline, clockSkewSeconds: clockSkew, catalogVersions: catalogVersions, clones: clones, resetRate: resets, lifecycle: lifecycle,
            serverRestores: serverRestores, serverForgets: serverForgets, live: live)
        let total = ops
        let showBar = isatty(2) == 1 && !output.json
        let report = try await Simulation.run(options, catalog: catalog, server: target) { done in
            guard showBar, done % 20 == 0 || done == total else { return }
            let width = 30, filled = total == 0 ? width : width * done / total
            FileHandle.standardError.write(Data("\rsimulating [\(String(repeating: "=", count: filled))\(String(repeating: " ", count: width - filled))] \(done)/\(total)".utf8))
        }
        if showBar { FileHandle.standardError.write(Data("\n".utf8)) }
        await embedded?.stop()
        if output.json {
            try Output.printJSON(report)
        } else {
            print(Output.table(["", ""], [
                ["seed", "\(report.seed)"], ["devices", "\(report.devices)"], ["learners", "\(report.learners)"],
                ["operations", "\(report.ops)"], ["events recorded", "\(report.events)"],
                ["syncs", "\(report.syncs) (\(report.failedSyncs) failed and retried later)"], ["sign-ins", "\(report.signIns)"],
                ["faults injected", "\(report.faultsInjected) (lost requests \(report.droppedRequests), lost answers \(report.droppedAnswers), duplicated \(report.duplicated), reordered \(report.reordered))"],
                ["real world", "\(report.clockChanges) clock changes, \(report.catalogUpgrades) catalog upgrades, \(report.clonesMade) clones, \(report.restores) restores, \(report.resets) resets"],
                ["server faults", "\(report.serverRestores) restores from \(report.serverBackups) backups, \(report.serverForgets) losses of the last commits, \(report.forgottenByServer) events only the server held forgotten"],
                ["lifecycle", "\(report.signOuts) sign-outs (\(report.refusedSignOuts) refused), \(report.passwordChanges) password changes, \(report.erasures) erasures, \(report.guestExpiries) guest expiries"],
                ["catalog publishes", "\(report.narrowPublishes) with the newest versions only, \(report.refusedCorrections) corrections without a new version refused"],
                ["moved to a new replica", "\(report.movedEvents) events"],
                ["removed by erasures", "\(report.destroyedByErasure) events"],
                ["removed by restores", "\(report.destroyedByRestore) events only the restored phone held"],
                ["lost events", "\(report.lostEvents)"], ["divergent devices", "\(report.divergentDevices)"],
                ["regressions", "\(report.regressions)"],
                ["reference model", "\(report.modelMismatches) mismatches"],
            ] + (live ? [[
                "live propagation",
                String(format: "p50 %.0f ms, p99 %.0f ms over %d arrivals, %d not within 5 s",
                       report.propagationP50Milliseconds ?? 0, report.propagationP99Milliseconds ?? 0, report.propagationSamples, report.propagationTimeouts),
            ]] : []) + [
                ["time", String(format: "%.1fs", report.seconds)],
            ]))
            for line in (report.lostDetails + report.divergenceDetails + report.regressionDetails + report.modelDetails).prefix(20) {
                print("  \(line)")
            }
            print(report.converged ? "CONVERGED" : "DIVERGED")
        }
        if !report.converged { throw ExitCode.failure }
    }
}
