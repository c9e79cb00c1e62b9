import Foundation
import Hummingbird
import LearnSync
import LearnSyncServer
import LearnSyncTesting
import Logging
import ServiceLifecycle
import Synchronization

/// Concurrency and memory workloads.
struct LoadWorkloads {
    let catalog: Catalog
    let folder: URL
    let quick: Bool

    var course: Course { catalog[SampleCatalog.courseID]! }

    /// 64 clients doing small syncs (one event pushed, the feed pulled) against the server, vs
    /// a bare Hummingbird endpoint answering the same bytes, both over loopback HTTP.
    func concurrentClients() async throws -> Row {
        let clients = 64, seconds: Double = quick ? 3 : 8
        let server = try await EmbeddedServer.start(databasePath: folder.appendingPathComponent("load.sqlite").path, catalog: catalog, passwordCost: 4)
        // Each client is a registered guest with its own replica.
        var sessions = [(token: String, replica: ReplicaID, learner: LearnerID)]()
        for _ in 0..<clients {
            let learner = LearnerID.newGuest()
            let body = try WireCoding.encode(RegisterGuestRequest(learner: learner, secret: "benchmark-device-secret"))
            let answer = try await URLSessionTransport(baseURL: server.url).send(
                TransportRequest(path: "/v1/guests", headers: ["Content-Type": "application/json"], body: body))
            let session = try WireCoding.decode(SessionResponse.self, from: answer.body)
            sessions.append((session.token, .random(), learner))
        }
        let registered = sessions
        let sample = try await oneSync(server.url, registered[0], seq: 1_000_000)
        let ours = try await hammer(clients: clients, seconds: seconds) { client, seq in
            _ = try await oneSync(server.url, registered[client], seq: seq)
        }
        await server.stop()

        // Baseline: a bare endpoint returning the same bytes.
        let bare = try await BareServer.start(answer: sample)
        let baseline = try await hammer(clients: clients, seconds: seconds) { _, _ in
            let answer = try await URLSessionTransport(baseURL: bare.url).send(
                TransportRequest(path: "/bare", headers: ["Content-Type": "application/json"], body: Data("{}".utf8)))
            guard answer.status == 200 else { throw BenchError("bare endpoint answered \(answer.status)") }
        }
        await bare.stop()
        let ratio = ours.rate / baseline.rate
        return Row(
            workload: "server: \(clients) concurrent clients doing small syncs", measure: "req/s, p99",
            value: String(format: "%.0f req/s, p99 %.1f ms", ours.rate, ours.p99 * 1000),
            baseline: String(format: "%.0f req/s, p99 %.1f ms (bare Hummingbird, same bytes)", baseline.rate, baseline.p99 * 1000),
            ratio: String(format: "%.2f×", ratio), target: "≥ 0.5×, p99 < 50 ms", met: ratio >= 0.5 && ours.p99 < 0.05)
    }

    private func oneSync(_ url: URL, _ session: (token: String, replica: ReplicaID, learner: LearnerID), seq: Int64) async throws -> Data {
        let event = try ProgressEvent(
            id: EventID(replica: session.replica, seq: seq), learner: session.learner,
            timestamp: HLCTimestamp(physicalMilliseconds: SystemWallClock().millisecondsSince1970()), course: course.id,
            payload: .lessonStarted(lesson: course.lessons[Int(seq % 9)].id))
        let body = try WireCoding.encode(SyncRequest(replica: session.replica, cursor: 0, events: [event], limit: 5))
        let answer = try await URLSessionTransport(baseURL: url).send(TransportRequest(
            path: "/v1/sync", headers: ["Content-Type": "application/json", "Authorization": "Bearer \(session.token)"], body: body))
        guard answer.status == 200 else { throw BenchError("sync answered \(answer.status)") }
        return answer.body
    }

