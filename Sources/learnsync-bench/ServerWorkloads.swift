import Foundation
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncServer
import LearnSyncTesting

/// Workloads on the server and over the wire.
struct ServerWorkloads {
    let catalog: Catalog
    let folder: URL
    let quick: Bool

    var course: Course { catalog[SampleCatalog.courseID]! }

    func events(_ count: Int, learner: LearnerID, seed: UInt64) -> [ProgressEvent] {
        var generator = SeededGenerator(seed: seed)
        return RandomStudy.events(count: count, catalog: catalog, learners: [learner], replicas: [.random()], resets: false, using: &generator)
    }

    /// Pushes events as one device would, a full batch per request, through the service.
    func push(_ events: [ProgressEvent], token: String, service: SyncService) async throws {
        let size = ProtocolLimits.maxEventsPerRequest
        for start in stride(from: 0, to: events.count, by: size) {
            let batch = Array(events[start..<min(events.count, start + size)])
            _ = try await service.sync(SyncRequest(replica: batch[0].id.replica, lastSeq: batch.last!.id.seq, cursor: .max - 1, events: batch, limit: 1), authorization: "Bearer \(token)")
        }
    }

    /// A guest with many events attaches to an account with many more (the store's sign-in with
    /// the guest's claim: the database work, without bcrypt), vs pushing the same events through
    /// the service without attaching.
    func attach() async throws -> Row {
        let guestCount = quick ? 2_000 : 10_000, accountCount = quick ? 20_000 : 100_000
        let store = try SQLiteServerStore(path: folder.appendingPathComponent("attach.sqlite").path)
        let service = SyncService(store: store, catalog: catalog, passwordCost: 4)
        let account = LearnerID.newAccount()
        _ = try await store.createAccount(account, username: "bench", passwordHash: "x", guest: nil, session: .bench("t0"))
        try await push(events(accountCount, learner: account, seed: 10), token: "t0", service: service)

        let guest = GuestClaim(learner: .newGuest(), secretHash: "s")
        _ = try await store.registerGuest(guest, session: .bench("t1"))
        try await push(events(guestCount, learner: guest.learner, seed: 11), token: "t1", service: service)
        // Both measurements start from an empty WAL, so that neither pays for the other's checkpoint.
        try await store.checkpoint()
        let attachTime = try await Measure.time {
            guard try await store.signIn(account, passwordHash: "x", guest: guest, session: .bench("t2")) == .attached else { throw BenchError("attach refused") }
        }
        // Baseline: the same number of events pushed by a fresh guest, in the same database.
        let other = GuestClaim(learner: .newGuest(), secretHash: "s")
        _ = try await store.registerGuest(other, session: .bench("t3"))
        let otherEvents = events(guestCount, learner: other.learner, seed: 12)
        try await store.checkpoint()
        let pushTime = try await Measure.time { try await push(otherEvents, token: "t3", service: service) }
        return Row(
            workload: "guest with \(guestCount) events attaches to an account with \(accountCount)", measure: "server time",
            value: Measure.format(attachTime, "ms"), baseline: Measure.format(pushTime, "ms") + " (pushing the same events)",
            ratio: String(format: "%.2f×", attachTime / pushTime), target: "≤ 20 ms", met: quick ? nil : attachTime <= 0.020)
    }

