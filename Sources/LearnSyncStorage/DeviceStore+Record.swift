import GRDB
import LearnSyncSQLite
import Synchronization
public import LearnSyncModels

/// One thing to record: a payload in a course.
public struct RecordEntry: Hashable, Sendable {
    public var course: CourseID
    public var payload: EventPayload

    public init(course: CourseID, payload: EventPayload) {
        self.course = course
        self.payload = payload
    }
}

extension DeviceStore {
    /// Records one event for the current learner: the event (which puts it in the outbox, see
    /// ``Outbox``) and its effect on progress commit in one transaction.
    ///
    /// ```swift
    /// try await store.record(.quizAttempt(quiz: "privacy-quiz", answers: answers), in: "customer-privacy")
    /// ```
    /// - Returns: the event as stored, with its id and HLC timestamp.
    /// - Throws: ``StorageError`` with code `invalidEvent` (unknown course or item, value out of
    ///   range; nothing is written) or `database`.
    @discardableResult
    package func record(_ payload: EventPayload, in course: CourseID) async throws -> ProgressEvent {
        try await record([RecordEntry(course: course, payload: payload)])[0]
    }

    /// Records one event, blocking the calling thread until it is committed. For callers on
    /// their own thread or queue: it saves the two thread hops of the async form (35–80 µs on a
    /// 2-core Linux machine), but waits while a sync writes a page. In async code Swift picks the
    /// async form.
    @discardableResult
    package func record(_ payload: EventPayload, in course: CourseID) throws -> ProgressEvent {
        try record([RecordEntry(course: course, payload: payload)])[0]
    }

    /// Records several events in one transaction, in order; one bad entry records nothing (items
    /// are checked against the catalog first, value ranges when each event is made inside the
    /// transaction, which a failure rolls back).
    @discardableResult
    package func record(_ entries: [RecordEntry]) async throws -> [ProgressEvent] {
        let catalog = catalogs.withLock { $0 }
        try checkItems(entries, catalog.merged)
        return try await writeSeries { db in try self.record(entries, catalog: catalog, db) }
    }

    /// Records several events in one transaction, blocking the calling thread until it is
    /// committed (see the blocking `record(_:in:)`).
    @discardableResult
    package func record(_ entries: [RecordEntry]) throws -> [ProgressEvent] {
        let catalog = catalogs.withLock { $0 }
        try checkItems(entries, catalog.merged)
        return try writeSeriesNow { db in try record(entries, catalog: catalog, db) }
    }

    private func checkItems(_ entries: [RecordEntry], _ catalog: Catalog) throws {
        try database {
            for entry in entries { try catalog.validate(entry.payload, in: entry.course) }
        }
    }

    /// Records in one transaction on the writer, then leaves a ``RecordMemo`` for the next
    /// record if it committed.
    private func record(_ entries: [RecordEntry], catalog: Catalogs, _ db: Database) throws -> [ProgressEvent] {
        var next: RecordMemo?
        let recorded = try db.immediateTransaction {
            let memo = recordMemo.withLock { $0 }.flatMap { $0.isCurrent(in: db, catalogGeneration: catalog.generation) ? $0 : nil }
            let (recorded, state) = try Self.record(entries, catalog: catalog.merged, clock: clock, memo: memo, db)
            next = state
            return recorded
        }
        // The version after this commit: nothing else ran on the writer since.
        if var next, let version = db.dataVersion {
            next.dataVersion = version
            next.catalogGeneration = catalog.generation
            recordMemo.withLock { $0 = next }
        } else {
            recordMemo.withLock { $0 = nil }
        }
        return recorded
    }

    /// The device row's identity and clock: `memo`'s when it is current, else read.
    private static func deviceState(memo: RecordMemo?, _ db: Database) throws -> RecordMemo {
        if let memo { return memo }
        // The counter and the clock continue from the device row or from this replica's last
        // event, whichever is further: recording writes no device row (one page less per
        // commit); a sync folds both into the row before it moves events to another replica id.
        let identity = try db.cachedStatement(
            sql: "SELECT replica, learner, \(nextSeqSQL) AS nextSeq, \(latestHLCSQL) AS latestHLC, clockOffset FROM device WHERE id = 1")
        guard let row = try Row.fetchOne(identity) else {
            throw StorageError(.signedOut, "the store has no device identity")
        }
        return RecordMemo(
            dataVersion: 0, catalogGeneration: 0, replica: ReplicaID(unchecked: row["replica"]),
            learner: LearnerID(unchecked: row["learner"]), nextSeq: row["nextSeq"], latestHLC: HLCTimestamp(rawValue: row["latestHLC"]),
            clockOffset: row["clockOffset"],
            aliases: try ProgressWriter.loadAliases(db), progress: [:])
    }

