import Foundation
import HummingbirdTesting
import GRDB
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// A push's new events are stored in order at consecutive feed positions, however the store
/// batches them; an id met twice is judged, never stored twice or skipped.
@Suite struct PushStorageTests {
    /// The whole feed, as a second replica of the learner pulls it.
    func feed(_ client: any TestClientProtocol, _ learner: LearnerID, _ token: String) async throws -> SyncResponse {
        let reader = EventFactory(learner: learner)
        return try await client.sync(SyncRequest(replica: reader.replica, lastSeq: 0, cursor: 0, events: [], limit: 500), token: token)
    }

    @Test(arguments: StoreKind.all) func anEventSentTwiceInOnePushIsStoredOnce(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            var phone = EventFactory(learner: learner)
            var events = try (0..<100).map { _ in try phone.make(.lessonStarted(lesson: "keep-secure")) }
            events.insert(events[40], at: 41)
            let answer = try await client.sync(SyncRequest(replica: phone.replica, lastSeq: phone.seq, cursor: 0, events: events), token: token)
            #expect(answer.rejected.isEmpty)
            let feed = try await feed(client, learner, token)
            #expect(feed.events.map(\.id.seq) == Array(1...100))
            #expect(feed.cursor == 100, "the feed's positions have a gap")
        }
    }

    /// Every kind of event (resets that saw nothing or much, quiz attempts, choices, time spent,
    /// resume points; clocks far ahead, so some are retimed) reads back from the feed as it was
    /// stored: each optional column NULL or set, and an empty text kept apart from NULL.
    @Test(arguments: StoreKind.all) func everyKindOfEventReadsBackAsStored(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        let seed = SeededGenerator.seedFromEnvironment()
        print("PushStorageTests every kind seed: \(seed)")
        let catalog = server.catalog
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            var first = EventFactory(learner: learner)
            let emptyReset = try first.make(.courseReset())
            _ = try await client.sync(SyncRequest(replica: first.replica, lastSeq: 1, cursor: 0, events: [emptyReset]), token: token)
            var generator = SeededGenerator(seed: seed)
            let replica = ReplicaID.random()
            let events = RandomStudy.events(
                count: 300, catalog: catalog, learners: [learner], replicas: [replica], skewed: true, using: &generator)
            let answer = try await client.sync(SyncRequest(replica: replica, lastSeq: events.last!.id.seq, cursor: 0, events: events), token: token)
            #expect(answer.rejected.isEmpty, "seed \(seed)")
            let retimed = Dictionary(uniqueKeysWithValues: answer.retimed.map { ($0.seq, $0.hlc) })
            let pulled = try await feed(client, learner, token).events
            #expect(pulled.first == emptyReset)
            #expect(pulled.count == events.count + 1, "seed \(seed)")
            for (event, back) in zip(events, pulled.dropFirst()) {
                #expect(back.id == event.id && back.learner == event.learner && back.course == event.course, "seed \(seed)")
                #expect(back.payload == event.payload, "seed \(seed)")
                #expect(back.timestamp == retimed[event.id.seq] ?? event.timestamp, "seed \(seed)")
            }
        }
    }

    /// A database from before the replica table knows a replica's events but not its counter:
    /// the events it sends again look new, and must still be judged one by one.
    @Test func eventsStoredBeforeTheReplicaTableAreJudgedAsStored() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("push-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        try await pushAgainWithTheReplicaForgotten(TestServer(store: try SQLiteServerStore(path: path))) {
            try await DatabaseQueue(path: path).write { db in try db.execute(sql: "DELETE FROM replica") }
        }
    }

    /// The PostgreSQL store takes a push's events past the replica's stored counter as new without
    /// looking them up; one stored after all makes the push run again with the lookup.
    @Test(arguments: StoreKind.all.filter { $0 == .postgres })
    func eventsPastTheStoredCounterAreStillJudgedOnPostgres(_ kind: StoreKind) async throws {
        let running = try await RunningPostgresStore(#function)
        try await pushAgainWithTheReplicaForgotten(TestServer(store: running.store, running: running)) {
            _ = try await TestPostgres.query(running.store.location, "DELETE FROM replica")
        }
    }

    /// Pushes 100 events, has `forget` drop the replica's record, then pushes the last 50 again
    /// with 50 new ones: each event is stored once, at consecutive positions.
    func pushAgainWithTheReplicaForgotten(_ server: TestServer, forget: @escaping @Sendable () async throws -> Void) async throws {
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            var phone = EventFactory(learner: learner)
            let first = try (0..<100).map { _ in try phone.make(.lessonStarted(lesson: "keep-secure")) }
            _ = try await client.sync(SyncRequest(replica: phone.replica, lastSeq: phone.seq, cursor: 0, events: first), token: token)
            try await forget()

            // The last 50 again, and 50 new ones.
            let second = Array(first[50...]) + (try (0..<50).map { _ in try phone.make(.lessonStarted(lesson: "train-staff")) })
            let answer = try await client.sync(SyncRequest(replica: phone.replica, lastSeq: phone.seq, cursor: 100, events: second), token: token)
            #expect(answer.rejected.isEmpty)
            #expect(answer.cursor == 150)
            let feed = try await feed(client, learner, token)
            #expect(feed.events.map(\.id.seq) == Array(1...150))
            #expect(feed.cursor == 150, "the feed's positions have a gap")
        }
    }
}