    /// Events from device A through a loopback HTTP server to device B, vs Foundation JSON
    /// encode + decode + raw SQLite insert of the same events, and the bytes that carried them;
    /// then, on the same synced devices, an incremental sync of one new event each way and a
    /// cold open of device B.
    func endToEnd() async throws -> [Row] {
        let count = quick ? 20_000 : 100_000
        let server = try await EmbeddedServer.start(databasePath: folder.appendingPathComponent("e2e.sqlite").path, catalog: catalog, passwordCost: 4)
        // Counted on the wire: gzip both ways, as URLSession and the server negotiate it.
        let wireA = CountingTransport(URLSessionTransport(baseURL: server.url)), wireB = CountingTransport(URLSessionTransport(baseURL: server.url))
        let a = LearnSyncClient(store: try DeviceStore(path: folder.appendingPathComponent("e2e-a.sqlite").path, catalog: catalog), transport: wireA)
        let b = LearnSyncClient(store: try DeviceStore(path: folder.appendingPathComponent("e2e-b.sqlite").path, catalog: catalog), transport: wireB)
        try await a.store.setServer(server.url)
        try await b.store.setServer(server.url)
        try await a.signUp(username: "e2e", password: "bench password")
        try await b.signIn(username: "e2e", password: "bench password")
        let recorded = try await Self.record(count, on: a, in: course)
        var push = 0.0
        let (upBefore, downBefore) = (wireA.sent, wireB.received)
        let ours = try await Measure.time {
            push = try await Measure.time { try await a.sync() }
            try await b.sync()
        }
        FileHandle.standardError.write(Data(String(format: "end to end: A pushed in %.2f s, B pulled in %.2f s\n", push, ours - push).utf8))
        let up = Double(wireA.sent - upBefore) / Double(count), down = Double(wireB.received - downBefore) / Double(count)
        let pulled = try await b.progress(in: course.id).eventCount
        guard pulled == count else {
            await server.stop()
            throw BenchError("device B has \(pulled) events, expected \(count)")
        }
        let incremental = try await incrementalSync(a, b, server: server.url)
        await server.stop()
        let coldOpen = try await self.coldOpen(path: folder.appendingPathComponent("e2e-b.sqlite").path, events: count)

        let baseline = try await Self.rawTransfer(recorded, folder: folder)
        let rate = Double(count) / ours, baseRate = Double(count) / baseline
        let stages = try await SyncStages(catalog: catalog, folder: folder).measure(recorded)
        return [
            Row(
                workload: "\(count) events: device A → server → device B, loopback HTTP", measure: "events/s",
                value: Measure.format(rate, "events/s") + String(format: " (%.2f s: push %.2f s, pull %.2f s)", ours, push, ours - push),
                baseline: Measure.format(baseRate, "events/s") + " (JSON encode+decode + raw insert)",
                ratio: String(format: "%.2f×", rate / baseRate), target: "≤ 1.5 s (100,000 events)", met: quick ? nil : ours <= 1.5),
            Row(
                workload: "split of that sync: each stage alone, in turn, on the same events", measure: "seconds",
                value: stages.summary, baseline: "-", ratio: "-", target: "-", met: nil),
            Row(
                workload: "bytes on the wire per event in that sync, gzip negotiated (Accept-Encoding / Content-Encoding)", measure: "body bytes",
                value: String(format: "%.1f B up (push), %.1f B down (pull)", up, down),
                baseline: String(format: "%.0f B as JSON", try Self.jsonBytesPerEvent(recorded)), ratio: "-", target: "≤ 40",
                met: max(up, down) <= 40),
            incremental, coldOpen,
        ]
    }

    /// A phone that recorded offline with its clock ten minutes ahead pushes its events: the
    /// server stores each at its own time, and the device moves them in its progress. Against
    /// the same push from a phone whose clock is right.
    func clockAhead() async throws -> Row {
        let count = quick ? 10_000 : 30_000
        var times = [Double]()
        for ahead in [600_000, 0] as [Int64] {
            let server = try await EmbeddedServer.start(
                databasePath: folder.appendingPathComponent("ahead-\(ahead).sqlite").path, catalog: catalog, passwordCost: 4)
            let clock = ManualWallClock(millisecondsSince1970: SystemWallClock().millisecondsSince1970() + ahead)
            let store = try DeviceStore(path: folder.appendingPathComponent("ahead-device-\(ahead).sqlite").path, catalog: catalog, clock: clock)
            let phone = LearnSyncClient(store: store, transport: URLSessionTransport(baseURL: server.url))
            try await store.setServer(server.url)
            _ = try await Self.record(count, on: phone, in: course)
            times.append(try await Measure.time { try await phone.sync() })
            await server.stop()
        }
        return Row(
            workload: "push \(count) events recorded offline on a phone whose clock runs 10 minutes ahead (each stored at the server's time)",
            measure: "seconds", value: Measure.format(times[0], "s"), baseline: Measure.format(times[1], "s") + " (the same, clock right)",
            ratio: String(format: "%.2f×", times[0] / times[1]), target: "-", met: nil)
    }

