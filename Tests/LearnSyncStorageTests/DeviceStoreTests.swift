import Foundation
import GRDB
import LearnSyncMerge
import LearnSyncModels
import LearnSyncStorage
import LearnSyncTestSupport
import Testing

@Suite struct DeviceStoreTests {
    let catalog: Catalog
    let course: Course
    let directory: URL

    init() throws {
        catalog = try SampleCatalog.load()
        course = catalog[SampleCatalog.courseID]!
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var path: String { directory.appendingPathComponent("device.sqlite").path }

    @Test func recordsAndReadsProgress() async throws {
        let store = try DeviceStore.inMemory(catalog: catalog)
        let lesson = course.lessons[0].id
        let event = try await store.record(.lessonCompleted(lesson: lesson), in: course.id)
        #expect(event.id.seq == 1)
        #expect(event.learner == (try await store.identity()).learner)
        #expect(try await store.progress(in: course.id).status(of: lesson) == .completed)
        #expect(try await store.pendingCount() == 1)
    }

    @Test func migratesAnEmptyFileAndReopeningKeepsEverything() async throws {
        let (identity, recorded): (DeviceIdentity, [ProgressEvent])
        do {
            let store = try DeviceStore(path: path, catalog: catalog)
            identity = try await store.identity()
            recorded = try await store.record([
                RecordEntry(course: course.id, payload: .lessonStarted(lesson: course.lessons[1].id)),
                RecordEntry(course: course.id, payload: .timeSpent(lesson: course.lessons[1].id, seconds: 42)),
            ])
        }
        let reopened = try DeviceStore(path: path, catalog: catalog)
        #expect(try await reopened.identity() == identity)
        #expect(try await reopened.events(in: course.id) == recorded)
        #expect(try await reopened.progress(in: course.id).secondsSpent == 42)
        let next = try await reopened.record(.lessonCompleted(lesson: course.lessons[1].id), in: course.id)
        #expect(next.id.seq == 3)
        #expect(next.timestamp > recorded[1].timestamp)
    }

    @Test func aBadEntryRecordsNothing() async throws {
        let store = try DeviceStore.inMemory(catalog: catalog)
        await #expect(throws: StorageError.self) {
            try await store.record([
                RecordEntry(course: course.id, payload: .lessonCompleted(lesson: course.lessons[0].id)),
                RecordEntry(course: course.id, payload: .lessonCompleted(lesson: "no-such-lesson")),
            ])
        }
        await #expect(throws: StorageError.self) { try await store.record(.courseReset(), in: "no-such-course") }
        #expect(try await store.events(in: course.id).isEmpty)
        #expect(try await store.pendingCount() == 0)
    }

