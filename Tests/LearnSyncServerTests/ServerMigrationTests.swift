import GRDB
import LearnSyncSQLite
@testable import LearnSyncServer
import LearnSyncModels
import Testing

/// A database an earlier server wrote keeps, once migrated, what a sync is judged by.
@Suite struct ServerMigrationTests {
    /// v6 drops `replica.lastSeq`: the sync head reads the same counter from the log, the
    /// replica keeps its owner, and a device behind the counter is still seen as restored.
    @Test func aReplicasCounterSurvivesDroppingItsColumn() throws {
        let database = try DatabaseQueue()
        try ServerSchema.migrator.migrate(database, upTo: "v5: attached guests' feeds mapped, not moved")
        try database.write { db in
            try db.execute(sql: "INSERT INTO learner (id, secretHash, createdAt, lastSeenAt) VALUES ('g-phone', 'hash', 0, 0)")
            try db.execute(sql: "INSERT INTO session (tokenHash, learner, expiresAt) VALUES ('token-hash', 'g-phone', 1000)")
            try db.execute(sql: "INSERT INTO replica (id, owner, lastSeq) VALUES ('phone', 'g-phone', 7)")
            for seq in 1...7 {
                try db.execute(
                    sql: """
                        INSERT INTO event (root, replica, seq, learner, hlc, course, type, item, pos)
                        VALUES ('g-phone', 'phone', ?, 'g-phone', ?, 'customer-privacy', 'lesson.started', 'keep-secure', ?)
                        """,
                    arguments: [seq, seq, seq])
            }
        }
        try ServerSchema.migrator.migrate(database)

        try database.read { db in
            #expect(try db.columns(in: "replica").map(\.name) == ["id", "owner"])
            let replica = ReplicaID(unchecked: "phone")
            let head = try #require(try SyncHead(tokenHash: "token-hash", now: 500, replica: replica, markPosition: 7, db))
            #expect(head.root == LearnerID(unchecked: "g-phone"))
            #expect(head.replicaOwner == LearnerID(unchecked: "g-phone"))
            #expect(head.storedLastSeq == 7)
            #expect(head.ownLastPosition == 7)
            #expect(head.ownMark == 0, "a row from before marks reads as mark 0")
            #expect(head.rules(replica: replica, lastSeq: 4, now: 500).renewReplica, "a device restored to its fourth event")
            #expect(!head.rules(replica: replica, lastSeq: 7, now: 500).renewReplica)
            // A replica the log does not know has stored nothing.
            let fresh = try #require(try SyncHead(tokenHash: "token-hash", now: 500, replica: ReplicaID(unchecked: "tablet"), markPosition: 99, db))
            #expect(fresh.storedLastSeq == 0)
            #expect(fresh.replicaOwner == nil)
            #expect(fresh.ownMark == nil, "no row at position 99")
        }
    }

    /// v12 splits `amount` and moves a reset's seen set out of `answers`: the feed reads every
    /// kind of event back as it was pushed.
    @Test func payloadColumnsSplitWithTheirValues() throws {
        let database = try DatabaseQueue()
        try ServerSchema.migrator.migrate(database, upTo: "v11: the key of alias attestations")
        let learner = LearnerID(unchecked: "g-phone"), replica = ReplicaID(unchecked: "phone")
        var seen = SeenEvents()
        seen.insert(replica, 1...2)
        let payloads: [EventPayload] = [
            .timeSpent(lesson: "keep-secure", seconds: 42), .resumePosition(lesson: "keep-secure", offset: 95),
            .quizAttempt(quiz: "privacy-quiz", answers: ["b", "a"], version: 3), .scenarioChoice(scenario: "the-visitor", choice: "ask"),
            .courseReset(seen: seen),
        ]
        let events = try payloads.enumerated().map { index, payload in
            try ProgressEvent(
                id: EventID(replica: replica, seq: Int64(index + 1)), learner: learner, timestamp: HLCTimestamp(rawValue: Int64(index + 1) << 16),
                course: "customer-privacy", payload: payload)
        }
        try database.write { db in
            for event in events {
                // The v11 shape: a reset's seen set in `answers`, every number in `amount`.
                let c = EventColumns(event)
                try db.execute(
                    sql: """
                        INSERT INTO event (root, pos, replica, seq, learner, hlc, course, type, item, answers, choice, amount)
                        VALUES ('g-phone', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [c.seq, c.replica, c.seq, c.learner, c.hlc, c.course, c.type, c.item, c.answers ?? c.seen, c.choice,
                                c.seconds ?? c.position ?? c.version])
            }
        }
        try ServerSchema.migrator.migrate(database)
        try database.read { db in
            var read = [ProgressEvent]()
            try SQLiteServerStore.readFeed(of: learner, mapped: [], after: 0, limit: 10, db) { row, _ in
                read.append(try row.eventColumns(from: 1).event())
                return true
            }
            #expect(read == events)
            #expect(!(try db.columns(in: "event").map(\.name).contains("amount")))
        }
    }
}
