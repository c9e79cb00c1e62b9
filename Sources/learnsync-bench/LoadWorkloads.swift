import Foundation
import GRDB
import Hummingbird
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncServer
import LearnSyncTesting
import Logging
import ServiceLifecycle

/// Concurrency and memory workloads.
struct LoadWorkloads {
    let catalog: Catalog
    let folder: URL
    let quick: Bool

    var course: Course { catalog[SampleCatalog.courseID]! }

    /// 64 clients doing small syncs (one event pushed, up to five pulled) against the server,
    /// vs a bare Hummingbird endpoint answering the same bytes, both over loopback HTTP. The
    /// load comes from `wrk` in another process (see ``Wrk``). The two are measured in turn, in
    /// two halves each (ours, bare, ours, bare), so that a machine that slows down or speeds up
    /// during the run moves both sides of the ratio alike. Two floors take their turns too: the
    /// bare endpoint storing each request's body first (``RawDurableLog``), and storing the
    /// server's row for its event (``RawDurableRows``).
    func concurrentClients() async throws -> [Row] {
        let connections = 64, seconds = quick ? 4 : 10
        let databasePath = folder.appendingPathComponent("load.sqlite").path
        let server = try await EmbeddedServer.start(databasePath: databasePath, catalog: catalog, passwordCost: 4)
        // Each client is a registered guest with its own replica.
        var clients = [Wrk.Client]()
        for _ in 0..<connections {
            let learner = LearnerID.newGuest()
            let body = try WireCoding.encode(RegisterGuestRequest(learner: learner, secret: "benchmark-device-secret"))
            let answer = try await URLSessionTransport(baseURL: server.url).send(
                TransportRequest(path: Endpoint.guests.path, headers: ["Content-Type": "application/json"], body: body))
            let session = try WireCoding.decode(SessionResponse.self, from: answer.body)
            clients.append(Wrk.Client(token: session.token, replica: .random(), learner: learner))
        }
        let script = folder.appendingPathComponent("small-syncs.lua")
        try Data(Wrk.script(clients: clients, course: course).utf8).write(to: script)
        // One sync by hand: its answer is what the bare endpoint returns.
        let sample = try await URLSessionTransport(baseURL: server.url).send(TransportRequest(
            path: Endpoint.sync.path, headers: ["Content-Type": "application/json", "Authorization": "Bearer \(clients[0].token)"],
            body: try WireCoding.encode(SyncRequest(replica: clients[0].replica, lastSeq: 0, cursor: 0, events: [], limit: 5))))
        guard sample.status == 200 else { throw BenchError("sync answered \(sample.status)") }
        let log = try RawDurableLog(path: folder.appendingPathComponent("durable-floor.sqlite").path)
        let rows = try RawDurableRows(path: folder.appendingPathComponent("durable-rows.sqlite").path, clients: clients, course: course)
        let bare = try await BareServer.start(answer: sample.body, log: log, rows: rows)
        var oursHalves = [Wrk.Result](), bareHalves = [Wrk.Result](), floorHalves = [Wrk.Result](), rowsHalves = [Wrk.Result]()
        for half in 0..<2 {
            if half > 0 {
                // Each client continues where the first half left it: its next counter, and its
                // cursor at its feed's end (as a device's after its last sync).
                clients = try Self.continued(clients, in: databasePath)
                try Data(Wrk.script(clients: clients, course: course).utf8).write(to: script)
            }
            oursHalves.append(try Wrk.run(url: server.url, path: Endpoint.sync.path, connections: connections, seconds: seconds / 2, script: script))
            bareHalves.append(try Wrk.run(url: bare.url, path: "/bare", connections: connections, seconds: seconds / 2, script: script))
            floorHalves.append(try Wrk.run(url: bare.url, path: "/durable", connections: connections, seconds: seconds / 2, script: script))
            rowsHalves.append(try Wrk.run(url: bare.url, path: "/durable-rows", connections: connections, seconds: seconds / 2, script: script))
        }
        await server.stop()
        await bare.stop()
        let ours = Wrk.Result(combining: oursHalves), baseline = Wrk.Result(combining: bareHalves)
        let floor = Wrk.Result(combining: floorHalves)
        let rowsFloor = Wrk.Result(combining: rowsHalves)
        let ratio = ours.rate / baseline.rate
        func describe(_ result: Wrk.Result) -> String {
            String(
                format: "%.0f req/s, p50 %.1f ms, p99 %.1f ms, server CPU %.0f µs/req", result.rate, result.p50 * 1000, result.p99 * 1000,
                result.serverCPUPerRequest * 1e6)
        }
        return [
            Row(
                workload: "server: \(connections) concurrent clients doing small syncs (wrk, 2 × \(seconds / 2) s, taking turns with the bare endpoint)",
                measure: "req/s, p99", value: describe(ours), baseline: describe(baseline) + " (bare Hummingbird, same bytes)",
                ratio: String(format: "%.2f×", ratio), target: "≥ 0.5×, p99 < 50 ms", met: ratio >= 0.5 && ours.p99 < 0.05),
            Row(
                workload: "diagnostic: the bare endpoint storing each request body as one row first (raw SQLite, WAL, synchronous=NORMAL, group commit), in turn with the two above",
                measure: "req/s, p99", value: describe(floor), baseline: describe(baseline) + String(format: "; LearnSync %.2f× of this floor", ours.rate / floor.rate),
                ratio: String(format: "%.2f×", floor.rate / baseline.rate), target: "-", met: nil),
            Row(
                workload: "diagnostic: the bare endpoint storing each request's event as the server's row first (the server's table, indexes and INSERT; no JSON, no lookups), in turn with the three above",
                measure: "req/s, p99", value: describe(rowsFloor), baseline: describe(baseline) + String(format: "; LearnSync %.2f× of this floor", ours.rate / rowsFloor.rate),
                ratio: String(format: "%.2f×", rowsFloor.rate / baseline.rate), target: "-", met: nil),
        ]
    }

