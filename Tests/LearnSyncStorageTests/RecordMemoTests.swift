import Foundation
import GRDB
import LearnSyncMerge
import LearnSyncModels
import LearnSyncSQLite
import LearnSyncStorage
import LearnSyncTestSupport
import Testing

/// A record reuses what the previous one left in memory only while nothing else wrote: SQLite's
/// data version, and records interleaved with every other kind of write.
@Suite struct RecordMemoTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("record-memo-\(UUID().uuidString)")

    init() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    @Test func theDataVersionChangesWithEveryCommitOfAnyConnection() throws {
        let path = directory.appendingPathComponent("version.sqlite").path
        let pool = try DatabasePool(path: path)
        let other = try DatabaseQueue(path: path)
        try pool.write { db in try db.execute(sql: "CREATE TABLE t (a INTEGER)") }
        try pool.writeWithoutTransaction { db in
            let start = try #require(db.dataVersion)
            try db.execute(sql: "SELECT * FROM t")
            #expect(db.dataVersion == start, "a read changes nothing")
            try db.immediateTransaction { try db.execute(sql: "INSERT INTO t VALUES (1)") }
            let afterOwn = try #require(db.dataVersion)
            #expect(afterOwn != start, "this connection's commit")
            try other.write { db in try db.execute(sql: "INSERT INTO t VALUES (2)") }
            try db.immediateTransaction {
                #expect(db.dataVersion != afterOwn, "another connection's commit, seen inside the next transaction")
            }
        }
    }

    @Test func anInMemoryDatabaseHasADataVersionToo() throws {
        let queue = try DatabaseQueue()
        try queue.writeWithoutTransaction { db in
            let start = try #require(db.dataVersion)
            try db.immediateTransaction { try db.execute(sql: "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1)") }
            #expect(db.dataVersion != start)
        }
    }

    /// Two stores on one file (an app and its extension), records blocking and async, pulled
    /// events of the same learner, an attach and rebuilds, in a seeded random order: after each
    /// step the progress equals the log's, and no counter is given twice.
    @Test func recordsInterleavedWithEveryOtherWriteKeepProgressTrue() async throws {
        let seed = SeededGenerator.seedFromEnvironment()
        print("recordsInterleavedWithEveryOtherWriteKeepProgressTrue seed: \(seed)")
        var generator = SeededGenerator(seed: seed)
        let catalog = try SampleCatalog.load()
        let course = try #require(catalog[SampleCatalog.courseID])
        let path = directory.appendingPathComponent("device.sqlite").path
        let stores = [try DeviceStore(path: path, catalog: catalog), try DeviceStore(path: path, catalog: catalog)]
        var remoteSeq: Int64 = 0
        var cursor: Int64 = 0
        for step in 0..<300 {
            let store = stores[Int.random(in: 0..<2, using: &generator)]
            let payload = RandomStudy.payload(in: course, using: &generator)
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<4:
                // The blocking call (a closure that is not async picks it).
                let recordNow = { () throws -> ProgressEvent in try store.record(payload, in: course.id) }
                _ = try recordNow()
            case 4..<7:
                try await store.record(payload, in: course.id)
            case 7, 8:
                // Another device of the same learner (or of its account) synced before this one.
                remoteSeq += 1
                cursor += 1
                let learner = try await store.identity().learner
                let account: LearnerID = "a-memo-account"
                let attach = Int.random(in: 0..<20, using: &generator) == 0
                var pulled = payload
                if case .courseReset = payload { pulled = .lessonStarted(lesson: course.lessons[0].id) }
                let event = try ProgressEvent(
                    id: EventID(replica: "memo-remote", seq: remoteSeq), learner: attach ? account : learner,
                    timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_000_000 + remoteSeq), course: course.id,
                    payload: pulled)
                try await store.apply(SyncRoundResult(
                    pushed: [], pulled: [event], aliases: attach ? [(guest: learner, account: account)] : [], cursor: cursor))
            default:
                try await store.rebuildProgress()
            }
            for reader in stores {
                let progress = try await reader.progress(in: course.id)
                let events = try await reader.events(in: course.id)
                #expect(progress == CourseProgress.rebuild(course: course.id, catalog: catalog, from: events), "seed \(seed), step \(step)")
            }
        }
        let ids = try await stores[0].events(in: course.id).map(\.id)
        #expect(Set(ids).count == ids.count, "seed \(seed)")
    }
}
