import Foundation
import LearnSyncModels
import LearnSyncStorage
import LearnSyncTestSupport
import Testing

/// The outbox under random interleavings of what a device meets: records (one at a time and in
/// batches), batches read while others are in flight (pipelined or overlapping), answers that are
/// lost, replayed or arrive out of order, other writes, and a clone's event pulled under this
/// device's replica id. After every step the outbox holds exactly the recorded events no answer
/// acknowledged, each once and in counter order; in the end a plain sync empties it.
@Suite struct OutboxPropertyTests {
    @Test(arguments: 0..<4)
    func theOutboxIsExactlyWhatNoAnswerAcknowledged(_ run: Int) async throws {
        let base = SeededGenerator.seedFromEnvironment()
        let seed = base &+ UInt64(run)
        print("theOutboxIsExactlyWhatNoAnswerAcknowledged seed: \(seed) (LEARNSYNC_SEED=\(base), run \(run))")
        var random = SeededGenerator(seed: seed)
        let catalog = try SampleCatalog.load()
        let course = catalog[SampleCatalog.courseID]!
        let lessons = course.lessons.map(\.id)
        let store = try DeviceStore.inMemory(catalog: catalog)
        let me = try await store.identity()

        var recorded = [EventID]()
        var acknowledged = Set<EventID>()
        var inFlight = [[ProgressEvent]]()
        var cursor: Int64 = 0
        func entry() -> RecordEntry {
            RecordEntry(course: course.id, payload: .timeSpent(lesson: lessons.randomElement(using: &random)!, seconds: 1))
        }
        for step in 0..<300 {
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<30:
                let count = Int.random(in: 1...4, using: &random)
                if count == 1, Bool.random(using: &random) {
                    // The blocking form (async code gets the async one unless asked).
                    let entry = entry()
                    let blocking = { () throws -> ProgressEvent in try store.record(entry.payload, in: entry.course) }
                    recorded.append(try blocking().id)
                } else {
                    recorded += try await store.record((0..<count).map { _ in entry() }).map(\.id)
                }
            case 30..<55:
                // Pipelined after the last batch in flight, or read again from the start.
                let after = Int.random(in: 0..<4, using: &random) > 0 ? inFlight.last?.last?.id : nil
                let batch = try store.outboxBatch(limit: Int.random(in: 1...6, using: &random), after: after).events
                if !batch.isEmpty { inFlight.append(batch) }
            case 55..<80 where !inFlight.isEmpty:
                // Any answer in flight, not only the oldest; sometimes delivered twice.
                let batch = inFlight.remove(at: Int.random(in: inFlight.indices, using: &random))
                cursor += 1
                for _ in 0..<(Int.random(in: 0..<5, using: &random) == 0 ? 2 : 1) {
                    try await store.apply(SyncRoundResult(pushed: batch, pulled: [], aliases: [], cursor: cursor))
                }
                acknowledged.formUnion(batch.map(\.id))
            case 80..<90 where !inFlight.isEmpty:
                inFlight.remove(at: Int.random(in: inFlight.indices, using: &random))  // the answer is lost
            case 90..<95:
                try await store.rebuildProgress()  // another write
            case 95..<98:
                // A clone recorded under this replica's id past every counter here: pulled, stored,
                // never pending here; the next record continues after it.
                let seq = (recorded.map(\.seq).max() ?? 0) + Int64.random(in: 1...3, using: &random)
                let clone = try ProgressEvent(
                    id: EventID(replica: me.replica, seq: seq), learner: me.learner,
                    timestamp: HLCTimestamp(physicalMilliseconds: 1_800_000_000_000), course: course.id,
                    payload: .lessonStarted(lesson: lessons[0]))
                cursor += 1
                try await store.apply(SyncRoundResult(pushed: [], pulled: [clone], aliases: [], cursor: cursor))
                recorded.append(clone.id)
                acknowledged.insert(clone.id)
            default:
                break
            }
            let expected = recorded.filter { !acknowledged.contains($0) }.sorted()
            let pending = try await store.pendingEvents(limit: .max).map(\.id)
            #expect(pending == expected, "seed \(seed), step \(step)")
            #expect(try await store.pendingCount() == expected.count, "seed \(seed), step \(step)")
            #expect(try store.outboxBatch(limit: 1000).events.map(\.id) == expected, "seed \(seed), step \(step)")
            if pending != expected { return }
        }
        // Every answer in flight is lost; a plain sync pushes what is left.
        while true {
            let batch = try store.outboxBatch(limit: 5).events
            if batch.isEmpty { break }
            cursor += 1
            try await store.apply(SyncRoundResult(pushed: batch, pulled: [], aliases: [], cursor: cursor))
            acknowledged.formUnion(batch.map(\.id))
        }
        #expect(try await store.pendingCount() == 0, "seed \(seed)")
        #expect(Set(recorded).isSubset(of: acknowledged), "seed \(seed)")
        #expect(Set(try await store.allEvents().map(\.id)) == Set(recorded), "seed \(seed): every recorded event is in the log")
    }
}
