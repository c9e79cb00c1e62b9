import Foundation
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting

// learnsync-bench [--quick] [--only NAME] [--json PATH]: runs every workload in this process and
// prints one table, each with its baseline measured in the same run; `--json` also writes the
// results to PATH (docs/benchmarks.json is the committed run). Build in release mode (Tools/bench
// does).
let usage = "usage: learnsync-bench [--quick] [--only NAME] [--json PATH]\n"
do {
    // A mistyped or unknown flag must not start the half-hour run.
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        switch argument {
        case "--quick": continue
        case "--only" where arguments.popFirst() != nil: continue
        case "--json" where arguments.popFirst() != nil: continue
        case "--memory-run": arguments.removeAll()  // a child run of `memory`, with its own arguments
        case "-h", "--help":
            print(usage, terminator: "")
            exit(0)
        default:
            FileHandle.standardError.write(Data("learnsync-bench: unknown or incomplete argument \(argument)\n\(usage)".utf8))
            exit(64)
        }
    }
}
let quick = CommandLine.arguments.contains("--quick")
let catalog = try SampleCatalog.load()
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }

if let index = CommandLine.arguments.firstIndex(of: "--memory-run"), let count = Int(CommandLine.arguments[index + 1]) {
    let phase = CommandLine.arguments.indices.contains(index + 2) ? CommandLine.arguments[index + 2] : "all"
    try await LoadWorkloads.memoryRun(count: count, phase: phase, catalog: catalog, folder: folder)
    exit(0)
}

let device = DeviceWorkloads(catalog: catalog, folder: folder, quick: quick)
let server = ServerWorkloads(catalog: catalog, folder: folder, quick: quick)
let load = LoadWorkloads(catalog: catalog, folder: folder, quick: quick)
var rows = [Row]()
// `--only NAME` runs just the workloads whose name contains NAME (for profiling).
let only = CommandLine.arguments.firstIndex(of: "--only").flatMap { index in
    CommandLine.arguments.indices.contains(index + 1) ? CommandLine.arguments[index + 1] : nil
}
@MainActor func step(_ name: String, _ body: () async throws -> Row) async {
    if let only, !name.contains(only) { return }
    FileHandle.standardError.write(Data("running: \(name)\n".utf8))
    do {
        rows.append(try await body())
    } catch {
        rows.append(Row(workload: name, measure: "failed", value: "\(error)", baseline: "-", ratio: "-", target: "-", met: false))
    }
}
@MainActor func steps(_ name: String, _ body: () async throws -> [Row]) async {
    if let only, !name.contains(only) { return }
    FileHandle.standardError.write(Data("running: \(name)\n".utf8))
    do {
        rows += try await body()
    } catch {
        rows.append(Row(workload: name, measure: "failed", value: "\(error)", baseline: "-", ratio: "-", target: "-", met: false))
    }
}
await step("batch record") { try await device.batchRecord() }
await steps("single record") { try await device.singleRecord() }
await step("progress codec") { try await device.progressCodec() }
await step("read progress") { try await device.readProgress() }
await step("reset course") { try await device.resetCourse() }
await step("attach") { try await server.attach() }
await steps("end to end") { try await server.endToEnd() }
await step("wire codec") { try await server.wireCodec() }
await step("clock ahead") { try await server.clockAhead() }
await steps("concurrent clients") { try await load.concurrentClients() }
await steps("postgres") { try await PostgresWorkloads(catalog: catalog, folder: folder, quick: quick).rows() }
await steps("full sync on PostgreSQL") { try await PostgresWorkloads(catalog: catalog, folder: folder, quick: quick).fullSyncTurns() }
await step("pool lease") { try await PostgresWorkloads(catalog: catalog, folder: folder, quick: quick).leaseCost() }
await steps("small syncs without HTTP") { try await load.smallSyncsWithoutHTTP() }
await step("durability") { try await load.durability() }
await step("password guessing") { try await GuessingWorkload(catalog: catalog, folder: folder, quick: quick).syncLatencyUnderGuessing() }
await step("memory") { try await load.memory() }
await steps("live sync") { try await LiveWorkloads(catalog: catalog, folder: folder, quick: quick).rows() }
await steps("export memory") { try await ExportWorkload(catalog: catalog, folder: folder, quick: quick).rows() }
rows.append(Row(
    workload: "peak memory of this benchmark process", measure: "RSS", value: String(format: "%.0f MB", Double(Measure.peakRSS()) / 1e6),
    baseline: "-", ratio: "-", target: "-", met: nil))
print("LearnSync benchmarks (\(quick ? "quick" : "full"), \(ProcessInfo.processInfo.activeProcessorCount) cores)")
Measure.printTable(rows)
if let index = CommandLine.arguments.firstIndex(of: "--json"), CommandLine.arguments.indices.contains(index + 1) {
    try Measure.writeJSON(rows, quick: quick, to: CommandLine.arguments[index + 1])
}