    /// Reading a full push (2,000 events) and a full answer page (5,000 pulled events, each naming
    /// its replica) from JSON, as the server and the device do, against Foundation's
    /// `JSONDecoder` reading the same events (`Codable`); medians of 30.
    func wireCodec() async throws -> Row {
        let pushed = events(ProtocolLimits.maxEventsPerRequest, learner: "a-codec", seed: 3)
        let pulled = events(ProtocolLimits.maxPageSize, learner: "a-codec", seed: 4)
        let request = try WireCoding.encode(SyncRequest(replica: pushed[0].id.replica, lastSeq: pushed.last!.id.seq, cursor: 5, events: pushed))
        let answer = try WireCoding.encode(SyncResponse(
            time: 1, catalog: "c", renewReplica: false, retimed: [], rejected: [], events: pulled, aliases: [], cursor: 9, more: true))
        let foundationPush = try JSONEncoder().encode(pushed), foundationPull = try JSONEncoder().encode(pulled)
        var reads = [Double](), answers = [Double](), foundation = [Double](), foundationAnswers = [Double]()
        var writes = [Double](), answerWrites = [Double]()
        let requestValue = try WireCoding.decodeRequest(SyncRequest.self, from: request), answerValue = try WireCoding.decode(SyncResponse.self, from: answer)
        for _ in 0..<30 {
            writes.append(try await Measure.time { _ = try WireCoding.encode(requestValue) })
            answerWrites.append(try await Measure.time { _ = try WireCoding.encode(answerValue) })
            reads.append(try await Measure.time { _ = try WireCoding.decodeRequest(SyncRequest.self, from: request) })
            answers.append(try await Measure.time { _ = try WireCoding.decode(SyncResponse.self, from: answer) })
            foundation.append(try await Measure.time { _ = try JSONDecoder().decode([ProgressEvent].self, from: foundationPush) })
            foundationAnswers.append(try await Measure.time { _ = try JSONDecoder().decode([ProgressEvent].self, from: foundationPull) })
        }
        let ours = Measure.median(reads), theirs = Measure.median(foundation)
        return Row(
            workload: "read a push of \(pushed.count) events / an answer of \(pulled.count) from JSON (\(request.count / pushed.count) / \(answer.count / pulled.count) bytes an event); writing them",
            measure: "median latency",
            value: String(
                format: "%.2f ms / %.2f ms; writing %.2f ms / %.2f ms", ours * 1000, Measure.median(answers) * 1000, Measure.median(writes) * 1000,
                Measure.median(answerWrites) * 1000),
            baseline: String(format: "%.2f ms / %.2f ms (Foundation JSONDecoder, Codable events)", theirs * 1000, Measure.median(foundationAnswers) * 1000),
            ratio: String(format: "%.2f×", ours / theirs), target: "-", met: nil)
    }

    /// Bytes per event of the JSON of a 500-event push, uncompressed.
    static func jsonBytesPerEvent(_ events: [ProgressEvent]) throws -> Double {
        let sample = Array(events.prefix(500))
        let bytes = try WireCoding.encode(SyncRequest(replica: sample[0].id.replica, lastSeq: sample.last!.id.seq, cursor: 123_456, events: sample)).count
        return Double(bytes) / Double(sample.count)
    }

    /// Records `count` random study events on `device`, in batches of 1,000 (the same events
    /// every run: seed 14).
    static func record(_ count: Int, on device: LearnSyncClient, in course: Course) async throws -> [ProgressEvent] {
        var generator = SeededGenerator(seed: 14)
        var recorded = [ProgressEvent]()
        for _ in 0..<(count / 1000) {
            recorded += try await device.store.record((0..<1000).map { _ in
                RecordEntry(course: course.id, payload: RandomStudy.payload(in: course, resets: false, using: &generator))
            })
        }
        return recorded
    }