    /// Records `entries` in the open transaction; returns them as stored and the memo of the
    /// state they leave (its data version and catalog generation are the caller's to set, once
    /// the transaction committed).
    private static func record(
        _ entries: [RecordEntry], catalog: Catalog, clock: any WallClock, memo: RecordMemo?, _ db: Database
    ) throws -> ([ProgressEvent], RecordMemo) {
        var state = try deviceState(memo: memo, db)
        let replica = state.replica
        let learner = state.learner
        var seq = state.nextSeq
        var hlc = HybridLogicalClock(latest: state.latestHLC)
        // Wall time corrected by the offset to the server's clock measured at the last sync.
        let now = clock.millisecondsSince1970() &+ state.clockOffset
        var progress = ProgressWriter(db: db, catalog: catalog, memo: state)
        var recorded = [ProgressEvent]()
        recorded.reserveCapacity(entries.count)
        let log = try EventRow.Inserter(db)
        var logged = 0
        /// Puts the events recorded since the last call in the log, and their effect on progress.
        func logRecorded() throws {
            let new = try log.insert(recorded[logged...])
            // The counter continues past every event of this replica, so the ids are free; if
            // one were not, its event would be dropped in silence.
            guard new.count == recorded.count - logged else { throw StorageError(.database, "a new event's id is taken") }
            try progress.apply(logged: new)
            logged = recorded.count
        }
        /// The last-writer-wins fields this batch wrote, with their newest keys.
        var batchWinners = [LastWriterField: EventKey]()
        for entry in entries {
            // A reset names the events the log holds: those recorded before it go in first.
            if case .courseReset = entry.payload { try logRecorded() }
            var timestamp = hlc.tick(now: now)
            // A choice or resume point the learner makes now wins over the one the device shows,
            // whatever the clock did since (it may have run ahead and been put right).
            if let field = LastWriterField(entry) {
                // What the device shows: the stored winner, or one this batch recorded before.
                let shown = max(try progress.winningKey(for: entry.payload, learner: learner, course: entry.course), batchWinners[field])
                if let shown, shown.timestamp >= timestamp { timestamp = HLCTimestamp(rawValue: shown.timestamp.rawValue &+ 1) }
                batchWinners[field] = EventKey(timestamp: timestamp, id: EventID(replica: replica, seq: seq))
            }
            recorded.append(try ProgressEvent(
                id: EventID(replica: replica, seq: seq), learner: learner, timestamp: timestamp,
                course: entry.course, payload: try stamp(entry, catalog: catalog, db)))
            seq += 1
        }
        try logRecorded()
        try progress.flush()
        state.nextSeq = seq
        state.latestHLC = hlc.latest
        state.aliases = progress.aliases
        state.progress = progress.memoProgress
        return (recorded, state)
    }

    /// The payload as recorded: a quiz attempt names the course's current version, a reset the
    /// events this device holds.
    private static func stamp(_ entry: RecordEntry, catalog: Catalog, _ db: Database) throws -> EventPayload {
        switch entry.payload {
        case .quizAttempt(let quiz, let answers, 0):
            return .quizAttempt(quiz: quiz, answers: answers, version: catalog[entry.course]?.version ?? 1)
        case .courseReset:
            return .courseReset(seen: try seenEvents(db))
        default:
            return entry.payload
        }
    }

    /// What a reset sees: per replica, every counter up to the highest the log holds (one run per
    /// replica, so a reset's size is bounded by the replicas, not by gaps). A gap is an event
    /// the recording device had before the ones this device holds (held back by a server that
    /// did not know its item yet, or moved away): it belongs to the same earlier attempt.
    static func seenEvents(_ db: Database) throws -> SeenEvents {
        var seen = SeenEvents()
        let rows = try Row.fetchCursor(db, sql: "SELECT replica, MAX(seq) AS lastSeq FROM event GROUP BY replica ORDER BY replica")
        while let row = try rows.next() {
            seen.insert(ReplicaID(unchecked: row["replica"]), 1...(row["lastSeq"] as Int64))
        }
        return seen
    }

    /// Folds this replica's newest event into the device row's counter and clock, so they stay
    /// right when a sync moves events to another replica id.
    static func saveClock(_ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE device SET nextSeq = \(nextSeqSQL), hlc = \(latestHLCSQL) WHERE id = 1").execute()
    }

    /// The next counter: past the device row's and past this replica's newest event.
    static let nextSeqSQL =
        "max(nextSeq, COALESCE((SELECT seq + 1 FROM event WHERE replica = device.replica ORDER BY seq DESC LIMIT 1), 1))"
    /// The latest clock reading: the device row's or this replica's newest event's.
    private static let latestHLCSQL =
        "max(hlc, COALESCE((SELECT hlc FROM event WHERE replica = device.replica ORDER BY seq DESC LIMIT 1), 0))"
}

/// A last-writer-wins field a recorded payload writes: a scenario's current choice, or the
/// course's resume point.
private struct LastWriterField: Hashable {
    var course: CourseID
    var scenario: ItemID?

    init?(_ entry: RecordEntry) {
        switch entry.payload {
        case .scenarioChoice(let scenario, _): self.scenario = scenario
        case .resumePosition: scenario = nil
        default: return nil
        }
        course = entry.course
    }
}

private func max(_ a: EventKey?, _ b: EventKey?) -> EventKey? {
    guard let a else { return b }
    guard let b else { return a }
    return Swift.max(a, b)
}
