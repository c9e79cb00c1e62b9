import GRDB
import GRDBSQLite
package import LearnSyncModels

/// One row of a query stepped by ``DirectBinding/forEachRow(_:)``, read with SQLite's C API:
/// a column is read only when asked for, and text can be compared without making a `String`.
///
/// Valid only inside the closure that receives it (the next step replaces its values).
package struct DirectRow {
    fileprivate let statement: OpaquePointer

    /// Whether the column is NULL.
    package func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(statement, column) == SQLITE_NULL
    }

    /// The column as an integer (0 for NULL).
    package func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(statement, column)
    }

    /// The column as an integer, nil for NULL.
    package func optionalInt64(_ column: Int32) -> Int64? {
        isNull(column) ? nil : int64(column)
    }

    /// The column as text ("" for NULL).
    package func text(_ column: Int32) -> String {
        String(decoding: bytes(column), as: UTF8.self)
    }

    /// The column as text, nil for NULL.
    package func optionalText(_ column: Int32) -> String? {
        isNull(column) ? nil : text(column)
    }

    /// Whether the column holds exactly `text` (compared as UTF-8 bytes; false for NULL).
    package func text(_ column: Int32, equals text: String) -> Bool {
        guard !isNull(column) else { return false }
        var text = text
        let stored = bytes(column)
        return text.withUTF8 { $0.elementsEqual(stored) }
    }

    /// The event columns (``EventColumns/names``) from column `first` on.
    package func eventColumns(from first: Int32) -> EventColumns {
        func at(_ column: EventColumns.Column) -> Int32 { first + column.rawValue }
        return EventColumns(
            replica: text(at(.replica)), seq: int64(at(.seq)), learner: text(at(.learner)), hlc: int64(at(.hlc)),
            course: text(at(.course)), type: text(at(.type)), item: optionalText(at(.item)), answers: optionalText(at(.answers)),
            seen: optionalText(at(.seen)), choice: optionalText(at(.choice)), seconds: optionalInt64(at(.seconds)).map { Int($0) },
            position: optionalInt64(at(.position)).map { Int($0) }, version: optionalInt64(at(.version)).map { Int($0) })
    }

    private func bytes(_ column: Int32) -> UnsafeBufferPointer<UInt8> {
        // `sqlite3_column_text` first: it may convert the value, whose length
        // `sqlite3_column_bytes` then gives.
        let start = sqlite3_column_text(statement, column)
        return UnsafeBufferPointer(start: start, count: Int(sqlite3_column_bytes(statement, column)))
    }
}

extension DirectBinding {
    /// Steps the query with these bindings and hands each row to `body` until it returns false
    /// or the rows run out; the statement is reset after, so it holds no read cursor open.
    ///
    /// For `SELECT`s only: stepping here skips GRDB's per-statement bookkeeping (aborted
    /// transaction checks, observed regions, transaction observers), none of which a read of
    /// the server's own tables inside its own transaction uses. GRDB's row cursor cost more than
    /// the rows it read in a small sync (docs/PERFORMANCE.md).
    package func forEachRow(_ body: (DirectRow) throws -> Bool) throws {
        try checkBindings()
        let sqliteStatement = statement.sqliteStatement
        defer { sqlite3_reset(sqliteStatement) }
        let row = DirectRow(statement: sqliteStatement)
        while true {
            switch sqlite3_step(sqliteStatement) {
            case SQLITE_ROW:
                guard try body(row) else { return }
            case SQLITE_DONE:
                return
            case let code:
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(sqliteStatement))),
                    sql: statement.sql)
            }
        }
    }
}
