import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer

/// A push's events judged in order by ``SyncRules``, each new one given the next position in
/// the feed: the state of a push's loop, for the `INSERT` of a short push and the `COPY` of a
/// long one alike.
struct PushAdmission: Sendable {
    private(set) var rules: SyncRules
    /// The replica's events stored already, by counter, and the new ones as they are taken.
    private var existing: [Int64: (columns: EventColumns, storedAt: HLCTimestamp)]
    private let members: Set<LearnerID>
    /// The push's learners (outside the feed's members) that were erased.
    private let erased: Set<String>
    private let held: [EventID: Rejection]
    /// The last position taken in the feed.
    private(set) var position: Int64
    /// The highest counter of a new event, 0 before one.
    private(set) var highest: Int64 = 0

    init(
        rules: SyncRules, existing: [Int64: (columns: EventColumns, storedAt: HLCTimestamp)], members: Set<LearnerID>, erased: Set<String>,
        held: [EventID: Rejection], feedEnd: Int64
    ) {
        self.rules = rules
        self.existing = existing
        self.members = members
        self.erased = erased
        self.held = held
        position = feedEnd
    }

    /// Judges `events`, handing each new one to `store` with its position, its columns as
    /// stored and the time it was sent at when that differs (``SyncRules/storedTime(of:)``).
    mutating func admit(_ events: ArraySlice<ProgressEvent>, _ store: (_ position: Int64, _ columns: EventColumns, _ sentHLC: Int64?) -> Void) {
        for event in events {
            guard rules.admit(event, isMember: members.contains(event.learner), isErased: { erased.contains(event.learner.rawValue) })
            else { continue }
            let columns = EventColumns(event)
            if let stored = existing[columns.seq] {
                rules.duplicate(event, offered: columns, sent: stored.columns, storedAt: stored.storedAt)
                continue
            }
            if let refusal = held[event.id] {
                rules.held(refusal)
                continue
            }
            let time = rules.storedTime(of: event)
            var storedColumns = columns
            storedColumns.hlc = time.rawValue
            position += 1
            store(position, storedColumns, time == event.timestamp ? nil : columns.hlc)
            existing[columns.seq] = (columns, time)
            rules.stored(event, at: time, position: position)
            highest = max(highest, columns.seq)
        }
    }
}
