package import LearnSyncModels

/// What the device does with one sync answer, decided without the database: the device's
/// counterpart of the server's `SyncRules`. ``DeviceStore/applied(_:now:)`` gathers the few
/// facts the plan needs from the log, and runs its steps in one transaction.
///
/// The rules:
/// - Pushed events the answer does not refuse leave the outbox; retimed ones take the server's
///   time.
/// - A new server catalog sends the events held for the old one again.
/// - A refusal holds its event until the catalog changes, refuses it for good, moves it to a new
///   id, or removes every event of an erased learner (the device's own learner is never removed:
///   its events are refused instead).
/// - A pulled event under an id this device gave to a different, unacknowledged event: the
///   server holds the other one, and this device's event moves.
/// - Events move, or the replica id is given up: the feed is pulled again from cursor 0, and the
///   acknowledged events of a given-up id are offered once more.
/// - A server that forgot part of the feed (`rewound`) is offered every event again; one that
///   holds fewer of the replica's events than it acknowledged (its `lastSeq`) is offered those
///   above it, and the feed is pulled from the start.
package struct AnswerPlan: Equatable, Sendable {
    /// The replica the answer is about.
    package let replica: ReplicaID
    /// Whether that is the replica this device records with now.
    package let isCurrentReplica: Bool
    /// The recorded tail must be in the outbox table before the answer is stored: events may
    /// move, or pulled events carry this replica's id and may meet unacknowledged ones.
    package let takesRecordedTail: Bool
    /// The server's catalog changed: held events go back to the outbox.
    package let releasesHeldEvents: Bool
    /// Events of erased learners: every event of those learners (but the device's own) goes.
    package let erasedLearnerEvents: [EventID]
    /// Events kept, and pushed again once the server's catalog changes.
    package let held: [Refusal]
    /// Events kept and refused for good (an erased learner's events are refused too: those of
    /// the device's own learner stay).
    package let refused: [Refusal]
    /// The device gives up its replica id.
    package let renewsReplica: Bool
    /// The first counter of `replica` whose unacknowledged events move to another id, if any.
    package private(set) var moveFrom: Int64?
    /// The server forgot part of the feed: every event of the log goes back to the outbox.
    package let resendsEverything: Bool
    /// The cursor and mark the answer names.
    private let answerCursor: Int64
    private let answerCursorMark: Int64?
    private let serverLastSeq: Int64?

    /// Plans `answer` for a device recording as `current`, whose last answer named the server
    /// catalog `previousServerCatalog`.
    package init(_ answer: SyncRoundResult, current: ReplicaID, previousServerCatalog: String?) {
        replica = answer.replica ?? current
        isCurrentReplica = replica == current
        takesRecordedTail = answer.renewReplica || answer.refused.contains { $0.handling == .moveToNewReplica }
            || answer.pulled.contains { $0.id.replica == current }
        releasesHeldEvents = answer.serverCatalog.map { $0 != previousServerCatalog } ?? false
        erasedLearnerEvents = answer.refused.filter { $0.handling == .removeErasedLearner }.map(\.id)
        held = answer.refused.filter { $0.handling == .retryWhenCatalogChanges }
        refused = answer.refused.filter { $0.handling == .refusedForGood || $0.handling == .removeErasedLearner }
        renewsReplica = answer.renewReplica && replica == current
        let replica = replica
        moveFrom = answer.refused.lazy.filter { $0.handling == .moveToNewReplica && $0.id.replica == replica }.map(\.id.seq).min()
        resendsEverything = answer.rewound
        answerCursor = answer.cursor
        answerCursorMark = answer.cursorMark
        serverLastSeq = answer.serverLastSeq
    }

    /// Adds the counters of pulled events that met different unacknowledged events of this
    /// device: its events move from the lowest one on.
    package mutating func meet(_ collisions: some Sequence<Int64>) {
        for seq in collisions { moveFrom = min(moveFrom ?? seq, seq) }
    }

    /// Events move to another id, or the replica id is given up.
    package var movesEvents: Bool { renewsReplica || moveFrom != nil }

    /// The acknowledged events of the replica given up are offered once more under their own ids:
    /// from cursor 0 no mark watches the feed, so a server that went back in time would forget
    /// them unseen.
    package var reoffersGivenUpReplica: Bool { movesEvents && isCurrentReplica }

    /// Look for acknowledged events of `replica` above this counter that the server no longer
    /// holds (nil: not asked; events that move are offered again anyway).
    package var forgottenCheckAbove: Int64? { movesEvents ? nil : serverLastSeq }

    /// The cursor to store: the answer's, or 0 to pull the whole feed again (events moved, or the
    /// server forgot some: the device may have skipped events of the old id).
    package func cursor(forgotten: Bool) -> Int64 { movesEvents || forgotten ? 0 : answerCursor }

    /// The mark stored with `cursor`: the answer's, for the answer's own cursor only.
    package func cursorMark(for cursor: Int64) -> Int64? { cursor == answerCursor ? answerCursorMark : nil }
}