    /// `clients` as the server's database at `path` holds them: the highest counter stored under
    /// each replica and the last position of each learner's feed.
    static func continued(_ clients: [Wrk.Client], in path: String) throws -> [Wrk.Client] {
        let database = try DatabaseQueue(path: path, configuration: { var c = GRDB.Configuration(); c.readonly = true; return c }())
        let (counters, positions) = try database.read { db in
            (
                try Dictionary(uniqueKeysWithValues: GRDB.Row.fetchAll(db, sql: "SELECT replica, MAX(seq) FROM event GROUP BY replica").map { ($0[0] as String, $0[1] as Int64) }),
                try Dictionary(uniqueKeysWithValues: GRDB.Row.fetchAll(db, sql: "SELECT root, MAX(pos) FROM event GROUP BY root").map { ($0[0] as String, $0[1] as Int64) })
            )
        }
        return clients.map { client in
            var client = client
            client.pushed = counters[client.replica.rawValue] ?? 0
            client.position = positions[client.learner.rawValue] ?? 0
            return client
        }
    }

    /// The same small syncs as ``concurrentClients()`` from 64 tasks straight into the
    /// service (JSON decoding, authentication, the store and JSON encoding; no HTTP), to tell
    /// the server's own cost from the HTTP stack's. Each task keeps its cursor as a device does;
    /// slices with the cursor's mark sent back (the server checks the row at the cursor, a
    /// restored server's defence) take turns with slices without it (no check), to show the
    /// check's cost in the same run.
    func smallSyncsWithoutHTTP() async throws -> [Row] {
        // A first slice warms up (not counted); then checked and unchecked slices take turns.
        let tasks = 64, slices = 9, seconds = quick ? 4.0 : 8.0
        let service = SyncService(store: try SQLiteServerStore(path: folder.appendingPathComponent("direct-load.sqlite").path), catalog: catalog, passwordCost: 4)
        let transport = DirectTransport(service: service)
        var clients = [(client: Wrk.Client, seq: Int64, cursor: Int64, mark: Int64?)]()
        for _ in 0..<tasks {
            let learner = LearnerID.newGuest()
            let session = try await service.registerGuest(RegisterGuestRequest(learner: learner, secret: "benchmark-device-secret"), address: "direct")
            clients.append((Wrk.Client(token: session.token, replica: .random(), learner: learner), 1, 0, nil))
        }
        let course = course
        var checked = [Double](), unchecked = [Double]()
        for slice in 0..<slices {
            let marks = slice % 2 == 1
            let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000) / (slices - 1))
            let started = clients
            let results = try await withThrowingTaskGroup(of: (Int, Int64, Int64, Int64?, [Double]).self) { group in
                for (index, state) in started.enumerated() {
                    group.addTask {
                        var mine = [Double](), (client, seq, cursor, mark) = state
                        while ContinuousClock.now < deadline {
                            let event = try ProgressEvent(
                                id: EventID(replica: client.replica, seq: seq), learner: client.learner,
                                timestamp: HLCTimestamp(physicalMilliseconds: SystemWallClock().millisecondsSince1970()), course: course.id,
                                payload: .lessonStarted(lesson: course.lessons[Int(seq) % course.lessons.count].id))
                            let body = try WireCoding.encode(SyncRequest(
                                replica: client.replica, lastSeq: event.id.seq, cursor: cursor, cursorMark: marks ? mark : nil, events: [event], limit: 5))
                            var answer: TransportResponse?
                            mine.append(try await Measure.time {
                                answer = try await transport.send(TransportRequest(path: Endpoint.sync.path, headers: ["Authorization": "Bearer \(client.token)"], body: body))
                            })
                            guard let answer, answer.status == 200 else { throw BenchError("sync answered \(answer?.status ?? 0)") }
                            let response = try WireCoding.decode(SyncResponse.self, from: answer.body)
                            guard !response.rewound else { throw BenchError("a small sync was answered rewound") }
                            (cursor, mark) = (response.cursor, response.cursorMark ?? (response.cursor == cursor ? mark : nil))
                            seq += 1
                        }
                        return (index, seq, cursor, mark, mine)
                    }
                }
                return try await group.reduce(into: [(Int, Int64, Int64, Int64?, [Double])]()) { $0.append($1) }
            }
            for (index, seq, cursor, mark, latencies) in results {
                clients[index] = (clients[index].client, seq, cursor, mark)
                if slice == 0 { continue }
                if marks { checked += latencies } else { unchecked += latencies }
            }
        }
        let half = seconds / 2
        func describe(_ latencies: [Double]) -> String {
            String(format: "%.0f req/s, p99 %.2f ms", Double(latencies.count) / half, Measure.percentile(latencies, 0.99) * 1000)
        }
        return [Row(
            workload: "diagnostic: the same small syncs from \(tasks) tasks without HTTP, cursor kept; sending the cursor's mark back (checked) in turn with not",
            measure: "req/s, p99", value: describe(checked), baseline: describe(unchecked) + " (no mark: unchecked)",
            ratio: String(format: "%.2f×", Double(checked.count) / Double(max(unchecked.count, 1))), target: "≈ 1×", met: nil)]
    }

    /// The cost of `serve --sqlite-synchronous full`: the same small syncs from 64 tasks without
    /// HTTP (one event pushed each) on a store that flushes every commit, and, in turn, on one
    /// with the default (`normal`), each on its own file.
    func durability() async throws -> Row {
        let tasks = 64, seconds = quick ? 2.0 : 4.0
        var results = [SQLiteSynchronous: [Double]]()
        for synchronous in [SQLiteSynchronous.normal, .full] {
            let store = try SQLiteServerStore(path: folder.appendingPathComponent("durability-\(synchronous).sqlite").path, synchronous: synchronous)
            let service = SyncService(store: store, catalog: catalog, passwordCost: 4)
            let transport = DirectTransport(service: service)
            var clients = [Wrk.Client]()
            for _ in 0..<tasks {
                let learner = LearnerID.newGuest()
                let session = try await service.registerGuest(RegisterGuestRequest(learner: learner, secret: "benchmark-device-secret"), address: "direct")
                clients.append(Wrk.Client(token: session.token, replica: .random(), learner: learner))
            }
            let course = course, registered = clients
            let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
            results[synchronous] = try await withThrowingTaskGroup(of: [Double].self) { group in
                for client in registered {
                    group.addTask {
                        var mine = [Double](), seq: Int64 = 1
                        while ContinuousClock.now < deadline {
                            let event = try ProgressEvent(
                                id: EventID(replica: client.replica, seq: seq), learner: client.learner,
                                timestamp: HLCTimestamp(physicalMilliseconds: SystemWallClock().millisecondsSince1970()), course: course.id,
                                payload: .lessonStarted(lesson: course.lessons[Int(seq) % course.lessons.count].id))
                            let body = try WireCoding.encode(SyncRequest(replica: client.replica, lastSeq: seq, cursor: 0, events: [event], limit: 5))
                            mine.append(try await Measure.time {
                                let answer = try await transport.send(TransportRequest(path: Endpoint.sync.path, headers: ["Authorization": "Bearer \(client.token)"], body: body))
                                guard answer.status == 200 else { throw BenchError("sync answered \(answer.status)") }
                            })
                            seq += 1
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: [Double]()) { $0 += $1 }
            }
        }
        func describe(_ latencies: [Double]) -> String {
            String(format: "%.0f req/s, p99 %.2f ms", Double(latencies.count) / seconds, Measure.percentile(latencies, 0.99) * 1000)
        }
        let full = results[.full] ?? [], normal = results[.normal] ?? []
        return Row(
            workload: "serve --sqlite-synchronous full: the same small syncs from \(tasks) tasks without HTTP, each commit flushed",
            measure: "req/s, p99", value: describe(full), baseline: describe(normal) + " (synchronous=normal, the default)",
            ratio: String(format: "%.2f×", Double(full.count) / Double(max(normal.count, 1))), target: "-", met: nil)
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
            value: String(format: "%.0f MB", megabytes), baseline: "-", ratio: "-", target: "< 150 MB", met: quick ? nil : megabytes < 150)
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
                try await a.store.apply(SyncRoundResult(pushed: pending, pulled: [], aliases: [], cursor: 0))
            }
        } else if phase == "encode-only" {
            let pending = try await a.store.pendingEvents(limit: 500)
            for _ in 0..<(count / 500) { _ = try WireCoding.encode(SyncRequest(replica: pending[0].id.replica, lastSeq: pending.last!.id.seq, cursor: 0, events: pending)) }
        } else if phase == "decode-only" {
            let pending = try await a.store.pendingEvents(limit: 500)
            let data = try WireCoding.encode(SyncRequest(replica: pending[0].id.replica, lastSeq: pending.last!.id.seq, cursor: 0, events: pending))
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

    /// `/bare` answers `answer` at once; with `log`, `/durable` first stores the request's body
    /// there (the floor of a durable server, ``RawDurableLog``); with `rows`, `/durable-rows`
    /// first stores the server's row for the client's next event (``RawDurableRows``).
    static func start(answer: Data, log: RawDurableLog? = nil, rows: RawDurableRows? = nil) async throws -> BareServer {
        let router = Router()
        router.post("/bare") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
        }
        if let log {
            router.post("/durable") { request, _ in
                let body = try await request.body.collect(upTo: 1 << 20)
                try await log.append(Data(body.readableBytesView))
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
            }
        }
        if let rows {
            router.post("/durable-rows") { request, _ in
                // Read like `/durable`'s, though only the header is used.
                _ = try await request.body.collect(upTo: 1 << 20)
                try await rows.append(authorization: request.headers[.authorization] ?? "")
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
            }
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
            case Endpoint.sync.path:
                body = try WireCoding.encode(try await service.sync(
                    WireCoding.decodeRequest(SyncRequest.self, from: request.body), authorization: request.headers["Authorization"]))
            case Endpoint.accounts.path:
                body = try WireCoding.encode(try await service.signUp(WireCoding.decodeRequest(CredentialsRequest.self, from: request.body), address: "direct"))
            case Endpoint.sessions.path:
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
        return TransportResponse(status: 200, body: try WireCoding.encode(SyncResponse(time: 0, catalog: "canned", rejected: [], events: [], aliases: aliases, cursor: 1, more: false)))
    }
}
