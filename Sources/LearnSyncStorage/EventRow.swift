import GRDB
import LearnSyncSQLite
import LearnSyncModels

/// Reads and writes ``ProgressEvent`` rows of the `event` table through ``EventColumns``.
enum EventRow {
    static let columns = "replica, seq, learner, hlc, course, type, item, answers, choice, amount"
    /// Built once: the statement cache is keyed by the SQL text, which is hashed on each lookup.
    private static let insertSQL = "INSERT OR IGNORE INTO event (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

    /// Inserts an event unless its id is already there, and puts a new one in the outbox when
    /// it is `pending` (recorded here, not yet pushed); returns whether it was new.
    static func insert(_ event: ProgressEvent, pending: Bool, in db: Database) throws -> Bool {
        let columns = EventColumns(event)
        var binding = try db.cachedStatement(sql: insertSQL).startBinding()
        binding.bind(columns, from: 1)
        try binding.execute()
        guard db.changesCount > 0 else { return false }
        if pending {
            var outbox = try db.cachedStatement(sql: "INSERT INTO outbox (replica, seq) VALUES (?, ?)").startBinding()
            outbox.bind(columns.replica, at: 1)
            outbox.bind(columns.seq, at: 2)
            try outbox.execute()
        }
        return true
    }

    /// SQL true for a row of the `event` table that is still this device's alone: in the
    /// outbox, held or refused.
    static let unacknowledgedSQL =
        "(event.pending <> 0 OR EXISTS (SELECT 1 FROM outbox WHERE outbox.replica = event.replica AND outbox.seq = event.seq))"

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
            db.cachedStatement(sql: "SELECT \(unacknowledgedSQL) FROM event WHERE replica = ? AND seq = ?"), arguments: [id.replica.rawValue, id.seq]
        ) ?? false
    }

    /// The events a statement selecting ``columns`` finds. Rows are decoded in place, from a
    /// cursor: `Row.fetchAll` copies each row into boxed values first and then decodes them
    /// through the generic path, twice the cost of reading an outbox batch.
    static func fetchAll(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> [ProgressEvent] {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        var events = [ProgressEvent]()
        while let row = try rows.next() { events.append(try decode(row)) }
        return events
    }
}
