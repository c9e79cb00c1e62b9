import Foundation
import GRDB
import LearnSyncModels
@testable import LearnSyncStorage
import LearnSyncTestSupport
import Testing

/// A store file written by an older version opens with everything where it was.
@Suite final class DeviceMigrationTests {
    let catalog: Catalog
    let course: Course
    /// A folder of its own for each test, removed after it.
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-\(UUID().uuidString)")
    var path: String { directory.appendingPathComponent("device.sqlite").path }

    init() throws {
        catalog = try SampleCatalog.load()
        course = catalog[SampleCatalog.courseID]!
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// A v3 file (the outbox as a flag on each event) holding a pushed event, two outbox events
    /// and a held one: after the v4 migration the outbox holds exactly the two, in order; the
    /// held event is still reported and comes back when the server's catalog changes.
    @Test func theOutboxFlagBecomesTheOutboxTable() async throws {

        let replica = ReplicaID.random(), learner = LearnerID.newGuest()
        let lesson = course.lessons[0].id
        let events = try (1...4).map { seq in
            try ProgressEvent(
                id: EventID(replica: replica, seq: Int64(seq)), learner: learner,
                timestamp: HLCTimestamp(physicalMilliseconds: 1_800_000_000_000 + Int64(seq)), course: course.id,
                payload: .timeSpent(lesson: lesson, seconds: seq))
        }
        do {
            let queue = try DatabaseQueue(path: path)
            try DeviceSchema.migrator(movingCredentialsTo: MemorySecretStore()).migrate(queue, upTo: "v3: why the device started over")
            try await queue.write { db in
                try db.execute(
                    sql: "INSERT INTO device (id, replica, learner, nextSeq, hlc) VALUES (1, ?, ?, 5, 0)",
                    arguments: [replica.rawValue, learner.rawValue])
                // Pushed and acknowledged, in the outbox, held by the server, in the outbox.
                for (event, pending) in zip(events, [0, 1, 2, 1]) {
                    let c = EventColumns(event)
                    try db.execute(
                        sql: "INSERT INTO event (replica, seq, learner, hlc, course, type, item, amount, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        arguments: [c.replica, c.seq, c.learner, c.hlc, c.course, c.type, c.item, c.seconds, pending])
                }
                try db.execute(
                    sql: "INSERT INTO refusal (replica, seq, code, reason) VALUES (?, 3, 'unknown-item', 'not in the server catalog')",
                    arguments: [replica.rawValue])
                try db.execute(sql: "UPDATE syncState SET serverCatalog = 'old' WHERE id = 1")
            }
        }

        let store = try DeviceStore(path: path, catalog: catalog)
        #expect(try await store.pendingCount() == 2)
        #expect(try store.outboxBatch(limit: 10).events == [events[1], events[3]])
        #expect(try await store.rejectedEvents().map(\.event) == [events[2]])
        #expect(try await store.allEvents() == events)
        // A file from before the note of its progress's catalog is rebuilt once, as it opens.
        #expect(try await store.progress(in: course.id).secondsSpent == 10, "every event of the log counts, the held one too")

        // The server acknowledges both; then its catalog changes and the held event goes back.
        try await store.apply(SyncRoundResult(pushed: [events[1], events[3]], pulled: [], aliases: [], cursor: 4))
        #expect(try await store.pendingCount() == 0)
        try await store.apply(SyncRoundResult(pushed: [], pulled: [], aliases: [], cursor: 4, serverCatalog: "new"))
        #expect(try store.outboxBatch(limit: 10).events == [events[2]])
        #expect(try await store.rejectedEvents().isEmpty)
    }

    /// A v11 file (payloads in `answers` and `amount`, credentials in `syncState`): after the
    /// v12 migration every kind of event reads back equal, the held one is still held, and the
    /// credentials are in the secret store.
    @Test func payloadColumnsSplitAndCredentialsMove() async throws {

        let replica = ReplicaID.random(), learner = LearnerID.newGuest()
        let lesson = course.lessons[0].id, quiz = course.quizzes[0]
        var seen = SeenEvents()
        seen.insert(replica, 1...3)
        let payloads: [EventPayload] = [
            .lessonStarted(lesson: lesson), .timeSpent(lesson: lesson, seconds: 42), .resumePosition(lesson: lesson, offset: 95),
            .quizAttempt(quiz: quiz.id, answers: quiz.questions.map(\.answer), version: course.version), .courseReset(seen: seen),
            .lessonCompleted(lesson: lesson),
        ]
        let events = try payloads.enumerated().map { index, payload in
            try ProgressEvent(
                id: EventID(replica: replica, seq: Int64(index + 1)), learner: learner,
                timestamp: HLCTimestamp(physicalMilliseconds: 1_800_000_000_000 + Int64(index)), course: course.id, payload: payload)
        }
        do {
            let queue = try DatabaseQueue(path: path)
            try DeviceSchema.migrator(movingCredentialsTo: MemorySecretStore()).migrate(queue, upTo: "v11: the server's attestations of aliases")
            try await queue.write { db in
                try db.execute(
                    sql: "INSERT INTO device (id, replica, learner, nextSeq, hlc, outboxThrough) VALUES (1, ?, ?, 7, 0, 6)",
                    arguments: [replica.rawValue, learner.rawValue])
                for event in events {
                    // The v11 shape: a reset's seen set in `answers`, every number in `amount`.
                    let c = EventColumns(event)
                    try db.execute(
                        sql: "INSERT INTO event (replica, seq, learner, hlc, course, type, item, answers, choice, amount, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        arguments: [
                            c.replica, c.seq, c.learner, c.hlc, c.course, c.type, c.item, c.answers ?? c.seen, c.choice,
                            c.seconds ?? c.position ?? c.version, c.seq == 6 ? 2 : 0,
                        ])
                }
                try db.execute(
                    sql: "INSERT INTO refusal (replica, seq, code, reason) VALUES (?, 6, 'unknown-item', 'not in the server catalog')",
                    arguments: [replica.rawValue])
                try db.execute(sql: "UPDATE syncState SET token = 'token-1', secret = 'secret-1' WHERE id = 1")
            }
        }

        let secrets = MemorySecretStore()
        let store = try DeviceStore(path: path, catalog: catalog, secrets: secrets)
        #expect(try await store.allEvents() == events)
        #expect(try await store.rejectedEvents().map(\.event) == [events[5]])
        #expect(try await store.rejectedEvents().first?.willRetry == true)
        #expect(try secrets.secret(.token) == "token-1")
        #expect(try secrets.secret(.deviceSecret) == "secret-1")
        let columns = try await DatabaseQueue(path: path).read { db in try db.columns(in: "event").map(\.name) + db.columns(in: "syncState").map(\.name) }
        #expect(!columns.contains("amount") && !columns.contains("pending") && !columns.contains("token") && !columns.contains("secret"))
    }
}