    @Test func eventAndProgressCommitTogetherOrNotAtAll() async throws {
        do {
            let store = try DeviceStore(path: path, catalog: catalog)
            try await store.record(.lessonStarted(lesson: course.lessons[0].id), in: course.id)
        }
        // Make the progress write fail inside the record transaction, as a crash or full disk would.
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: """
                CREATE TRIGGER failProgress BEFORE UPDATE ON progress BEGIN SELECT RAISE(ABORT, 'disk full'); END;
                CREATE TRIGGER failProgressInsert BEFORE INSERT ON progress BEGIN SELECT RAISE(ABORT, 'disk full'); END;
                """)
        }
        let store = try DeviceStore(path: path, catalog: catalog)
        await #expect(throws: StorageError.self) {
            try await store.record(.lessonCompleted(lesson: course.lessons[0].id), in: course.id)
        }
        #expect(try await store.events(in: course.id).count == 1)
        #expect(try await store.pendingCount() == 1)
        #expect(try await store.progress(in: course.id).status(of: course.lessons[0].id) == .started)
        try await queue.write { db in try db.execute(sql: "DROP TRIGGER failProgress; DROP TRIGGER failProgressInsert") }
        let next = try await store.record(.lessonCompleted(lesson: course.lessons[0].id), in: course.id)
        #expect(next.id.seq == 2)
    }

    @Test func incrementalProgressEqualsRebuildFromTheLog() async throws {
        let seed = SeededGenerator.seedFromEnvironment()
        print("incrementalProgressEqualsRebuildFromTheLog seed: \(seed)")
        var generator = SeededGenerator(seed: seed)
        let store = try DeviceStore.inMemory(catalog: catalog)
        for _ in 0..<50 {
            let batch = (0..<Int.random(in: 1...20, using: &generator)).map { _ in
                RecordEntry(course: course.id, payload: RandomStudy.payload(in: course, using: &generator))
            }
            try await store.record(batch)
        }
        let incremental = try await store.progress(in: course.id)
        try await store.rebuildProgress()
        #expect(try await store.progress(in: course.id) == incremental, "seed \(seed)")
        let events = try await store.events(in: course.id)
        #expect(incremental == CourseProgress.rebuild(course: course.id, catalog: catalog, from: events), "seed \(seed)")
    }

    /// A batch across several multi-row statements and one event alone: every recorded event is
    /// in the outbox once (as the recorded tail, without an outbox row).
    @Test(arguments: [1, 64, 65, 150])
    func everyRecordedEventIsInTheOutboxOnce(_ count: Int) async throws {
        let store = try DeviceStore.inMemory(catalog: catalog)
        let lessons = course.lessons.map(\.id)
        let recorded = try await store.record((0..<count).map {
            RecordEntry(course: course.id, payload: .timeSpent(lesson: lessons[$0 % lessons.count], seconds: 1))
        })
        let blocking = { () throws -> ProgressEvent in try store.record(.lessonStarted(lesson: lessons[0]), in: self.course.id) }
        let one = try blocking()
        #expect(try await store.pendingCount() == count + 1)
        #expect(try await store.pendingEvents(limit: 1000).map(\.id) == (recorded + [one]).map(\.id))
    }

    /// Recorded events are in the outbox without a row until the next other write takes them into
    /// the table; that write's own events under this replica (pulled ones, which a server holds)
    /// never join the outbox, and nothing recorded before it is left out, across pipelined
    /// batches.
    @Test func recordedEventsJoinTheOutboxTableAtTheNextWrite() async throws {
        let store = try DeviceStore.inMemory(catalog: catalog)
        let lessons = course.lessons.map(\.id)
        func record(_ index: Int) async throws -> ProgressEvent {
            try await store.record(.timeSpent(lesson: lessons[index % lessons.count], seconds: 1), in: course.id)
        }
        var events = [ProgressEvent]()
        for index in 0..<3 { events.append(try await record(index)) }
        // Two batches in flight at once; a fourth event is recorded meanwhile.
        let first = try store.outboxBatch(limit: 2).events
        let second = try store.outboxBatch(limit: 2, after: first.last?.id).events
        #expect(first.map(\.id) == events[0..<2].map(\.id) && second.map(\.id) == [events[2].id])
        events.append(try await record(3))
        try await store.apply(SyncRoundResult(pushed: first, pulled: [], aliases: [], cursor: 0))
        #expect(try await store.pendingEvents(limit: 10).map(\.id) == events[2...].map(\.id))
        // Recorded after that write: the table's events and the tail's, merged in order.
        events.append(try await record(4))
        #expect(try store.outboxBatch(limit: 10).events.map(\.id) == events[2...].map(\.id))
        #expect(try await store.pendingCount() == 3)
        // A clone's event under this replica's id, pulled: stored, never pending here.
        let me = try await store.identity()
        let clone = try ProgressEvent(
            id: EventID(replica: me.replica, seq: 9), learner: me.learner,
            timestamp: HLCTimestamp(physicalMilliseconds: 1_800_000_000_000), course: course.id, payload: .lessonStarted(lesson: lessons[0]))
        try await store.apply(SyncRoundResult(pushed: second, pulled: [clone], aliases: [], cursor: 1))
        #expect(try await store.pendingEvents(limit: 10).map(\.id) == events[3...].map(\.id))
        let next = try await record(5)
        #expect(next.id.seq == 10)
        #expect(try await store.pendingEvents(limit: 10).map(\.id) == (events[3...] + [next]).map(\.id))
        #expect(try await store.pendingCount() == 3)
    }

    /// A long push after recording offline: each answer moves the mark past the pushed events
    /// that begin the recorded tail, so none of them is ever copied into the outbox table; a
    /// held event among them leaves the outbox and comes back when the server's catalog changes.
    @Test func answersToALongPushMoveTheMarkWithoutCopyingTheTail() async throws {
        let store = try DeviceStore(path: path, catalog: catalog)
        let lessons = course.lessons.map(\.id)
        let events = try await store.record((0..<10).map {
            RecordEntry(course: course.id, payload: .timeSpent(lesson: lessons[$0 % lessons.count], seconds: 1))
        })
        let file = try DatabaseQueue(path: path)
        func tableRows() throws -> Int { try file.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? -1 } }
        var acknowledged = 0
        while acknowledged < 9 {
            let batch = try store.outboxBatch(limit: 3).events
            #expect(batch.map(\.id) == events[acknowledged..<acknowledged + 3].map(\.id))
            // The server holds the second event of the first batch for a catalog change.
            let held = acknowledged == 0 ? [Refusal(id: batch[1].id, code: "unknown-item", reason: "test", handling: .retryWhenCatalogChanges)] : []
            #expect(try await store.apply(SyncRoundResult(pushed: batch, refused: held, pulled: [], aliases: [], cursor: 0, serverCatalog: "v1")))
            acknowledged += 3
            #expect(try tableRows() == 0)
            #expect(try await store.pendingCount() == 10 - acknowledged)
        }
        #expect(try await store.rejectedEvents().map(\.event.id) == [events[1].id])
        try await store.apply(SyncRoundResult(pushed: [], pulled: [], aliases: [], cursor: 0, serverCatalog: "v2"))
        #expect(try await store.pendingEvents(limit: 10).map(\.id) == [events[1].id, events[9].id])
    }

    /// The answer to a later batch arrives first (the earlier one is lost or slow): the tail goes
    /// into the table, and each answer acknowledges exactly what its batch pushed.
    @Test func answersOutOfOrderAcknowledgeExactlyTheirBatches() async throws {
        let store = try DeviceStore.inMemory(catalog: catalog)
        let lessons = course.lessons.map(\.id)
        let events = try await store.record((0..<6).map {
            RecordEntry(course: course.id, payload: .lessonStarted(lesson: lessons[$0 % lessons.count]))
        })
        let first = try store.outboxBatch(limit: 2).events
        let second = try store.outboxBatch(limit: 2, after: first.last?.id).events
        #expect(second.map(\.id) == events[2..<4].map(\.id))
        try await store.apply(SyncRoundResult(pushed: second, pulled: [], aliases: [], cursor: 0))
        #expect(try await store.pendingEvents(limit: 10).map(\.id) == [events[0], events[1], events[4], events[5]].map(\.id))
        try await store.apply(SyncRoundResult(pushed: first, pulled: [], aliases: [], cursor: 0))
        #expect(try await store.pendingEvents(limit: 10).map(\.id) == events[4...].map(\.id))
        #expect(try await store.pendingCount() == 2)
    }

    @Test func observingProgressYieldsOnChange() async throws {
        let store = try DeviceStore.inMemory(catalog: catalog)
        let lesson = course.lessons[0].id
        var iterator = store.observeProgress(in: course.id).makeAsyncIterator()
        #expect(try await iterator.next()?.status(of: lesson) == .notStarted)
        try await store.record(.lessonCompleted(lesson: lesson), in: course.id)
        #expect(try await iterator.next()?.status(of: lesson) == .completed)
    }

    @Test func appliesASyncRoundInOneTransaction() async throws {
        let store = try DeviceStore.inMemory(catalog: catalog)
        let me = try await store.identity()
        let mine = try await store.record([
            RecordEntry(course: course.id, payload: .lessonCompleted(lesson: course.lessons[0].id)),
            RecordEntry(course: course.id, payload: .lessonCompleted(lesson: course.lessons[1].id)),
        ])
        let account: LearnerID = "a-account"
        let remote = try ProgressEvent(
            id: EventID(replica: "other", seq: 1), learner: account,
            timestamp: HLCTimestamp(physicalMilliseconds: 4_000_000_000_000), course: course.id,
            payload: .lessonCompleted(lesson: course.lessons[2].id))
        let round = SyncRoundResult(
            pushed: mine,
            refused: [Refusal(id: mine[1].id, code: "unknown-item", reason: "not on the server", handling: .retryWhenCatalogChanges)],
            pulled: [remote, remote], aliases: [(guest: me.learner, account: account)], cursor: 7, serverCatalog: "v1")
        try await store.apply(round)
        try await store.apply(round)  // a replayed answer changes nothing

        #expect(try await store.pendingCount() == 0)
        #expect(try await store.syncState().cursor == 7)
        let rejected = try await store.rejectedEvents()
        #expect(rejected.map(\.event) == [mine[1]])
        #expect(rejected.first?.code == "unknown-item" && rejected.first?.willRetry == true)
        // The held event stays in the log and keeps counting.
        #expect(try await store.progress(in: course.id).status(of: course.lessons[1].id) == .completed)
        // A pulled time far in the future does not drag this device's clock along.
        let events = try await store.record(.lessonStarted(lesson: course.lessons[3].id), in: course.id)
        #expect(events.timestamp < remote.timestamp)
        // A new server catalog sends the held event again.
        try await store.apply(SyncRoundResult(pushed: [], pulled: [], aliases: [], cursor: 7, serverCatalog: "v2"))
        #expect(try await store.pendingEvents(limit: 10).map(\.id).contains(mine[1].id))
    }

    /// An answer acknowledges exactly the events its request pushed: not an event that came back
    /// into the outbox meanwhile (a held event after a catalog change, seen by another sync)
    /// inside the pushed counters' range, and not a refused one.
    @Test func anAnswerAcknowledgesOnlyWhatWasPushed() async throws {
        let store = try DeviceStore.inMemory(catalog: catalog)
        let lessons = course.lessons.map(\.id)
        let events = try await store.record(lessons.prefix(5).map { RecordEntry(course: course.id, payload: .lessonStarted(lesson: $0)) })
        // The third is held for a catalog change; the batch pushes the other four.
        try await store.apply(SyncRoundResult(
            pushed: [events[2]],
            refused: [Refusal(id: events[2].id, code: "unknown-item", reason: "test", handling: .retryWhenCatalogChanges)],
            pulled: [], aliases: [], cursor: 0, serverCatalog: "v1"))
        let batch = try store.outboxBatch(limit: 10).events
        #expect(batch.map(\.id) == [events[0], events[1], events[3], events[4]].map(\.id))
        // Another sync sees a new catalog: the held event is back in the outbox, unpushed.
        try await store.apply(SyncRoundResult(pushed: [], pulled: [], aliases: [], cursor: 0, serverCatalog: "v2"))
        // This batch's answer accepts all but the last.
        try await store.apply(SyncRoundResult(
            pushed: batch, refused: [Refusal(id: events[4].id, code: "unknown-item", reason: "test", handling: .retryWhenCatalogChanges)],
            pulled: [], aliases: [], cursor: 0, serverCatalog: "v2"))
        #expect(try await store.pendingEvents(limit: 10).map(\.id) == [events[2].id])
        #expect(try await store.rejectedEvents().map(\.event.id) == [events[4].id])
        // Without interference, a batch is acknowledged as a whole.
        try await store.apply(SyncRoundResult(pushed: [events[2]], pulled: [], aliases: [], cursor: 0, serverCatalog: "v2"))
        #expect(try await store.pendingCount() == 0)
    }

    /// Recording writes no counter row: the next id comes from the replica's last event; refused
    /// events stay in the log, so no id is ever used twice and no work is lost.
    @Test func idsAndTimesNeverRepeatAndRefusedEventsStay() async throws {
        let store = try DeviceStore(path: path, catalog: catalog)
        let lesson = course.lessons[0].id
        // The blocking form, as a caller on its own thread uses it (async code gets the async one).
        func recordBlocking(_ store: DeviceStore, _ payload: EventPayload) throws -> ProgressEvent {
            try store.record(payload, in: course.id)
        }
        let first = try recordBlocking(store, .lessonStarted(lesson: lesson))
        let refused = try await store.record([
            RecordEntry(course: course.id, payload: .lessonCompleted(lesson: lesson)),
            RecordEntry(course: course.id, payload: .timeSpent(lesson: lesson, seconds: 5)),
        ])
        try await store.apply(SyncRoundResult(
            pushed: [first] + refused,
            refused: refused.map { Refusal(id: $0.id, code: "foreign-learner", reason: "test", handling: .refusedForGood) },
            pulled: [], aliases: [], cursor: 1))
        #expect(try await store.events(in: course.id) == [first] + refused)
        #expect(try await store.rejectedEvents().map(\.willRetry) == [false, false])
        #expect(try await store.pendingCount() == 0)
        let reopened = try DeviceStore(path: path, catalog: catalog)
        let next = try recordBlocking(reopened, .lessonCompleted(lesson: lesson))
        #expect(next.id.seq == 4)
        #expect(next.timestamp > refused[1].timestamp)
        #expect(try await reopened.progress(in: course.id).status(of: lesson) == .completed)
    }
}

