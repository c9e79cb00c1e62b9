import Foundation
import LearnSync
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting
import Synchronization

/// A real `learnsync serve` exporting a learner of 1,000,000 events (100,000 with `--quick`) to a
/// device that streams it to a file: the server's memory while it writes the export, against its
/// memory idle just before (the baseline), and the time the whole export takes. First the device
/// pushes those events, recorded offline, in one `sync()` within its default deadline (2 minutes).
struct ExportWorkload {
    let catalog: Catalog
    let folder: URL
    let quick: Bool

    var binary: URL { URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("learnsync") }

    func rows() async throws -> [Row] {
        let count = quick ? 100_000 : 1_000_000
        let logs = folder.appendingPathComponent("export-logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let server = try await ServerProcess.start(
            1, binary: binary, database: folder.appendingPathComponent("export.sqlite").path, folder: logs)[0]
        defer { server.stop() }
        let course = catalog[SampleCatalog.courseID]!
        let phone = LearnSyncClient(
            store: try DeviceStore(path: folder.appendingPathComponent("export-phone.sqlite").path, catalog: catalog),
            transport: URLSessionTransport(baseURL: server.url))
        var generator = SeededGenerator(seed: 30)
        for _ in 0..<(count / 1000) {
            try await phone.store.record((0..<1000).map { _ in
                RecordEntry(course: course.id, payload: RandomStudy.payload(in: course, resets: false, using: &generator))
            })
        }
        let pushSeconds = try await Measure.time { try await phone.sync() }
        try await Task.sleep(for: .seconds(1))
        let idle = Self.residentBytes(of: server.child.pid)

        // Sampled every 20 ms while the export runs.
        let peak = Atomic<Int>(idle)
        let sampling = Task {
            while !Task.isCancelled {
                _ = peak.fetchMax(Self.residentBytes(of: server.child.pid))
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        let file = folder.appendingPathComponent("export.json")
        let seconds = try await Measure.time { try await phone.serverExport(.json, to: file) }
        sampling.cancel()
        _ = await sampling.value
        let size = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        let above = Double(peak.load(ordering: .relaxed) - idle) / 1e6
        return [
            Row(
                workload: "push \(count) events recorded offline to a real server in one sync()", measure: "seconds",
                value: String(format: "%.2f s", pushSeconds), baseline: "-", ratio: "-", target: "within the call's 2-minute deadline",
                met: pushSeconds < 120),
            Row(
                workload: "server memory exporting \(count) events of one learner (real server, streamed to the device's file)",
                measure: "RSS above idle", value: String(format: "%.0f MB", above), baseline: String(format: "idle %.0f MB", Double(idle) / 1e6),
                ratio: "-", target: "< 100 MB", met: quick ? nil : above < 100),
            Row(
                workload: "the same export's duration and size", measure: "s, MB",
                value: String(format: "%.2f s, %.0f MB", seconds, Double(size) / 1e6), baseline: "-", ratio: "-", target: "-", met: nil),
        ]
    }

    /// The resident memory of process `pid` (`VmRSS`), in bytes.
    static func residentBytes(of pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (line.split(separator: " ").compactMap { Int($0) }.first ?? 0) * 1024
        }
        return 0
    }
}

extension Atomic where Value == Int {
    /// Raises the value to `candidate` if larger; returns the old value.
    fileprivate func fetchMax(_ candidate: Int) -> Int {
        var current = load(ordering: .relaxed)
        while candidate > current {
            let (exchanged, original) = compareExchange(expected: current, desired: candidate, ordering: .relaxed)
            if exchanged { return original }
            current = original
        }
        return current
    }
}
