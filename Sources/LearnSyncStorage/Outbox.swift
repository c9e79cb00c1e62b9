import GRDB
import LearnSyncModels

/// The outbox: the events no server has acknowledged yet.
///
/// Two parts make it up. The `outbox` table holds ids; and this replica's events past the device
/// row's `outboxThrough` mark, neither held nor refused, are the *recorded tail*. Recording writes
/// no outbox row, only the event (the row and its page were an eighth of recording one event).
/// Every other write first takes the tail into the table and ends by moving the mark past this
/// replica's last event (``withTable(_:_:)``), so the code that acknowledges, refuses, moves and
/// re-sends events works on the table alone; reads see both parts. A sync's answer is the one
/// exception: it moves the mark past the pushed events that begin the tail, so a long push after
/// recording offline never copies the tail into the table (``Tail/acknowledge(_:_:)``).
enum Outbox {
    /// The recorded tail's `columns`, past the counter bound to its one parameter (0 for all of
    /// it). One range seek on the log's key: the bound is the greater of the two, so SQLite never
    /// picks the lower one and walks acknowledged events.
    private static func tailSQL(_ columns: String) -> String {
        """
        SELECT \(columns) FROM device CROSS JOIN event ON event.replica = device.replica AND event.seq > max(device.outboxThrough, ?)
        WHERE device.id = 1 AND event.verdict = \(Verdict.none.rawValue)
        """
    }

    private static let tailIDs = tailSQL("event.replica, event.seq")