extension DeviceStoreTests {
    @Test func aliasedGuestSeesTheAccountsProgress() async throws {
        let store = try DeviceStore.inMemory(catalog: catalog)
        let me = try await store.identity()
        try await store.record(.lessonCompleted(lesson: course.lessons[0].id), in: course.id)
        let account: LearnerID = "a-account"
        let remote = try ProgressEvent(
            id: EventID(replica: "other", seq: 1), learner: account, timestamp: HLCTimestamp(physicalMilliseconds: 1),
            course: course.id, payload: .lessonCompleted(lesson: course.lessons[2].id))
        try await store.apply(SyncRoundResult(pushed: [], pulled: [remote], aliases: [(guest: me.learner, account: account)], cursor: 1))
        let progress = try await store.progress(in: course.id)
        #expect(progress.status(of: course.lessons[0].id) == .completed)
        #expect(progress.status(of: course.lessons[2].id) == .completed)
    }
}

extension DeviceStoreTests {
    /// A guest erased with its account, whose events this device pulled in another account of
    /// the learner: the server refuses them `erased-learner`, and the device removes every event,
    /// edge and bit of progress of that guest. Its own learner's refused event stays.
    @Test func eventsRefusedAsAnErasedGuestsAreRemoved() async throws {
        let store = try DeviceStore.inMemory(catalog: catalog)
        let me = try await store.identity()
        let own = try await store.record(.lessonCompleted(lesson: course.lessons[0].id), in: course.id)
        let account: LearnerID = "a-account", erased: LearnerID = "g-erased"
        func remote(_ seq: Int64, _ learner: LearnerID, _ lesson: Int) throws -> ProgressEvent {
            try ProgressEvent(
                id: EventID(replica: "other", seq: seq), learner: learner, timestamp: HLCTimestamp(physicalMilliseconds: seq),
                course: course.id, payload: .lessonCompleted(lesson: course.lessons[lesson].id))
        }
        let kept = try remote(1, account, 1), gone = [try remote(2, erased, 2), try remote(3, erased, 3)]
        try await store.apply(SyncRoundResult(
            pushed: [], pulled: [kept] + gone, aliases: [(guest: me.learner, account: account), (guest: erased, account: account)], cursor: 3))
        #expect(try await store.progress(in: course.id).status(of: course.lessons[2].id) == .completed)
        // The guest's events go back to the server (it forgot them), which erased the guest.
        try await store.apply(SyncRoundResult(
            pushed: [own, gone[0]],
            refused: [own, gone[0]].map { Refusal(id: $0.id, code: "erased-learner", reason: "erased", handling: .removeErasedLearner) },
            pulled: [], aliases: [], cursor: 3))
        #expect(Set(try await store.events(in: course.id).map(\.id)) == [own.id, kept.id])
        #expect(try await store.rejectedEvents().map(\.event.id) == [own.id])
        #expect(try await store.pendingCount() == 0)
        let progress = try await store.progress(in: course.id)
        #expect(progress.status(of: course.lessons[1].id) == .completed)
        #expect(progress.status(of: course.lessons[2].id) == .notStarted && progress.status(of: course.lessons[3].id) == .notStarted)
        #expect(try await store.guests(of: account) == [me.learner])
    }

