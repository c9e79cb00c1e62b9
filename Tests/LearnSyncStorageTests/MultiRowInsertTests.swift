import GRDB
import LearnSyncSQLite
import Testing

/// A run of rows goes in whole when every row is new, and not at all otherwise.
@Suite struct MultiRowInsertTests {
    let insert = MultiRowInsert(head: "INSERT OR IGNORE INTO t (a, b)", columns: 2, maxRows: 8)

    func run(_ keys: [Int64], into queue: DatabaseQueue) throws -> MultiRowInsert.Outcome {
        try queue.write { db in
            try insert.insertIfAllNew(rows: keys.count, db) { binding, row, first in
                binding.bind(keys[row], at: first)
                binding.bind("row \(keys[row])", at: first + 1)
            }
        }
    }

    func rows(_ queue: DatabaseQueue) throws -> [Int64] {
        try queue.read { db in try Int64.fetchAll(db, sql: "SELECT a FROM t ORDER BY a") }
    }

    @Test func aRunOfNewRowsGoesInWhole() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in try db.execute(sql: "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL)") }
        #expect(try run([1, 2, 3, 4, 5, 6, 7, 8], into: queue) == .allNew)
        #expect(try run([9], into: queue) == .allNew)
        #expect(try rows(queue) == Array(1...9))
        #expect(try queue.read { db in try String.fetchOne(db, sql: "SELECT b FROM t WHERE a = 8") } == "row 8")
    }

    @Test func aRunWithOneTakenKeyInsertsNothing() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in try db.execute(sql: "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL)") }
        #expect(try run([5], into: queue) == .allNew)
        #expect(try run([3, 4, 5, 6], into: queue) == .someNew)
        #expect(try run([7, 8, 7], into: queue) == .someNew, "a key twice in one run")
        #expect(try run([5], into: queue) == .noneNew)
        #expect(try rows(queue) == [5])
    }

    @Test func aRunOfTakenKeysChangesNothingAndSaysSo() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in try db.execute(sql: "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL)") }
        #expect(try run([1, 2, 3], into: queue) == .allNew)
        #expect(try run([1, 2, 3], into: queue) == .noneNew)
        #expect(try run([3, 3, 1], into: queue) == .noneNew, "a taken key twice in one run")
        #expect(try rows(queue) == [1, 2, 3])
        #expect(try queue.read { db in try String.fetchOne(db, sql: "SELECT b FROM t WHERE a = 2") } == "row 2", "the rows stored first stay")
    }
}
