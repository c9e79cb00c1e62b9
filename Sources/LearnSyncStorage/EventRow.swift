import GRDB
import GRDBSQLite
import LearnSyncModels

/// Reads and writes ``ProgressEvent`` rows of the `event` table through ``EventColumns``.
enum EventRow {
    static let columns = "replica, seq, learner, hlc, course, type, item, answers, choice, amount"
    /// Built once: the statement cache is keyed by the SQL text, which is hashed on each lookup.
    private static let insertSQL = "INSERT OR IGNORE INTO event (\(columns), pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

    /// Inserts an event unless its id is already there; returns whether it was new.
    ///
    /// The columns are bound with SQLite's C API: GRDB's `StatementArguments` boxes each of the
    /// 11 values in an array of existentials, which was a third of this function's time when
    /// recording in batches (docs/PERFORMANCE.md, session 8). `setUncheckedArguments([])` resets
    /// the statement and marks its arguments as bound, so `execute()` runs GRDB's bookkeeping and
    /// steps with the bindings made here (`sqlite3_reset` keeps bindings).
    static func insert(_ event: ProgressEvent, pending: Bool, in db: Database) throws -> Bool {
        let statement = try db.cachedStatement(sql: insertSQL)
        let c = EventColumns(event)
        statement.setUncheckedArguments([])
        let raw = statement.sqliteStatement
        // The first failure, if any (binding fails only on misuse or an oversized value).
        var code = SQLITE_OK
        for result in [
            bind(raw, 1, c.replica), sqlite3_bind_int64(raw, 2, c.seq), bind(raw, 3, c.learner), sqlite3_bind_int64(raw, 4, c.hlc),
            bind(raw, 5, c.course), bind(raw, 6, c.type), bind(raw, 7, c.item), bind(raw, 8, c.answers), bind(raw, 9, c.choice),
            c.amount.map { sqlite3_bind_int64(raw, 10, Int64($0)) } ?? sqlite3_bind_null(raw, 10), sqlite3_bind_int(raw, 11, pending ? 1 : 0),
        ] where code == SQLITE_OK {
            code = result
        }
        guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: insertSQL) }
        try statement.execute()
        return db.changesCount > 0
    }

    /// Binds text (copied by SQLite) or NULL.
    private static func bind(_ statement: SQLiteStatement, _ index: Int32, _ text: String?) -> Int32 {
        guard let text else { return sqlite3_bind_null(statement, index) }
        return sqlite3_bind_text(statement, index, text, -1, sqliteTransient)
    }

    /// `SQLITE_TRANSIENT`: SQLite copies the bytes before the call returns.
    private static let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Decodes a row selected with ``columns``.
    static func decode(_ row: Row) throws -> ProgressEvent {
        try EventColumns(
            replica: row[0], seq: row[1], learner: row[2], hlc: row[3], course: row[4], type: row[5],
            item: row[6], answers: row[7], choice: row[8], amount: row[9]
        ).event()
    }

    /// The event stored under `id`, if any.
    static func fetchOne(_ db: Database, id: EventID) throws -> ProgressEvent? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(columns) FROM event WHERE replica = ? AND seq = ?"), arguments: [id.replica.rawValue, id.seq]
        ).map(decode)
    }

    /// Whether the event under `id` is still this device's alone (in the outbox, held or refused).
    static func isUnacknowledged(_ db: Database, id: EventID) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT pending <> 0 FROM event WHERE replica = ? AND seq = ?"), arguments: [id.replica.rawValue, id.seq]
        ) ?? false
    }

    static func fetchAll(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> [ProgressEvent] {
        try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map(decode)
    }
}
