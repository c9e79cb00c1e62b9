import LearnSyncModels
import LearnSyncProtocol
@testable import LearnSyncServer
import Testing

/// The live streams' registry: wakes coalesce into what is pending, revocations reach the
/// streams they concern, and one learner holds a bounded number of streams.
@Suite struct LiveFeedsTests {
    let account = LearnerID(unchecked: "a-account"), guest = LearnerID(unchecked: "g-guest")

    @Test func wakesCoalesceIntoTheNewestFeedEnd() {
        let live = LiveFeeds()
        let stream = try! live.subscribe(root: account, learner: account, tokenHash: "hash-1")
        live.feedChanged(root: account, feedEnd: 5, replica: ReplicaID(unchecked: "phone"))
        live.feedChanged(root: account, feedEnd: 9, replica: ReplicaID(unchecked: "phone"))
        var pending = live.take(stream)
        #expect(pending.feed?.end == 9 && pending.feed?.replica == ReplicaID(unchecked: "phone") && !pending.recheck)
        // Pushes of two replicas: the newest end, and no replica to skip.
        live.feedChanged(root: account, feedEnd: 10, replica: ReplicaID(unchecked: "phone"))
        live.feedChanged(root: account, feedEnd: 11, replica: ReplicaID(unchecked: "tablet"))
        pending = live.take(stream)
        #expect(pending.feed?.end == 11 && pending.feed?.replica == nil)
        #expect(live.take(stream) == LiveFeeds.Pending(), "taken")
        // Another root's pushes wake nothing here.
        live.feedChanged(root: guest, feedEnd: 3, replica: ReplicaID(unchecked: "phone"))
        #expect(live.take(stream).feed == nil)
    }

    @Test func revocationsReachTheirStreamsOnly() {
        let live = LiveFeeds()
        let own = try! live.subscribe(root: account, learner: account, tokenHash: "hash-1")
        let attached = try! live.subscribe(root: account, learner: guest, tokenHash: "hash-2")
        let stranger = try! live.subscribe(root: LearnerID(unchecked: "a-other"), learner: LearnerID(unchecked: "a-other"), tokenHash: "hash-3")
        live.apply(.recheckToken("hash-2"))
        #expect(!live.take(own).recheck && live.take(attached).recheck)
        live.apply(.recheckLearner(account))
        #expect(live.take(own).recheck && live.take(attached).recheck && !live.take(stranger).recheck)
        #expect(LiveNotice(payload: LiveNotice.recheckLearner(account).payload) == .recheckLearner(account))
        #expect(LiveNotice(payload: "feed a-account 12 phone") == .feed(root: account, feedEnd: 12, replica: ReplicaID(unchecked: "phone")))
        #expect(LiveNotice(payload: "feed a-account twelve phone") == nil && LiveNotice(payload: "") == nil)
    }

    @Test func oneLearnerHoldsABoundedNumberOfStreams() throws {
        let live = LiveFeeds()
        let streams = try (0..<LiveFeeds.maxStreamsPerRoot).map { _ in try live.subscribe(root: account, learner: account, tokenHash: "hash-1") }
        #expect(throws: Problem.self) { try live.subscribe(root: account, learner: guest, tokenHash: "hash-2") }
        #expect(live.count == LiveFeeds.maxStreamsPerRoot)
        _ = try live.subscribe(root: guest, learner: guest, tokenHash: "hash-3")
        live.unsubscribe(streams[0])
        _ = try live.subscribe(root: account, learner: account, tokenHash: "hash-1")
    }
}
