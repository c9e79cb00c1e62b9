import LearnSyncModels
import LearnSyncProtocol

/// The per-request rules of storing pushed events, kept by every ``ServerStore``: replica
/// ownership, detection of restored and cloned devices, collisions, and clock bounds. The store
/// runs the SQL; this decides.
struct SyncRules {
    let root: LearnerID
    let replica: ReplicaID
    let lastSeq: Int64
    /// The latest time an event may be stored at: the server's clock plus one minute.
    let horizon: HLCTimestamp
    let now: Int64
    private(set) var renewReplica = false
    private(set) var retimed: [Retimed] = []
    private(set) var rejected: [Rejection] = []
    /// Every later event of the request is refused: the replica is another learner's, or an
    /// event collided.
    private var refuseRest = false

    init(root: LearnerID, replica: ReplicaID, lastSeq: Int64, now: Int64) {
        self.root = root
        self.replica = replica
        self.lastSeq = lastSeq
        self.now = now
        horizon = HLCTimestamp(physicalMilliseconds: now + ProtocolLimits.maxClockAheadMilliseconds)
    }

    /// Judges the replica before any event: another learner's replica id refuses every event;
    /// a stored counter beyond the device's `lastSeq` means the device was restored or cloned.
    mutating func check(owner: LearnerID?, storedLastSeq: Int64) {
        if let owner, owner != root {
            refuseRest = true
            renewReplica = true
        } else if storedLastSeq > lastSeq {
            renewReplica = true
        }
    }

    /// Whether to try storing `event`; a refusal is recorded. `isErased` is asked only for an
    /// event of another learner: an erased learner's events are refused `erased-learner`.
    mutating func admit(_ event: ProgressEvent, isMember: Bool, isErased: () throws -> Bool) rethrows -> Bool {
        if refuseRest {
            rejected.append(Rejection(id: event.id, code: .replicaConflict, reason: Self.conflictReason))
            return false
        }
        guard isMember else {
            rejected.append(
                try isErased()
                    ? Rejection(id: event.id, code: .erasedLearner, reason: "the event's learner was erased")
                    : Rejection(id: event.id, code: .foreignLearner, reason: "the event's learner is not the caller"))
            return false
        }
        return true
    }

    /// The time to store `event` at: its own, or the server's when it runs more than a minute ahead.
    func storedTime(of event: ProgressEvent) -> HLCTimestamp {
        event.timestamp <= horizon ? event.timestamp : HLCTimestamp(physicalMilliseconds: now)
    }

    /// `event` was stored new at `time`.
    mutating func stored(_ event: ProgressEvent, at time: HLCTimestamp) {
        if time != event.timestamp { retimed.append(Retimed(seq: event.id.seq, hlc: time)) }
    }

    /// `event`'s id was stored already: the same event (a re-send, answered again with its stored
    /// time) or another (a collision, which refuses it and every later event of the request).
    mutating func duplicate(_ event: ProgressEvent, same: Bool, storedAt time: HLCTimestamp) {
        if same {
            if time != event.timestamp { retimed.append(Retimed(seq: event.id.seq, hlc: time)) }
        } else {
            refuseRest = true
            renewReplica = true
            rejected.append(Rejection(id: event.id, code: .replicaConflict, reason: Self.conflictReason))
        }
    }

    /// Whether the requester already holds this feed row: its own replica's events up to its
    /// `lastSeq`. A restored or cloned device is sent the rest.
    func requesterHolds(replica other: String, seq: Int64) -> Bool {
        !renewReplica && other == replica.rawValue && seq <= lastSeq
    }

    private static let conflictReason = "another event is stored under this id or replica: push it again under a new replica id"
}
