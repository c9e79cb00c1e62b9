import Foundation
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting

/// Drives HTTP load from a separate process with `wrk` (Debian's package), so the load
/// generator's own cost stays out of the server's latency figures.
enum Wrk {
    /// One small-sync client: its bearer token and ids, and where a run starts it.
    struct Client {
        var token: String
        var replica: ReplicaID
        var learner: LearnerID
        /// The counter of the last event it pushed before the run (the run's first is the next).
        var pushed: Int64 = 0
        /// The feed position it has read up to before the run: its cursor.
        var position: Int64 = 0
    }

    /// What one run measured.
    struct Result {
        var rate: Double
        var p50: Double
        var p99: Double
        /// Requests answered in the run.
        var requests: Int
        /// CPU time the server (this process) spent per request during the run, in seconds.
        var serverCPUPerRequest = 0.0
    }

    static let threads = 2

    /// Path of the `wrk` executable, or nil when it is not installed.
    static var executable: String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/wrk" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A Lua script that sends, round robin over `clients`, one small sync each, as a device
    /// does: the client's next `lesson.started` event pushed, and up to five events pulled after
    /// its cursor, which moves past each event it pushed (a client's feed holds only its own
    /// events). Clients are split between wrk's threads so each client's counters live in one
    /// thread; they start from ``Client/pushed`` and ``Client/position``.
    static func script(clients: [Client], course: Course) -> String {
        let table = clients.map {
            "{t=\"\($0.token)\",r=\"\($0.replica)\",l=\"\($0.learner)\",s=\($0.pushed),p=\($0.position)}"
        }.joined(separator: ",\n  ")
        let lessons = course.lessons.map { "\"\($0.id)\"" }.joined(separator: ",")
        return """
            local clients = {
              \(table)
            }
            local lessons = {\(lessons)}
            local course = "\(course.id)"
            local threads = \(threads)
            local path = "\(Endpoint.sync.path)"
            local created = 0
            function setup(thread)
              thread:set("first", created)
              created = created + 1
            end
            function init(args)
              if args[1] then path = args[1] end
              index = first
            end
            function request()
              local c = clients[index % #clients + 1]
              index = index + threads
              c.s = c.s + 1
              local cursor = c.p
              c.p = c.p + 1
              local body = string.format(
                '{"protocol":1,"replica":"%s","lastSeq":%d,"cursor":%d,"limit":5,"events":[{"replica":"%s","seq":%d,"learner":"%s","hlc":%d,"course":"%s","type":"lesson.started","item":"%s"}]}',
                c.r, c.s, cursor, c.r, c.s, c.l, os.time() * 1000000, course, lessons[c.s % #lessons + 1])
              return wrk.format("POST", path, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. c.t}, body)
            end
            """
    }

    /// Runs wrk with `connections` connections for `seconds` against `url` (the script's
    /// requests go to `path`) and parses its report. A later run against the same server needs
    /// a script whose clients start where the earlier run left them, or its syncs push events
    /// the server holds already (retries) and read from behind the feed's end.
    static func run(url: URL, path: String, connections: Int, seconds: Int, script: URL) throws -> Result {
        guard let executable else {
            throw BenchError("wrk is not installed (Tools/bench installs it: apt-get install wrk)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-wrk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cpu = Measure.processCPU()
        let child = try ChildProcess(
            [executable, "-t", String(threads), "-c", String(connections), "-d", "\(seconds)s", "--latency", "-s", script.path, url.absoluteString, "--", path],
            outputPath: folder.appendingPathComponent("out").path, errorPath: folder.appendingPathComponent("err").path)
        let status = child.wait()
        let serverCPU = Measure.processCPU() - cpu
        let report = child.output
        guard status == 0 else { throw BenchError("wrk failed:\n\(report)\(child.errors)") }
        var result = try parse(report)
        result.serverCPUPerRequest = serverCPU / Double(max(result.requests, 1))
        return result
    }

    /// Reads requests/s, the requests answered and the 50th and 99th latency percentiles from
    /// wrk's `--latency` report; any error or non-2xx answer fails the run.
    static func parse(_ report: String) throws -> Result {
        var rate: Double?, p50: Double?, p99: Double?, requests: Int?
        for line in report.split(separator: "\n") {
            let words = line.split(separator: " ")
            if line.contains("Non-2xx") || line.contains("Socket errors") {
                throw BenchError("wrk saw failures: \(line.trimmingCharacters(in: .whitespaces))\n\(report)")
            }
            if words.first == "Requests/sec:", words.count == 2 { rate = Double(words[1]) }
            // "  123456 requests in 10.00s, 45.67MB read"
            if words.count >= 3, words[1] == "requests", words[2] == "in" { requests = Int(words[0]) }
            if words.count == 2, words[0] == "50%" { p50 = seconds(words[1]) }
            if words.count == 2, words[0] == "99%" { p99 = seconds(words[1]) }
        }
        guard let rate, let p50, let p99, let requests else { throw BenchError("could not read wrk's report:\n\(report)") }
        return Result(rate: rate, p50: p50, p99: p99, requests: requests)
    }

    /// wrk prints durations as `812.00us`, `3.41ms` or `1.20s`.
    private static func seconds(_ text: Substring) -> Double? {
        for (suffix, scale) in [("us", 1e-6), ("ms", 1e-3), ("s", 1.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * scale }
        }
        return nil
    }
}

extension Wrk.Result {
    /// Runs of equal length as one: the rate and CPU per request over all of them, and the
    /// worst run's latency percentiles.
    init(combining runs: [Wrk.Result]) {
        let requests = runs.map(\.requests).reduce(0, +)
        self.init(
            rate: runs.map(\.rate).reduce(0, +) / Double(max(runs.count, 1)), p50: runs.map(\.p50).max() ?? 0,
            p99: runs.map(\.p99).max() ?? 0, requests: requests,
            serverCPUPerRequest: runs.map { $0.serverCPUPerRequest * Double($0.requests) }.reduce(0, +) / Double(max(requests, 1)))
    }
}