    /// Runs a write's `body` with the whole outbox in the table (call inside the transaction).
    static func withTable<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try takeTail(db)
        let value = try body()
        try moveMarkToEnd(db)
        return value
    }

    private static let takeSQL = "INSERT OR IGNORE INTO outbox (replica, seq) \(tailIDs)"

    private static func takeTail(_ db: Database) throws {
        try db.cachedStatement(sql: takeSQL).execute(arguments: [0])
    }

    /// Moves the mark past this replica's last event, once the tail is in the table. Events a
    /// write adds under this replica are either pulled, which a server holds, or put in the
    /// table by the write (a move); so the mark may pass them all.
    private static func moveMarkToEnd(_ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE device SET outboxThrough = \(lastSeqSQL) WHERE id = 1").execute()
    }

    /// The recorded tail as a write found it: this replica, and the mark.
    struct Tail {
        let replica: ReplicaID
        private(set) var mark: Int64
        /// Whether ``take(_:)`` put it in the table.
        private(set) var isTaken = false

        /// The tail of `replica`, the device's.
        init(of replica: ReplicaID, _ db: Database) throws {
            self.replica = replica
            mark = try Int64.fetchOne(db.cachedStatement(sql: "SELECT outboxThrough FROM device WHERE id = 1")) ?? 0
        }

        /// Puts the tail's events in the table (once).
        mutating func take(_ db: Database) throws {
            guard !isTaken else { return }
            try takeTail(db)
            isTaken = true
        }

        /// Acknowledges pushed events that are the tail's first ones, each right after the last
        /// (refused ones included: the answer holds or refuses them, which takes them out of the
        /// outbox too), by moving the mark past them: the tail stays out of the table. Returns
        /// the pushed events left to the table's acknowledgement; all of them, with the tail
        /// taken, when a pushed event of the tail does not follow on (an answer to a later batch
        /// came first).
        mutating func acknowledge(_ pushed: [ProgressEvent], _ db: Database) throws -> [ProgressEvent] {
            guard !isTaken else { return pushed }
            var next = mark
            var rest = [ProgressEvent]()
            rest.reserveCapacity(pushed.count)
            for event in pushed {
                if event.id.replica != replica || event.id.seq <= mark {
                    rest.append(event)
                } else if event.id.seq == next + 1 {
                    next += 1
                } else {
                    try take(db)
                    return pushed
                }
            }
            if next > mark {
                // A row some other write gave one of these events is acknowledged with it.
                try db.cachedStatement(sql: "DELETE FROM outbox WHERE replica = ? AND seq BETWEEN ? AND ?")
                    .execute(arguments: [replica.rawValue, mark + 1, next])
                try db.cachedStatement(sql: "UPDATE device SET outboxThrough = ? WHERE id = 1").execute(arguments: [next])
                mark = next
            }
            return rest
        }

        /// Ends the write: with the tail taken, the mark moves past this replica's last event.
        func close(_ db: Database) throws {
            if isTaken { try moveMarkToEnd(db) }
        }
    }

    /// The device's replica's last counter in the log, 0 if none (one seek on the log's key).
    private static let lastSeqSQL = "COALESCE((SELECT seq FROM event WHERE event.replica = device.replica ORDER BY seq DESC LIMIT 1), 0)"

    /// Up to `limit` outbox events in (replica, counter) order, of `replica` only if given, past
    /// the counter `after` if given: the table's and the tail's, merged.
    static func events(replica: ReplicaID? = nil, after: Int64 = 0, limit: Int, _ db: Database) throws -> [ProgressEvent] {
        if let replica {
            return merged(
                try EventRow.fetchAll(db, sql: "\(tableEventsSQL) WHERE outbox.replica = ? AND outbox.seq > ? ORDER BY outbox.seq LIMIT ?",
                                      arguments: [replica.rawValue, after, limit]),
                try EventRow.fetchAll(db, sql: "\(tailEventsSQL) AND event.replica = ? ORDER BY event.seq LIMIT ?",
                                      arguments: [after, replica.rawValue, limit]),
                limit: limit)
        }
        return merged(
            try EventRow.fetchAll(db, sql: "\(tableEventsSQL) ORDER BY outbox.replica, outbox.seq LIMIT ?", arguments: [limit]),
            try EventRow.fetchAll(db, sql: "\(tailEventsSQL) ORDER BY event.seq LIMIT ?", arguments: [after, limit]),
            limit: limit)
    }

    /// The table's events: `CROSS JOIN` makes SQLite read the outbox first, in its key's order,
    /// and seek each event, rather than walk the whole log.
    private static let tableEventsSQL = "SELECT \(EventRow.columns) FROM outbox CROSS JOIN event USING (replica, seq)"
    private static let tailEventsSQL = tailSQL(EventRow.columns.split(separator: ", ").map { "event.\($0)" }.joined(separator: ", "))

    /// Whether the outbox holds any event.
    static func isEmpty(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT NOT EXISTS (SELECT 1 FROM outbox) AND NOT EXISTS (\(tailIDs))"), arguments: [0]) ?? true
    }

    /// How many events the outbox holds.
    static func count(_ db: Database) throws -> Int {
        // The table's rows plus the tail's events without one: a key lookup per tail event, where
        // `UNION` would sort both.
        try Int.fetchOne(db, sql: """
            SELECT (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM (\(tailIDs)) AS tail
                WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.replica = tail.replica AND outbox.seq = tail.seq))
            """, arguments: [0]) ?? 0
    }

    /// Two lists in id order merged into one, each id once, cut at `limit`.
    private static func merged(_ a: [ProgressEvent], _ b: [ProgressEvent], limit: Int) -> [ProgressEvent] {
        if b.isEmpty { return a }
        if a.isEmpty { return b }
        var result = [ProgressEvent]()
        result.reserveCapacity(min(limit, a.count + b.count))
        var i = a.startIndex, j = b.startIndex
        while result.count < limit, i < a.endIndex || j < b.endIndex {
            if j == b.endIndex || (i < a.endIndex && a[i].id < b[j].id) {
                result.append(a[i])
                i += 1
            } else {
                if i < a.endIndex, a[i].id == b[j].id { i += 1 }
                result.append(b[j])
                j += 1
            }
        }
        return result
    }
}
