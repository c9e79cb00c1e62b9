import GRDB
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
    /// Records one event for the current learner: the event, its place in the outbox and its
    /// effect on progress commit in one transaction.
    ///
    /// ```swift
    /// try await store.record(.quizAttempt(quiz: "privacy-quiz", answers: answers), in: "customer-privacy")
    /// ```
    /// - Returns: the event as stored, with its id and HLC timestamp.
    /// - Throws: ``StorageError`` with code `invalidEvent` (unknown course or item, value out of
    ///   range; nothing is written) or `database`.
    @discardableResult
    public func record(_ payload: EventPayload, in course: CourseID) async throws -> ProgressEvent {
        try await record([RecordEntry(course: course, payload: payload)])[0]
    }

    /// Records one event, blocking the calling thread until it is committed. For callers on
    /// their own thread or queue: it saves the two thread hops of the async form (35–80 µs on a
    /// 2-core Linux machine), but waits while a sync writes a page. In async code Swift picks the
    /// async form.
    @discardableResult
    public func record(_ payload: EventPayload, in course: CourseID) throws -> ProgressEvent {
        try record([RecordEntry(course: course, payload: payload)])[0]
    }

    /// Records several events in one transaction, in order; one bad entry records nothing (items
    /// are checked against the catalog first, value ranges when each event is made inside the
    /// transaction, which a failure rolls back).
    @discardableResult
    public func record(_ entries: [RecordEntry]) async throws -> [ProgressEvent] {
        try checkItems(entries)
        let (catalog, clock) = (catalog, clock)
        return try await write { db in try Self.record(entries, catalog: catalog, clock: clock, db) }
    }

    /// Records several events in one transaction, blocking the calling thread until it is
    /// committed (see the blocking `record(_:in:)`).
    @discardableResult
    public func record(_ entries: [RecordEntry]) throws -> [ProgressEvent] {
        try checkItems(entries)
        let (catalog, clock) = (catalog, clock)
        return try writeNow { db in try Self.record(entries, catalog: catalog, clock: clock, db) }
    }

    private func checkItems(_ entries: [RecordEntry]) throws {
        try database {
            for entry in entries {
                guard let course = catalog[entry.course] else {
                    throw ModelError(.unknownCourse, "unknown course \(entry.course)")
                }
                try course.validate(entry.payload)
            }
        }
    }

    private static func record(_ entries: [RecordEntry], catalog: Catalog, clock: any WallClock, _ db: Database) throws -> [ProgressEvent] {
        // The counter and the clock continue from the device row or from this replica's last
        // event, whichever is further: recording writes no device row (one page less per
        // commit); a sync folds both into the row before it deletes refused events.
        let identity = try db.cachedStatement(sql: "SELECT replica, learner, \(nextSeqSQL), \(latestHLCSQL) FROM device WHERE id = 1")
        guard let row = try Row.fetchOne(identity) else {
            throw StorageError(.signedOut, "the store has no device identity")
        }
        let replica = ReplicaID(unchecked: row[0])
        let learner = LearnerID(unchecked: row[1])
        var seq: Int64 = row[2]
        let latest: Int64 = row[3]
        var hlc = HybridLogicalClock(latest: HLCTimestamp(rawValue: latest))
        let now = clock.millisecondsSince1970()
        var progress = try ProgressWriter(db: db, catalog: catalog)
        var recorded = [ProgressEvent]()
        recorded.reserveCapacity(entries.count)
        for entry in entries {
            let event = try ProgressEvent(
                id: EventID(replica: replica, seq: seq), learner: learner, timestamp: hlc.tick(now: now),
                course: entry.course, payload: entry.payload)
            seq += 1
            _ = try EventRow.insert(event, pending: true, in: db)
            try progress.apply(event)
            recorded.append(event)
        }
        try progress.flush()
        return recorded
    }

    /// Folds this replica's newest event into the device row's counter and clock, so they stay
    /// right when refused events are deleted from the log.
    static func saveClock(_ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE device SET nextSeq = \(nextSeqSQL), hlc = \(latestHLCSQL) WHERE id = 1").execute()
    }

    /// The next counter: past the device row's and past this replica's newest event.
    private static let nextSeqSQL =
        "max(nextSeq, COALESCE((SELECT seq + 1 FROM event WHERE replica = device.replica ORDER BY seq DESC LIMIT 1), 1))"
    /// The latest clock reading: the device row's or this replica's newest event's.
    private static let latestHLCSQL =
        "max(hlc, COALESCE((SELECT hlc FROM event WHERE replica = device.replica ORDER BY seq DESC LIMIT 1), 0))"
}
