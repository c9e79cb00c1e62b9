import Foundation
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// A learner stores at most the server's quota of events, attached guests' included; a push
/// that could pass it is refused whole with `quota-exceeded`, and stores nothing.
@Suite struct EventQuotaTests {
    @Test(arguments: StoreKind.all) func aPushPastTheQuotaIsRefusedWholeAndStoresNothing(_ kind: StoreKind) async throws {
        let (store, running) = try await kind.makeStore()
        defer { withExtendedLifetime(running) {} }
        let service = SyncService(store: store, catalog: try SampleCatalog.load(), clock: ManualWallClock(), passwordCost: 4, eventsPerLearner: 5)
        let secret = "a-device-secret-of-enough-length"
        let guest = LearnerID.newGuest()
        let token = try await service.registerGuest(RegisterGuestRequest(learner: guest, secret: secret), address: "direct").token
        var factory = EventFactory(learner: guest)
        let lessons: [ItemID] = ["keep-secure", "train-staff", "collect-only-necessary"]
        let first = try lessons.map { try factory.make(.lessonStarted(lesson: $0)) }
        _ = try await service.sync(SyncRequest(replica: factory.replica, lastSeq: 3, cursor: 0, events: first), authorization: "Bearer \(token)")

        let more = try lessons.map { try factory.make(.lessonCompleted(lesson: $0)) }
        await #expect { _ = try await service.sync(SyncRequest(replica: factory.replica, lastSeq: 6, cursor: 3, events: more), authorization: "Bearer \(token)") } throws: {
            ($0 as? Problem)?.knownCode == .quotaExceeded && ($0 as? Problem)?.status == 403
        }
        // Nothing of the refused push was stored; two more still fit.
        let pulled = try await service.sync(SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []), authorization: "Bearer \(token)")
        #expect(pulled.events.count == 3)
        let fitting = try await service.sync(
            SyncRequest(replica: factory.replica, lastSeq: 5, cursor: 3, events: Array(more.prefix(2))), authorization: "Bearer \(token)")
        #expect(fitting.rejected.isEmpty)
        // At the quota, re-sending stored events (an answer was lost) is still acknowledged.
        let again = try await service.sync(
            SyncRequest(replica: factory.replica, lastSeq: 5, cursor: 0, events: first + more.prefix(2)), authorization: "Bearer \(token)")
        #expect(again.rejected.isEmpty)
        await #expect { _ = try await service.sync(
            SyncRequest(replica: factory.replica, lastSeq: 6, cursor: 5, events: Array(more.suffix(1))), authorization: "Bearer \(token)") } throws: {
            ($0 as? Problem)?.knownCode == .quotaExceeded
        }

        // An account's guests count with it: attached, the feed holds 5, and one more is refused.
        let account = try await service.signUp(
            CredentialsRequest(username: "quota-user", password: "a long password", guest: GuestProof(learner: guest, secret: secret)), address: "direct")
        var own = EventFactory(learner: account.learner)
        await #expect { _ = try await service.sync(
            SyncRequest(replica: own.replica, lastSeq: 1, cursor: 0, events: [try own.make(.lessonStarted(lesson: "keep-secure"))]),
            authorization: "Bearer \(account.token)") } throws: { ($0 as? Problem)?.knownCode == .quotaExceeded }
    }
}
