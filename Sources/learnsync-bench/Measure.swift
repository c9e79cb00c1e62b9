import Foundation

/// One row of the results table.
struct Row: Codable {
    var workload: String
    var measure: String
    var value: String
    var baseline: String
    var ratio: String
    var target: String
    var met: Bool?
}

enum Measure {
    /// Seconds taken by `body`.
    static func time(_ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        try await body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    /// CPU seconds this process has used so far, user and system, all threads.
    static func processCPU() -> Double {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// The machine's CPU time so far, from /proc/stat's first line: busy (all but idle and I/O
    /// wait) and total, in clock ticks. Two readings give how busy the cores were between them.
    static func machineCPU() -> (busy: Double, total: Double) {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return (0, 0) }
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 5 else { return (0, 0) }
        // user nice system idle iowait irq softirq steal (guest time is counted in user).
        let total = ticks.prefix(8).reduce(0, +)
        return (total - ticks[3] - ticks[4], total)
    }

    /// CPU seconds, user and system, used so far by the processes `pids`, their children alive
    /// and the children they reaped (a PostgreSQL cluster: its postmaster, every backend, and
    /// the backends of connections since closed), from /proc.
    static func treeCPU(_ pids: [Int32]) -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var total = 0.0
        let roots = Set(pids)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After "pid (name)": state, ppid, …; utime and stime are fields 14 and 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 14, let ppid = Int32(fields[1]), let pid = Int32(entry),
                roots.contains(pid) || roots.contains(ppid),
                let user = Double(fields[11]), let system = Double(fields[12])
            else { continue }
            total += (user + system) / ticks
            // A root's reaped children: cutime and cstime, fields 16 and 17.
            if roots.contains(pid), let childUser = Double(fields[13]), let childSystem = Double(fields[14]) {
                total += (childUser + childSystem) / ticks
            }
        }
        return total
    }

    /// Peak resident set size of this process, in bytes (VmHWM).
    static func peakRSS() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kilobytes * 1024
        }
        return 0
    }

    static func format(_ value: Double, _ unit: String) -> String {
        switch unit {
        case "events/s", "req/s": return String(format: "%.0f %@", value, unit)
        case "ms": return String(format: "%.3f ms", value * 1000)
        case "µs": return String(format: "%.1f µs", value * 1e6)
        default: return String(format: "%.2f %@", value, unit)
        }
    }

    /// The run's results as `--json PATH` writes them: what was measured, when, on what, and
    /// at which commit (`LEARNSYNC_BENCH_COMMIT`, which `Tools/bench` sets). `Tools/bench-page`
    /// makes docs/PERFORMANCE.md's table from this file.
    struct Results: Codable {
        var date: String
        var commit: String
        var machine: String
        var mode: String
        var rows: [Row]
    }

    static func writeJSON(_ rows: [Row], quick: Bool, to path: String) throws {
        let day = Date().formatted(.iso8601.year().month().day())
        let commit = ProcessInfo.processInfo.environment["LEARNSYNC_BENCH_COMMIT"] ?? "unknown"
        let results = Results(date: day, commit: commit, machine: machine(), mode: quick ? "quick" : "full", rows: rows)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try (encoder.encode(results) + Data("\n".utf8)).write(to: URL(fileURLWithPath: path))
    }

    /// The processor's model and count, the system and the SQLite library measured.
    static func machine() -> String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = info.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown processor"
        let system = ProcessInfo.processInfo.operatingSystemVersionString
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(model)), \(system), SQLite \(RawSQLite.version)"
    }

    static func printTable(_ rows: [Row]) {
        let header = ["workload", "measure", "LearnSync", "baseline (same run)", "ratio", "target", "met"]
        let cells = rows.map { [$0.workload, $0.measure, $0.value, $0.baseline, $0.ratio, $0.target, $0.met.map { $0 ? "yes" : "NO" } ?? "-"] }
        let widths = header.indices.map { i in ([header] + cells).map { $0[i].count }.max() ?? 0 }
        func line(_ row: [String]) -> String {
            "| " + zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " | ") + " |"
        }
        print(line(header))
        print("|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|")
        for row in cells { print(line(row)) }
    }
}
