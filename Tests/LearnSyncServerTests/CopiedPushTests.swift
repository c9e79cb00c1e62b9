import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

@testable import LearnSyncPostgres

/// A long push is copied to PostgreSQL (`COPY`) after its events are judged: a quota passed
/// late in it, or a stored event met late in it, is answered for the whole push.
@Suite struct CopiedPushTests {
    static let secret = "a-device-secret-of-enough-length"

    /// A guest on `store` and its token, with events of `factory`'s replica to push.
    func guest(_ service: SyncService) async throws -> (EventFactory, String) {
        let guest = LearnerID.newGuest()
        let token = try await service.registerGuest(RegisterGuestRequest(learner: guest, secret: Self.secret), address: "direct").token
        return (EventFactory(learner: guest), token)
    }

    /// The whole feed's counters, as another replica pulls it.
    func feed(_ service: SyncService, _ token: String) async throws -> [Int64] {
        try await service.sync(
            SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: [], limit: 5_000), authorization: "Bearer \(token)"
        ).events.map(\.id.seq)
    }

    /// The quota is passed 550 events into a push of 600: none of them is stored.
    @Test(arguments: StoreKind.all) func aLongPushPastTheQuotaStoresNoneOfItsParts(_ kind: StoreKind) async throws {
        let (store, running) = try await kind.makeStore()
        defer { withExtendedLifetime(running) {} }
        let service = SyncService(store: store, catalog: try SampleCatalog.load(), clock: ManualWallClock(), passwordCost: 4, eventsPerLearner: 550)
        var (factory, token) = try await guest(service)
        let events = try (0..<600).map { _ in try factory.make(.lessonStarted(lesson: "keep-secure")) }
        await #expect { _ = try await service.sync(SyncRequest(replica: factory.replica, lastSeq: 600, cursor: 0, events: events), authorization: "Bearer \(token)") } throws: {
            ($0 as? Problem)?.knownCode == .quotaExceeded
        }
        #expect(try await feed(service, token).isEmpty)
        let fitting = try await service.sync(
            SyncRequest(replica: factory.replica, lastSeq: 550, cursor: 0, events: Array(events.prefix(550))), authorization: "Bearer \(token)")
        #expect(fitting.rejected.isEmpty)
        #expect(try await feed(service, token) == Array(1...550))
    }

    /// A copy that meets an event stored already, past the replica's stored counter (a counter
    /// rewound, as by a restore), ends; the push runs again, looking every event up, and stores
    /// the rest once.
    @Test(.enabled(if: !TestPostgres.isSkipped)) func aCopiedPartMeetingAStoredEventIsJudgedAgain() async throws {
        let running = try await RunningPostgresStore(#function, throughPooler: false)
        let service = SyncService(store: running.store, catalog: try SampleCatalog.load(), clock: ManualWallClock(), passwordCost: 4)
        var (factory, token) = try await guest(service)
        let events = try (0..<600).map { _ in try factory.make(.lessonStarted(lesson: "keep-secure")) }
        let first = try await service.sync(
            SyncRequest(replica: factory.replica, lastSeq: 600, cursor: 0, events: Array(events.suffix(100))), authorization: "Bearer \(token)")
        #expect(first.rejected.isEmpty)
        try await running.store.withConnection { c in try await c.execute("UPDATE replica SET last_seq = 0", logger: running.store.logger) }
        // Taken as new, all 600 go to the copy, whose rows 501–600 are stored already.
        let answer = try await service.sync(
            SyncRequest(replica: factory.replica, lastSeq: 600, cursor: 0, events: events), authorization: "Bearer \(token)")
        #expect(answer.rejected.isEmpty)
        #expect(try await feed(service, token) == Array(501...600) + Array(1...500))
    }
}
