import Foundation
import HTTPTypes
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncTesting
import Testing

/// PostgreSQL ends the backends of the server's connections in the middle of its pushes (an
/// administrator's `pg_terminate_backend`, a failover, a pooler restarting): every request still
/// ends, stored and answered or refused `storage-failed`, and none waits for ever on a
/// connection gone under it. Afterwards every acknowledged event is in the feed once.
@Suite(.tags(.postgres)) struct ConnectionLossTests {
    /// Long pushes (copied) and short ones (the one-statement function), 6 devices at once.
    @Test(arguments: [2_000, 3])
    func everyPushEndsWhileTheDatabaseEndsConnections(eventsPerPush: Int) async throws {
        let running = try await RunningPostgresStore("connection_loss_\(eventsPerPush)")
        let server = try TestServer(store: running.store, running: running)
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            let location = running.location
            let devices = 6, rounds = 4
            let outcomes = Outcomes()
            // Until half the pushes ended, for at most 10 s: the rest run on a database that
            // keeps its connections.
            let ending = Task {
                let stop = ContinuousClock.now + .seconds(10)
                while !Task.isCancelled, await outcomes.list.count < devices * rounds / 2, ContinuousClock.now < stop {
                    _ = try? await TestPostgres.query(location, """
                        SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                        WHERE datname = current_database() AND pid <> pg_backend_pid()
                        """)
                    try? await Task.sleep(for: .milliseconds(15))
                }
            }
            // Unstructured: a push that never ended must fail the test, not hang it.
            for _ in 0..<devices {
                Task {
                    var factory = EventFactory(learner: learner)
                    var cursor: Int64 = 0
                    for _ in 0..<rounds {
                        let events = try (0..<eventsPerPush).map { _ in try factory.make(.lessonStarted(lesson: "keep-secure")) }
                        let request = SyncRequest(replica: factory.replica, lastSeq: factory.seq, cursor: cursor, events: events, limit: 1)
                        let response = try? await client.post("/v1/sync", json: request, token: token)
                        // At the feed's end when no other device pushed meanwhile: the one-statement push.
                        if let answer = try? response?.decode(SyncResponse.self) { cursor = answer.cursor }
                        await outcomes.add(response?.status ?? .badGateway, events)
                    }
                }
            }
            let deadline = ContinuousClock.now + .seconds(120)
            while await outcomes.list.count < devices * rounds, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            ending.cancel()
            _ = await ending.result
            let ended = await outcomes.list
            #expect(ended.count == devices * rounds, "\(devices * rounds - ended.count) pushes never ended")
            let statuses = Set(ended.map(\.status.code))
            #expect(statuses.isSubset(of: [200, 503]), "statuses \(statuses.sorted())")
            #expect(statuses.contains(503), "no push met an ended connection")

            // The connections come back: a push is stored, and the feed holds each event a 200
            // acknowledged, once.
            var late = EventFactory(learner: learner)
            let last = try late.make(.lessonCompleted(lesson: "keep-secure"))
            _ = try await client.sync(SyncRequest(replica: late.replica, lastSeq: late.seq, cursor: 0, events: [last]), token: token)
            var feed: [EventID] = []
            var cursor: Int64 = 0
            let reader = EventFactory(learner: learner)
            while true {
                let page = try await client.sync(
                    SyncRequest(replica: reader.replica, lastSeq: 0, cursor: cursor, events: [], limit: 5_000), token: token)
                feed += page.events.map(\.id)
                cursor = page.cursor
                if !page.more { break }
            }
            #expect(Set(feed).count == feed.count, "an event is in the feed twice")
            let acknowledged = ended.filter { $0.status == .ok }.flatMap(\.events).map(\.id) + [last.id]
            #expect(Set(acknowledged).isSubset(of: Set(feed)), "an acknowledged event is missing")
            print("ConnectionLossTests \(eventsPerPush) events a push: statuses \(ended.map(\.status.code).sorted())")
        }
    }
}

/// Each push's status and events, as the devices' tasks end them.
private actor Outcomes {
    var list: [(status: HTTPResponse.Status, events: [ProgressEvent])] = []

    func add(_ status: HTTPResponse.Status, _ events: [ProgressEvent]) {
        list.append((status, events))
    }
}
