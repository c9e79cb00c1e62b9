import GRDB
import GRDBSQLite
import LearnSyncSQLite
import Testing

/// Values bound and rows read with SQLite's C API hold what was stored, text of every shape included.
@Suite struct DirectBindingTests {
    @Test(arguments: [nil, "", "a", "short-id", "an identifier longer than fifteen bytes", "naïve façade ✓", String(repeating: "x", count: 5000)])
    func textReadsBackAsBound(_ text: String?) throws {
        let queue = try DatabaseQueue()
        let stored = try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (a TEXT, b INTEGER)")
            var binding = try db.cachedStatement(sql: "INSERT INTO t (a, b) VALUES (?, ?)").startBinding()
            binding.bind(text, at: 1)
            binding.bind(Int64(7), at: 2)
            try binding.execute()
            return try Row.fetchOne(db, sql: "SELECT a, typeof(a), b FROM t")!
        }
        #expect(stored[0] as String? == text)
        #expect(stored[1] as String == (text == nil ? "null" : "text"), "an empty string is text, not NULL")
        #expect(stored[2] as Int64 == 7)
    }

    @Test func aStatementIsBoundAfreshEachTime() throws {
        let queue = try DatabaseQueue()
        let values = try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (a TEXT)")
            for text in ["first", "", "third"] {
                var binding = try db.cachedStatement(sql: "INSERT INTO t (a) VALUES (?)").startBinding()
                binding.bind(text, at: 1)
                try binding.execute()
            }
            return try String.fetchAll(db, sql: "SELECT a FROM t ORDER BY rowid")
        }
        #expect(values == ["first", "", "third"])
    }

    @Test(arguments: [nil, "", "a", "an identifier longer than fifteen bytes", "naïve façade ✓", String(repeating: "x", count: 5000)])
    func rowsReadDirectlyHoldWhatWasStored(_ text: String?) throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (a TEXT, b INTEGER)")
            try db.execute(sql: "INSERT INTO t (a, b) VALUES (?, ?), (?, NULL)", arguments: [text, 7, "next"])
            var read = [(String?, Int64?, Bool, Bool)]()
            let binding = try db.cachedStatement(sql: "SELECT a, b FROM t ORDER BY rowid").startBinding()
            try binding.forEachRow { row in
                read.append((row.optionalText(0), row.optionalInt64(1), row.text(0, equals: text ?? ""), row.text(0, equals: "next")))
                return true
            }
            #expect(read.count == 2)
            #expect(read[0].0 == text && read[0].1 == 7)
            #expect(read[0].2 == (text != nil), "NULL equals no text, not even the empty one")
            #expect(read[0].3 == false)
            #expect(read[1].0 == "next" && read[1].1 == nil && read[1].3)
        }
    }

    @Test func readingStopsWhenAskedAndTheStatementCanRunAgain() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (a INTEGER)")
            try db.execute(sql: "INSERT INTO t (a) VALUES (1), (2), (3), (4)")
            func read(after first: Int64, stoppingAt last: Int64) throws -> [Int64] {
                var binding = try db.cachedStatement(sql: "SELECT a FROM t WHERE a > ? ORDER BY a").startBinding()
                binding.bind(first, at: 1)
                var values = [Int64]()
                try binding.forEachRow { row in
                    values.append(row.int64(0))
                    return row.int64(0) < last
                }
                return values
            }
            #expect(try read(after: 0, stoppingAt: 2) == [1, 2])
            // A statement stopped mid-way was reset: it holds no read cursor open.
            let statement = try db.cachedStatement(sql: "SELECT a FROM t WHERE a > ? ORDER BY a")
            #expect(sqlite3_stmt_busy(statement.sqliteStatement) == 0)
            #expect(try read(after: 1, stoppingAt: .max) == [2, 3, 4])
        }
    }

    @Test func aFailingStepThrows() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (a INTEGER)")
            try db.execute(sql: "INSERT INTO t (a) VALUES (1)")
            // abs() of the smallest integer overflows at run time, not when prepared.
            let binding = try db.cachedStatement(sql: "SELECT abs(a - 1 - 9223372036854775807 - 1) FROM t").startBinding()
            #expect(throws: DatabaseError.self) { try binding.forEachRow { _ in true } }
        }
    }
}
