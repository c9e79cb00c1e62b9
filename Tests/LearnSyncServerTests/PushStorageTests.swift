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
