package import GRDB

/// An `INSERT` of many rows in one statement, for rows that are expected to be new.
///
/// One statement step per run of rows instead of one per row halved the cost per row of
/// inserting events (docs/PERFORMANCE.md). The statement must skip rows whose key
/// is taken (`INSERT OR IGNORE`, or `ON CONFLICT … DO NOTHING`); when some rows are skipped and
/// some not, the whole run is rolled back and the caller stores its rows one at a time, judging
/// each. A run whose keys were all taken changed nothing, which the caller learns as well.
///
/// ```swift
/// let insert = MultiRowInsert(head: "INSERT OR IGNORE INTO t (a, b)", columns: 2)
/// let outcome = try insert.insertIfAllNew(rows: values.count, db) { binding, row, first in
///     binding.bind(values[row].a, at: first)
///     binding.bind(values[row].b, at: first + 1)
/// }
/// ```
package struct MultiRowInsert: Sendable {
    /// Columns per row.
    package let columns: Int32
    /// The most rows in one statement.
    package let maxRows: Int
    private let head: String
    private let tail: String
    private let oneRow: String
    private let fullRun: String

    /// - Parameters:
    ///   - head: the statement up to `VALUES`, e.g. `INSERT OR IGNORE INTO t (a, b)`.
    ///   - columns: the columns `head` names.
    ///   - tail: what follows the values, e.g. `ON CONFLICT (a) DO NOTHING`.
    ///   - maxRows: rows per statement (64: 640 parameters for 10 columns, far below SQLite's
    ///     32,766).
    package init(head: String, columns: Int32, tail: String = "", maxRows: Int = 64) {
        self.head = head
        self.columns = columns
        self.tail = tail
        self.maxRows = maxRows
        oneRow = Self.sql(head, columns, rows: 1, tail)
        fullRun = Self.sql(head, columns, rows: maxRows, tail)
    }

    /// The statement for `rows` rows (1 through ``maxRows``).
    package func sql(rows: Int) -> String {
        switch rows {
        case 1: oneRow
        case maxRows: fullRun
        default: Self.sql(head, columns, rows: rows, tail)
        }
    }

    /// What ``insertIfAllNew(rows:_:bind:)`` did with a run.
    package enum Outcome: Sendable, Equatable {
        /// Every row was new and is inserted.
        case allNew
        /// Every row's key was taken: nothing changed.
        case noneNew
        /// Some rows were new and some not: nothing is inserted.
        case someNew
    }

    /// Inserts `rows` rows in one statement if none of them is there yet; otherwise inserts
    /// none of them. `bind` binds row `row`'s columns from parameter `first`.
    package func insertIfAllNew(rows: Int, _ db: Database, bind: (inout DirectBinding, _ row: Int, _ first: Int32) -> Void) throws -> Outcome {
        precondition((1...maxRows).contains(rows), "between 1 and \(maxRows) rows")
        // A one-row statement inserts all or nothing by itself.
        if rows > 1 { try db.cachedStatement(sql: "SAVEPOINT run").execute() }
        var binding = try db.cachedStatement(sql: sql(rows: rows)).startBinding()
        for row in 0..<rows { bind(&binding, row, Int32(row) * columns + 1) }
        try binding.execute()
        let outcome: Outcome = switch db.changesCount {
        case rows: .allNew
        case 0: .noneNew
        default: .someNew
        }
        if rows > 1 {
            if outcome == .someNew { try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT run").execute() }
            try db.cachedStatement(sql: "RELEASE SAVEPOINT run").execute()
        }
        return outcome
    }

    private static func sql(_ head: String, _ columns: Int32, rows: Int, _ tail: String) -> String {
        let row = "(" + Array(repeating: "?", count: Int(columns)).joined(separator: ", ") + ")"
        return head + " VALUES " + Array(repeating: row, count: rows).joined(separator: ", ") + (tail.isEmpty ? "" : " " + tail)
    }
}
