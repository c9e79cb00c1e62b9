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
    /// Records one event for the current learner: the event, its place in the outbox, the clock
    /// and its effect on progress commit in one transaction.
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

    /// Records several events in one transaction, in order; one bad entry records nothing (items
    /// are checked against the catalog first, value ranges when each event is made inside the
    /// transaction, which a failure rolls back).
    @discardableResult
    public func record(_ entries: [RecordEntry]) async throws -> [ProgressEvent] {
        let catalog = catalog
        try database {
            for entry in entries {
                guard let course = catalog[entry.course] else {
                    throw ModelError(.unknownCourse, "unknown course \(entry.course)")
                }
                try course.validate(entry.payload)
            }
        }
        let clock = clock
        return try await write { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT replica, learner, nextSeq, hlc FROM device WHERE id = 1")) else {
                throw StorageError(.signedOut, "the store has no device identity")
            }
            let replica = ReplicaID(unchecked: row[0])
            let learner = LearnerID(unchecked: row[1])
            var seq: Int64 = row[2]
            var hlc = HybridLogicalClock(latest: HLCTimestamp(rawValue: row[3]))
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
            try db.cachedStatement(sql: "UPDATE device SET nextSeq = ?, hlc = ? WHERE id = 1")
                .execute(arguments: [seq, hlc.latest.rawValue])
            return recorded
        }
    }
}
