import GRDB
import LearnSyncSQLite
import Testing

/// Values bound with SQLite's C API read back as they were, text of every shape included.
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
}