    /// Runs `clients` loops for `seconds`; returns requests per second and p99 latency.
    private func hammer(clients: Int, seconds: Double, _ request: @escaping @Sendable (Int, Int64) async throws -> Void) async throws -> (rate: Double, p99: Double) {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for client in 0..<clients {
                group.addTask {
                    var mine = [Double](), seq: Int64 = 1
                    while ContinuousClock.now < deadline {
                        mine.append(try await Measure.time { try await request(client, seq) })
                        seq += 1
                    }
                    return mine
                }
            }
            return try await group.reduce(into: [Double]()) { $0 += $1 }
        }
        return (Double(latencies.count) / seconds, Measure.percentile(latencies, 0.99))
    }

    /// Peak RSS of a separate process that syncs `count` events from device A through an
    /// embedded server to device B, page by page.
    func memory() async throws -> Row {
        let count = quick ? 100_000 : 1_000_000
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["--memory-run", String(count)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let peak = Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BenchError("the memory run failed")
        }
        let megabytes = Double(peak) / 1e6
        return Row(
            workload: "peak memory syncing \(count) events A → server → B (one process)", measure: "RSS",
            value: String(format: "%.0f MB", megabytes), baseline: "-", ratio: "-", target: "< 150 MB", met: megabytes < 150)
    }

    /// The child side of ``memory()``: prints the peak RSS in bytes.
    /// `phase` stops early for diagnosis: `record` (device A only) or `push` (A to the server).
    static func memoryRun(count: Int, phase: String, catalog: Catalog, folder: URL) async throws {
        let course = catalog[SampleCatalog.courseID]!
        // LEARNSYNC_BENCH_SERVER points the devices at a server in another process, to tell the
        // devices' memory from the server's.
        let external = ProcessInfo.processInfo.environment["LEARNSYNC_BENCH_SERVER"].flatMap(URL.init(string:))
        let server = external == nil
            ? try await EmbeddedServer.start(databasePath: folder.appendingPathComponent("memory.sqlite").path, catalog: catalog, passwordCost: 4)
            : nil
        let url = external ?? server!.url
        // `direct-…` phases skip HTTP: the devices call the service in process.
        let direct: (any SyncTransport)? = phase.hasPrefix("direct")
            ? DirectTransport(service: SyncService(store: try SQLiteServerStore(path: folder.appendingPathComponent("direct.sqlite").path), catalog: catalog, passwordCost: 4))
            : nil
        let storeA = try DeviceStore(path: folder.appendingPathComponent("memory-a.sqlite").path, catalog: catalog)
        let transport = phase.hasPrefix("canned") ? CannedTransport(guest: try await storeA.identity().learner) : direct ?? URLSessionTransport(baseURL: url)
        let a = LearnSyncClient(store: storeA, transport: transport)
        let b = LearnSyncClient(store: try DeviceStore(path: folder.appendingPathComponent("memory-b.sqlite").path, catalog: catalog), transport: transport)
        if phase == "canned" { try await a.store.setToken("canned") }
        if phase == "canned-alias" { try await a.store.attach(to: "a-canned", token: "canned") }
        let username = "memory-\(IdentifierRules.randomToken().prefix(8))"
        if !phase.hasPrefix("canned") {
            try await a.signUp(username: username, password: "bench password")
            try await b.signIn(username: username, password: "bench password")
        }
        var generator = SeededGenerator(seed: 15)
        for _ in 0..<(count / 1000) {
            try await a.store.record((0..<1000).map { _ in
                RecordEntry(course: course.id, payload: RandomStudy.payload(in: course, resets: false, using: &generator))
            })
        }
        if phase == "ack-only" {
            while true {
                let pending = try await a.store.pendingEvents(limit: 500)
                if pending.isEmpty { break }
                try await a.store.apply(SyncRoundResult(pushed: pending, rejected: [], pulled: [], aliases: [], cursor: 0))
            }
        } else if phase == "encode-only" {
            let pending = try await a.store.pendingEvents(limit: 500)
            for _ in 0..<(count / 500) { _ = try WireCoding.encode(SyncRequest(replica: pending[0].id.replica, cursor: 0, events: pending)) }
        } else if phase == "decode-only" {
            let pending = try await a.store.pendingEvents(limit: 500)
            let data = try WireCoding.encode(SyncRequest(replica: pending[0].id.replica, cursor: 0, events: pending))
            for _ in 0..<(count / 500) { _ = try WireCoding.decodeRequest(SyncRequest.self, from: data) }
        } else if phase == "read-only" {
            for _ in 0..<(count / 500) { _ = try await a.store.pendingEvents(limit: 500) }
        } else if phase != "record" {
            let report = try await a.sync()
            FileHandle.standardError.write(Data("A: \(report)\n".utf8))
        }
        if phase == "all" || phase == "direct-all" { try await b.sync() }
        await server?.stop()
        print(Measure.peakRSS())
    }
}

/// A bare Hummingbird server that answers every POST /bare with fixed bytes.
struct BareServer {
    let url: URL
    let group: ServiceGroup
    let task: Task<Void, any Error>

    static func start(answer: Data) async throws -> BareServer {
        let router = Router()
        router.post("/bare") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
        }
        var logger = Logger(label: "bare")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw BenchError("the bare server did not start") }
        return BareServer(url: URL(string: "http://127.0.0.1:\(port)")!, group: group, task: task)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}

/// A transport that hands requests straight to a ``SyncService`` (no HTTP stack), to tell the
/// HTTP client's memory and time from LearnSync's own.
struct DirectTransport: SyncTransport {
    let service: SyncService

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        do {
            let body: Data
            switch request.path {
            case "/v1/sync":
                let session = try await service.authenticate(authorization: request.headers["Authorization"])
                body = try WireCoding.encode(try await service.sync(WireCoding.decodeRequest(SyncRequest.self, from: request.body), session: session))
            case "/v1/accounts":
                body = try WireCoding.encode(try await service.signUp(WireCoding.decodeRequest(CredentialsRequest.self, from: request.body), address: "direct"))
            case "/v1/sessions":
                body = try WireCoding.encode(try await service.signIn(WireCoding.decodeRequest(CredentialsRequest.self, from: request.body), address: "direct"))
            default:
                return TransportResponse(status: 404, body: Data())
            }
            return TransportResponse(status: 200, body: body)
        } catch let problem as Problem {
            return TransportResponse(status: problem.status, body: try WireCoding.encode(problem))
        }
    }
}

/// Answers every sync with an empty page, to measure the device side of a sync alone.
struct CannedTransport: SyncTransport {
    let guest: LearnerID

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        let aliases = guest.isGuest ? [Alias(guest: guest, account: "a-canned")] : []
        return TransportResponse(status: 200, body: try WireCoding.encode(SyncResponse(rejected: [], events: [], aliases: aliases, cursor: 1, more: false)))
    }
}