    /// An answer naming a `lastSeq` below events the server acknowledged: it forgot them (a
    /// restore, lost commits), and they go back to the outbox. One acknowledged above an event
    /// still queued is found once the queued one is sent.
    @Test func acknowledgedEventsAServerForgotGoBackToTheOutbox() async throws {
        let store = try DeviceStore.inMemory(catalog: catalog)
        let entries = (0..<8).map { _ in RecordEntry(course: course.id, payload: .lessonStarted(lesson: course.lessons[0].id)) }
        let events = try await store.record(entries)
        try await store.apply(SyncRoundResult(pushed: events, pulled: [], aliases: [], cursor: 0, serverLastSeq: 8))
        #expect(try await store.pendingCount() == 0)
        try await store.apply(SyncRoundResult(pushed: [], pulled: [], aliases: [], cursor: 0, serverLastSeq: 5))
        #expect(try await store.pendingEvents(limit: 100).map(\.id.seq) == [6, 7, 8])

        // 1–4's answer was lost, 5–8's came; then the server forgot everything.
        let other = try DeviceStore.inMemory(catalog: catalog)
        let more = try await other.record(entries)
        try await other.apply(SyncRoundResult(pushed: Array(more[4...]), pulled: [], aliases: [], cursor: 0, serverLastSeq: 8))
        try await other.apply(SyncRoundResult(pushed: [], pulled: [], aliases: [], cursor: 0, serverLastSeq: 0))
        #expect(try await other.pendingEvents(limit: 100).map(\.id.seq) == [1, 2, 3, 4])
        try await other.apply(SyncRoundResult(pushed: Array(more[..<4]), pulled: [], aliases: [], cursor: 0, serverLastSeq: 4))
        #expect(try await other.pendingEvents(limit: 100).map(\.id.seq) == [5, 6, 7, 8])
    }

