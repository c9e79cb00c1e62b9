import GRDB
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
}