    /// The end-to-end baseline: Foundation JSON encode + decode and a raw SQLite insert of the
    /// events, in the protocol's batches; seconds.
    static func rawTransfer(_ recorded: [ProgressEvent], folder: URL) async throws -> Double {
        let raw = try RawSQLite(path: folder.appendingPathComponent("raw-\(UUID().uuidString).sqlite").path)
        return try await Measure.time {
            let size = ProtocolLimits.maxEventsPerRequest
            for start in stride(from: 0, to: recorded.count, by: size) {
                let page = Array(recorded[start..<min(start + size, recorded.count)])
                let decoded = try JSONDecoder().decode([ProgressEvent].self, from: JSONEncoder().encode(page))
                try raw.insert(decoded[...])
            }
        }
    }

    /// One new event recorded on A after everything is synced: A's sync pushing it and B's
    /// pulling it, each one round trip; medians of 50, and the bodies' bytes both ways.
    private func incrementalSync(_ a: LearnSyncClient, _ b: LearnSyncClient, server: URL) async throws -> Row {
        let counterA = CountingTransport(URLSessionTransport(baseURL: server)), counterB = CountingTransport(URLSessionTransport(baseURL: server))
        let pusher = LearnSyncClient(store: a.store, transport: counterA), puller = LearnSyncClient(store: b.store, transport: counterB)
        var pushes = [Double](), pulls = [Double]()
        let lesson = course.lessons[0].id
        for _ in 0..<50 {
            try await pusher.record(.timeSpent(lesson: lesson, seconds: 1), in: course.id)
            pushes.append(try await Measure.time { try await pusher.sync() })
            pulls.append(try await Measure.time { try await puller.sync() })
        }
        let push = Measure.median(pushes), pull = Measure.median(pulls)
        // The bytes that carry the event (the push's request, the pull's answer), and the whole exchange.
        let pushUp = counterA.sent / 50, pushAll = (counterA.sent + counterA.received) / 50
        let pullDown = counterB.received / 50, pullAll = (counterB.sent + counterB.received) / 50
        // Baseline: the same transport's round trip to the server's `/health`, which does nothing.
        let plain = URLSessionTransport(baseURL: server)
        var bare = [Double]()
        for _ in 0..<50 {
            bare.append(try await Measure.time { _ = try await plain.send(TransportRequest(method: "GET", path: Endpoint.health.path, headers: [:], body: Data())) })
        }
        return Row(
            workload: "incremental sync: 1 new event after 100,000 synced, each direction (loopback HTTP)", measure: "median round trip, body bytes",
            value: String(
                format: "push %.2f ms, %d B up (%d B both ways); pull %.2f ms, %d B down (%d B both ways)", push * 1000, pushUp, pushAll,
                pull * 1000, pullDown, pullAll),
            baseline: String(format: "%.2f ms (GET /health, same transport)", Measure.median(bare) * 1000), ratio: "-",
            target: "≤ 2 ms, ≤ 300 B each direction", met: quick ? nil : max(push, pull) <= 0.002 && max(pushUp, pullDown) <= 300)
    }

    /// Opening a device store that holds `events` events and reading a course's progress, as an
    /// app does at launch (the file is in the OS cache: this is the store's cost, not the disk's).
    private func coldOpen(path: String, events: Int) async throws -> Row {
        var times = [Double]()
        for _ in 0..<10 {
            times.append(try await Measure.time {
                let store = try DeviceStore(path: path, catalog: catalog)
                _ = try await store.progress(in: course.id)
            })
        }
        let median = Measure.median(times)
        return Row(
            workload: "cold start: open a device store holding \(events) events, read a course's progress", measure: "median",
            value: Measure.format(median, "ms"), baseline: "-", ratio: "-", target: "≤ 50 ms", met: quick ? nil : median <= 0.05)
    }
}
