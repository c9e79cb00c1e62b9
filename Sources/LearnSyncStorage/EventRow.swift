import GRDB
import LearnSyncSQLite
import LearnSyncModels

/// Reads and writes ``ProgressEvent`` rows of the `event` table through ``EventColumns``.
enum EventRow {
    static let columns = EventColumns.names

    /// Inserts events into the log: one event through one prepared statement, looked up once
    /// (the statement cache hashes the SQL text on every lookup), or many in multi-row
    /// statements (``MultiRowInsert``).
    struct Inserter {
        private let db: Database
        private let statement: Statement
        static let multiRow = MultiRowInsert(head: "INSERT OR IGNORE INTO event (\(columns))", columns: EventColumns.count)

        init(_ db: Database) throws {
            self.db = db
            statement = try db.cachedStatement(sql: Self.multiRow.sql(rows: 1))
        }

        /// Inserts an event unless its id is already there; returns whether it was new.
        func insert(_ event: ProgressEvent) throws -> Bool {
            var binding = statement.startBinding()
            binding.bind(EventColumns(event), from: 1)
            try binding.execute()
            return db.changesCount > 0
        }

        /// Inserts `events` in order, each unless its id is already there, and returns those
        /// that were new. Runs of events go in one statement when all of them are new; a run
        /// whose ids are all there already (a restored device pulling its own events again)
        /// changes nothing; any other run goes one event at a time.
        func insert(_ events: some Collection<ProgressEvent>) throws -> [ProgressEvent] {
            var new = [ProgressEvent]()
            new.reserveCapacity(events.count)
            var rest = events[...]
            while !rest.isEmpty {
                let run = rest.prefix(Self.multiRow.maxRows)
                rest = rest.dropFirst(run.count)
                if run.count > 1 {
                    let columns = run.map(EventColumns.init)
                    switch try Self.multiRow.insertIfAllNew(rows: run.count, db, bind: { binding, row, first in binding.bind(columns[row], from: first) }) {
                    case .allNew:
                        new.append(contentsOf: run)
                        continue
                    case .noneNew:
                        continue
                    case .someNew:
                        break
                    }
                }
                for event in run where try insert(event) { new.append(event) }
            }
            return new
        }
    }

    /// Puts an event of the log in the outbox.
    static func enqueue(_ id: EventID, _ db: Database) throws {
        var outbox = try db.cachedStatement(sql: "INSERT INTO outbox (replica, seq) VALUES (?, ?)").startBinding()
        outbox.bind(id.replica.rawValue, at: 1)
        outbox.bind(id.seq, at: 2)
        try outbox.execute()
    }

    /// SQL true for a row of the `event` table that is still this device's alone: in the
    /// outbox, held or refused.
    static let unacknowledgedSQL =
        "(event.verdict <> 0 OR EXISTS (SELECT 1 FROM outbox WHERE outbox.replica = event.replica AND outbox.seq = event.seq))"

    /// Decodes a row selected with ``columns`` first.
    static func decode(_ row: Row) throws -> ProgressEvent {
        try EventColumns(row, from: 0).event()
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
