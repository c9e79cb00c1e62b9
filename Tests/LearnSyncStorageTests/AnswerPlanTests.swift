import LearnSyncModels
import LearnSyncStorage
import Testing

/// The device's rules for a sync answer (`AnswerPlan`), decided without a database.
@Suite struct AnswerPlanTests {
    let device = ReplicaID(unchecked: "replica-device")
    let old = ReplicaID(unchecked: "replica-old")
    let other = ReplicaID(unchecked: "replica-other")

    func event(_ replica: ReplicaID, _ seq: Int64) throws -> ProgressEvent {
        try ProgressEvent(
            id: EventID(replica: replica, seq: seq), learner: LearnerID(unchecked: "a-account"),
            timestamp: HLCTimestamp(physicalMilliseconds: 1_800_000_000_000 + seq), course: CourseID(unchecked: "privacy-basics"),
            payload: .lessonStarted(lesson: ItemID(unchecked: "l1")))
    }

    func refusal(_ replica: ReplicaID, _ seq: Int64, _ handling: RejectionHandling) -> Refusal {
        Refusal(id: EventID(replica: replica, seq: seq), code: "code", reason: "reason", handling: handling)
    }

    func plan(_ answer: SyncRoundResult, previousCatalog: String? = "catalog-1") -> AnswerPlan {
        AnswerPlan(answer, current: device, previousServerCatalog: previousCatalog)
    }

    @Test func aPlainAnswerKeepsItsCursorAndTouchesNothingElse() throws {
        let answer = SyncRoundResult(
            pushed: [try event(device, 1)], pulled: [try event(other, 4)], aliases: [], cursor: 7, cursorMark: 99,
            serverCatalog: "catalog-1", serverLastSeq: 1)
        let plan = plan(answer)
        #expect(plan.replica == device && plan.isCurrentReplica)
        #expect(!plan.takesRecordedTail && !plan.releasesHeldEvents && !plan.movesEvents && !plan.resendsEverything)
        #expect(plan.held.isEmpty && plan.refused.isEmpty && plan.erasedLearnerEvents.isEmpty)
        #expect(plan.forgottenCheckAbove == 1)
        #expect(plan.cursor(forgotten: false) == 7 && plan.cursorMark(for: 7) == 99)
        // A server that forgot acknowledged events: the feed again from 0, without the mark.
        #expect(plan.cursor(forgotten: true) == 0 && plan.cursorMark(for: 0) == nil)
    }

    @Test func refusalsAreSortedByWhatBecomesOfTheirEvents() {
        let answer = SyncRoundResult(
            pushed: [], refused: [
                refusal(device, 1, .retryWhenCatalogChanges), refusal(device, 2, .refusedForGood),
                refusal(device, 3, .removeErasedLearner), refusal(device, 5, .moveToNewReplica), refusal(device, 4, .moveToNewReplica),
            ], pulled: [], aliases: [], cursor: 3)
        let plan = plan(answer)
        #expect(plan.held.map(\.id.seq) == [1])
        // An erased learner's events go; those of the device's own learner stay, refused.
        #expect(plan.refused.map(\.id.seq) == [2, 3])
        #expect(plan.erasedLearnerEvents.map(\.seq) == [3])
        // Moving starts at the lowest counter, and needs the tail in the table.
        #expect(plan.moveFrom == 4 && plan.takesRecordedTail && plan.movesEvents)
        #expect(plan.reoffersGivenUpReplica)
        #expect(plan.forgottenCheckAbove == nil)
        #expect(plan.cursor(forgotten: false) == 0)
    }

    @Test func onlyANewServerCatalogReleasesHeldEvents() {
        let same = SyncRoundResult(pushed: [], pulled: [], aliases: [], cursor: 0, serverCatalog: "catalog-1")
        #expect(!plan(same).releasesHeldEvents)
        #expect(plan(same, previousCatalog: nil).releasesHeldEvents)
        let changed = SyncRoundResult(pushed: [], pulled: [], aliases: [], cursor: 0, serverCatalog: "catalog-2")
        #expect(plan(changed).releasesHeldEvents)
        let unsaid = SyncRoundResult(pushed: [], pulled: [], aliases: [], cursor: 0)
        #expect(!plan(unsaid).releasesHeldEvents)
    }

    @Test func aPulledEventMeetingADifferentOneMovesFromTheLowest() throws {
        let answer = SyncRoundResult(pushed: [], pulled: [try event(device, 8)], aliases: [], cursor: 12, cursorMark: 5, serverLastSeq: 3)
        var plan = plan(answer)
        #expect(plan.takesRecordedTail && !plan.movesEvents && plan.forgottenCheckAbove == 3)
        plan.meet([9, 8])
        #expect(plan.moveFrom == 8 && plan.movesEvents && plan.reoffersGivenUpReplica)
        #expect(plan.forgottenCheckAbove == nil)
        #expect(plan.cursor(forgotten: false) == 0 && plan.cursorMark(for: 0) == nil)
    }

    @Test func aRenewedReplicaIsGivenUpOnlyWhenItIsTheDevicesOwn() {
        let own = plan(SyncRoundResult(pushed: [], renewReplica: true, pulled: [], aliases: [], cursor: 4))
        #expect(own.renewsReplica && own.movesEvents && own.reoffersGivenUpReplica && own.cursor(forgotten: false) == 0)
        // A replica id this device gave up already: its events move to the current id instead,
        // only when a refusal asks.
        let givenUp = plan(SyncRoundResult(replica: old, pushed: [], renewReplica: true, pulled: [], aliases: [], cursor: 4, serverLastSeq: 2))
        #expect(!givenUp.isCurrentReplica && !givenUp.renewsReplica && !givenUp.movesEvents)
        #expect(givenUp.forgottenCheckAbove == 2 && givenUp.cursor(forgotten: false) == 4)
        let moved = plan(SyncRoundResult(
            replica: old, pushed: [], refused: [refusal(old, 6, .moveToNewReplica), refusal(device, 2, .moveToNewReplica)],
            pulled: [], aliases: [], cursor: 4))
        #expect(moved.moveFrom == 6 && moved.movesEvents && !moved.reoffersGivenUpReplica)
    }

    @Test func aRewoundFeedResendsEverything() {
        let plan = plan(SyncRoundResult(pushed: [], pulled: [], aliases: [], cursor: 0, cursorMark: 17, rewound: true))
        #expect(plan.resendsEverything && !plan.movesEvents)
        #expect(plan.cursor(forgotten: false) == 0 && plan.cursorMark(for: 0) == 17)
    }
}
