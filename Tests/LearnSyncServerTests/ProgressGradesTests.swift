import Foundation
import LearnSyncModels
import LearnSyncProtocol
@testable import LearnSyncServer
import LearnSyncTesting
import Testing

/// `GET /v1/progress` folds only what is new since the caller's last call; after every push, an
/// attachment and a reset it answers what grading the whole feed answers.
@Suite struct ProgressGradesTests {
    @Test(arguments: StoreKind.all) func incrementalGradingEqualsGradingTheWholeFeed(_ kind: StoreKind) async throws {
        let seed = SeededGenerator.seedFromEnvironment()
        print("ProgressGradesTests (\(kind)) seed: \(seed)")
        var generator = SeededGenerator(seed: seed)
        let (store, running) = try await kind.makeStore()
        defer { withExtendedLifetime(running) {} }
        let catalog = try SampleCatalog.load()
        let service = SyncService(store: store, catalog: catalog, clock: ManualWallClock(millisecondsSince1970: 1_767_225_700_000), passwordCost: 4)
        let secret = "a-device-secret-of-enough-length"

        let account = try await service.signUp(CredentialsRequest(username: "graded", password: "a long password", guest: nil), address: "direct")
        let guest = LearnerID.newGuest()
        let guestToken = try await service.registerGuest(RegisterGuestRequest(learner: guest, secret: secret), address: "direct").token
        let (own, guests) = (ReplicaID.random(), ReplicaID.random())
        let accountEvents = RandomStudy.events(count: 240, catalog: catalog, learners: [account.learner], replicas: [own], using: &generator)
        let guestEvents = RandomStudy.events(count: 60, catalog: catalog, learners: [guest], replicas: [guests], using: &generator)
        _ = try await service.sync(SyncRequest(replica: guests, lastSeq: 60, cursor: 0, events: guestEvents), authorization: "Bearer \(guestToken)")

        var token = account.token
        var pushed = 0, checks = 0
        while pushed < accountEvents.count {
            let batch = Array(accountEvents[pushed..<min(accountEvents.count, pushed + Int.random(in: 1...30, using: &generator))])
            pushed += batch.count
            _ = try await service.sync(
                SyncRequest(replica: own, lastSeq: Int64(pushed), cursor: 0, events: batch, limit: 1), authorization: "Bearer \(token)")
            if pushed >= 120, token == account.token {
                // The guest attaches: its feed shows after the account's, past the kept position.
                token = try await service.signIn(
                    CredentialsRequest(username: "graded", password: "a long password", guest: GuestProof(learner: guest, secret: secret)),
                    address: "direct").token
            }
            for caller in [token, token] {
                let answer = try await service.progress(authorization: "Bearer \(caller)")
                let whole = try #require(try await store.learnerEvents(tokenHash: Credentials.hash(caller), now: 1_767_225_700_000, after: 0, through: .max, limit: .max))
                #expect(answer.courses == CourseReport.grade(whole.events, catalog: catalog), "seed \(seed), after \(pushed) events")
                checks += 1
            }
        }
        #expect(checks > 10)
    }
}
