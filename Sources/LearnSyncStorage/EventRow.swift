import GRDB
import LearnSyncSQLite
import LearnSyncModels

/// Reads and writes ``ProgressEvent`` rows of the `event` table through ``EventColumns``.
enum EventRow {
    static let columns = "replica, seq, learner, hlc, course, type, item, answers, choice, amount"
    /// Built once: the statement cache is keyed by the SQL text, which is hashed on each lookup.
    private static let insertSQL = "INSERT OR IGNORE INTO event (\(columns), pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

    /// Inserts an event unless its id is already there; returns whether it was new.
    static func insert(_ event: ProgressEvent, pending: Bool, in db: Database) throws -> Bool {
        var binding = try db.cachedStatement(sql: insertSQL).startBinding()
        binding.bind(EventColumns(event), from: 1)
        binding.bind(pending ? 1 : 0, at: 11)
        try binding.execute()
        return db.changesCount > 0
    }

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