    @Test func wipeLeavesNoTraceInTheFileOrTheWAL() async throws {
        let store = try DeviceStore(path: path, catalog: catalog)
        let before = try await store.identity()
        for _ in 0..<50 { try await store.record(.lessonCompleted(lesson: "confidentiality-on-the-shop-floor"), in: course.id) }
        try await store.wipe()
        let after = try await store.identity()
        #expect(after.learner != before.learner && after.replica != before.replica)
        #expect(try await store.events(in: course.id).isEmpty)
        for suffix in ["", "-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: path + suffix))) ?? Data()
            #expect(bytes.range(of: Data(before.learner.rawValue.utf8)) == nil, "learner id left in device.sqlite\(suffix)")
            // The events' ids (the catalog's lesson ids are course content, kept in the file).
            #expect(bytes.range(of: Data(before.replica.rawValue.utf8)) == nil, "event left in device.sqlite\(suffix)")
        }
    }
}

extension DeviceStoreTests {
    /// Events pulled for a course the device does not know yet are kept, and count once the
    /// server's catalog brings the course.
    @Test func eventsOfAnUnknownCourseCountOnceTheCatalogKnowsIt() async throws {
        let store = try DeviceStore(path: path, catalog: catalog)
        let me = try await store.identity()
        let second = try Course(
            id: "second-course", title: "Second", lessons: [Lesson(id: "only-lesson", title: "Only", body: ["Text."])],
            certificate: CertificateRule(requiredLessons: ["only-lesson"], requiredQuizzes: []))
        let remote = try ProgressEvent(
            id: EventID(replica: "other", seq: 1), learner: me.learner, timestamp: HLCTimestamp(physicalMilliseconds: 1_767_225_600_000),
            course: second.id, payload: .lessonCompleted(lesson: "only-lesson"))
        try await store.apply(SyncRoundResult(pushed: [], pulled: [remote], aliases: [], cursor: 1))
        #expect(try await store.progress(in: second.id).eventCount == 0)
        try await store.storeServerCatalog(try Catalog(catalog.allVersions + [second]))
        let progress = try await store.progress(in: second.id)
        #expect(progress.status(of: "only-lesson") == .completed)
        #expect(progress.certificate(for: second).isEarned)
        // A reopened store still knows the server's courses.
        #expect(try DeviceStore(path: path, catalog: catalog).catalog["second-course"] != nil)
    }
}

extension DeviceStoreTests {
    /// A device that pulled another device's events with 1,100 gaps (events a server held back
    /// there) still records a retake: its `seen` holds one run per replica, whatever the gaps.
    @Test func aRetakeRecordsWhateverTheLogsGaps() async throws {
        let store = try DeviceStore.inMemory(catalog: catalog)
        let me = try await store.identity()
        let lesson = course.lessons[0].id
        let pulled = try stride(from: 1, through: 2_201, by: 2).map { seq in
            try ProgressEvent(
                id: EventID(replica: "tablet", seq: Int64(seq)), learner: me.learner, timestamp: HLCTimestamp(physicalMilliseconds: Int64(seq)),
                course: course.id, payload: .lessonCompleted(lesson: lesson))
        }
        try await store.apply(SyncRoundResult(pushed: [], pulled: pulled, aliases: [], cursor: 1_101))
        let reset = try await store.record(.courseReset(), in: course.id)
        guard case .courseReset(let seen) = reset.payload else { Issue.record("not a reset"); return }
        #expect(seen.ranges["tablet"] == [1...2_201])
        #expect(try SeenEvents(text: seen.text) == seen)
        #expect(try await store.progress(in: course.id).status(of: lesson) == .notStarted)
    }
}
