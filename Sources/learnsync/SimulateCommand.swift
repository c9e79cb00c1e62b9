import ArgumentParser
import Foundation
import LearnSync
import LearnSyncTesting

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Many devices studying at random through a faulty network; reports convergence.",
        discussion: """
            Devices start as guests, record random study, sync, and sign in to their learner's \
            account, through transports that drop, duplicate and reorder requests and go offline. \
            At the end every device comes online, signs in and syncs; the command exits non-zero \
            if any device differs from another device of its learner or lost an event. \
            The same --seed replays the same run.
            """)

    @Option(help: "Number of devices.") var devices = 8
    @Option(help: "Number of learners (devices are shared out among them).") var learners = 2
    @Option(help: "Number of random operations.") var ops = 2000
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Chance a request is lost (0 to 1).") var drop = 0.0
    @Option(help: "Chance a request is delivered twice (0 to 1).") var duplicate = 0.0
    @Flag(help: "Deliver some old requests late, out of order.") var reorder = false
    @Option(help: "Chance per operation that the acting device goes offline or online (0 to 1).") var offline = 0.0
    @Option(help: "Use this server instead of an embedded one.") var server: String?
    @OptionGroup var catalog: CatalogOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard devices >= 1, learners >= 1, ops >= 0 else { throw ValidationError("--devices and --learners must be at least 1") }
        for (name, value) in [("drop", drop), ("duplicate", duplicate), ("offline", offline)] where !(0...1).contains(value) {
            throw ValidationError("--\(name) must be between 0 and 1")
        }
    }

    func run() async throws {
        let catalog = try catalog.load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var embedded: EmbeddedServer?
        let url: URL
        if let server {
            url = try serverURL(server)
        } else {
            let started = try await EmbeddedServer.start(databasePath: folder.appendingPathComponent("server.sqlite").path, catalog: catalog, passwordCost: 4)
            embedded = started
            url = started.url
        }
        let options = SimulationOptions(
            devices: devices, learners: learners, ops: ops, seed: seed,
            faults: Faults(dropRequest: drop / 2, dropAnswer: drop / 2, duplicate: duplicate, reorder: reorder ? 0.1 : 0),
            offline: offline)
        let total = ops
        let showBar = isatty(2) == 1 && !output.json
        let report = try await Simulation.run(options, catalog: catalog, server: url) { done in
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
                ["lost events", "\(report.lostEvents)"], ["divergent devices", "\(report.divergentDevices)"],
                ["time", String(format: "%.1fs", report.seconds)],
            ]))
            print(report.converged ? "CONVERGED" : "DIVERGED")
        }
        if !report.converged { throw ExitCode.failure }
    }
}
