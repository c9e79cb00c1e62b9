import GRDB
import LearnSyncModels
import LearnSyncProtocol
package import LearnSyncSQLite

/// Storing a push's events in the embedded store, inside the sync's transaction.
///
/// Events the replica has never pushed (counters past the highest it has stored) go in
/// multi-row `INSERT`s (``MultiRowInsert``). Should such a run meet a stored id after all (a
/// database from before the replica table, or one event twice in a request), the run is rolled
/// back and stored one event at a time, where every duplicate is judged; so is every event a
/// device sends again.
extension SQLiteServerStore {
    /// What storing a push needs to know and keeps track of.
    struct PushWriter {
        let root: LearnerID
        let replica: ReplicaID
        /// The highest counter stored under the replica before this request: events past it
        /// are new.
        let storedLastSeq: Int64
        let members: Set<LearnerID>
        /// Events the catalog refused: judged, never stored.
        let held: [EventID: Rejection]
        var rules: SyncRules
        /// The feed position the next new event takes.
        var position: Int64
        /// The one-row insert and the read of a stored event, each looked up at its first use in
        /// this push: the statement cache hashes the SQL text on every lookup.
        private var oneRow: Statement?
        private var storedEvent: Statement?

        init(
            root: LearnerID, replica: ReplicaID, storedLastSeq: Int64, members: Set<LearnerID>, held: [EventID: Rejection] = [:],
            rules: SyncRules, position: Int64
        ) {
            self.root = root
            self.replica = replica
            self.storedLastSeq = storedLastSeq
            self.members = members
            self.held = held
            self.rules = rules
            self.position = position
        }

        /// Stores `events` in order, judging each by the rules.
        mutating func store(_ events: [ProgressEvent], _ db: Database) throws {
            var start = events.startIndex
            while start < events.endIndex {
                let end = min(start + SQLiteServerStore.eventInsert.maxRows, events.endIndex)
                let run = events[start..<end]
                if try !storeNew(run, db) {
                    for event in run { try storeOne(event, db) }
                }
                start = end
            }
        }

        /// Stores `run` in one statement when every event of it is new; false when it is not
        /// (nothing of the run is stored then, and the rules are as before).
        private mutating func storeNew(_ run: ArraySlice<ProgressEvent>, _ db: Database) throws -> Bool {
            guard run.count > 1, run.allSatisfy({ $0.id.replica == replica && $0.id.seq > storedLastSeq && held[$0.id] == nil }) else {
                return false
            }
            let before = rules
            var admitted = [ProgressEvent]()
            admitted.reserveCapacity(run.count)
            for event in run where try rules.admit(event, isMember: members.contains(event.learner), isErased: { try SQLiteServerStore.isErased(event.learner, db) }) {
                admitted.append(event)
            }
            guard !admitted.isEmpty else { return true }
            let times = admitted.map { rules.storedTime(of: $0) }
            let first = position
            let outcome = try SQLiteServerStore.eventInsert.insertIfAllNew(rows: admitted.count, db) { binding, row, parameter in
                bind(admitted[row], at: times[row], position: first + Int64(row), into: &binding, from: parameter)
            }
            // Every stored id is judged (a re-send or a collision), one event at a time.
            guard outcome == .allNew else {
                rules = before
                return false
            }
            for (event, time) in zip(admitted, times) {
                rules.stored(event, at: time, position: position)
                position += 1
            }
            return true
        }

        /// Stores one event, or judges the one stored under its id.
        private mutating func storeOne(_ event: ProgressEvent, _ db: Database) throws {
            guard try rules.admit(event, isMember: members.contains(event.learner), isErased: { try SQLiteServerStore.isErased(event.learner, db) })
            else { return }
            let refusal = held[event.id]
            if refusal == nil {
                let time = rules.storedTime(of: event)
                if oneRow == nil { oneRow = try db.cachedStatement(sql: SQLiteServerStore.eventInsert.sql(rows: 1)) }
                var binding = oneRow!.startBinding()
                bind(event, at: time, position: position, into: &binding, from: 1)
                try binding.execute()
                if db.changesCount > 0 {
                    rules.stored(event, at: time, position: position)
                    position += 1
                    return
                }
            }
            let c = EventColumns(event)
            if storedEvent == nil {
                storedEvent = try db.cachedStatement(sql: """
                    SELECT hlc AS storedAt, COALESCE(sentHLC, hlc) AS sentAt, \(EventColumns.names)
                    FROM event WHERE replica = ? AND seq = ?
                    """)
            }
            storedEvent!.setUncheckedArguments([c.replica, c.seq])
            guard let row = try Row.fetchOne(storedEvent!) else {
                if let refusal { rules.held(refusal) }
                return
            }
            // Compared as sent: the stored row holds the time it was stored at.
            var sent = EventColumns(row, from: 2)
            sent.hlc = row["sentAt"]
            rules.duplicate(event, offered: c, sent: sent, storedAt: HLCTimestamp(rawValue: row["storedAt"]))
        }

        /// Binds one row's columns (``eventInsert``) from parameter `first`: the event stored at `time`, with
        /// the time it was sent in `sentHLC` when that differs, and the request's mark.
        private func bind(_ event: ProgressEvent, at time: HLCTimestamp, position: Int64, into binding: inout DirectBinding, from first: Int32) {
            var columns = EventColumns(event)
            let sent = columns.hlc
            columns.hlc = time.rawValue
            binding.bind(root.rawValue, at: first)
            binding.bind(position, at: first + 1)
            binding.bind(columns, from: first + 2)
            binding.bind(time == event.timestamp ? nil : sent, at: first + 2 + EventColumns.count)
            binding.bind(rules.stamp, at: first + 3 + EventColumns.count)
        }
    }

    /// The `INSERT` of events, each with its root, position and mark.
    package static let eventInsert = MultiRowInsert(
        head: "INSERT INTO event (root, pos, \(EventColumns.names), sentHLC, stamp)",
        columns: 4 + EventColumns.count,
        tail: "ON CONFLICT (replica, seq) DO NOTHING")
}
