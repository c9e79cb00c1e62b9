import GRDB
import LearnSyncModels

/// The outbox: the events no server has acknowledged yet.
///
/// Two parts make it up. The `outbox` table holds ids; and this replica's events past the device
/// row's `outboxThrough` mark, neither held nor refused, are the *recorded tail*. Recording writes
/// no outbox row, only the event (the row and its page were an eighth of recording one event).
/// Every other write first takes the tail into the table and ends by moving the mark past this
/// replica's last event (``withTable(_:_:)``), so the code that acknowledges, refuses, moves and
/// re-sends events works on the table alone; reads see both parts.
enum Outbox {
    /// The recorded tail's ids.
    static let tailSQL = """
        SELECT event.replica, event.seq FROM device CROSS JOIN event ON event.replica = device.replica AND event.seq > device.outboxThrough
        WHERE device.id = 1 AND event.pending = \(EventState.none.rawValue)
        """

    /// Runs a write's `body` with the whole outbox in the table (call inside the transaction).
    /// Events the body adds under this replica are either pulled, which a server holds, or put in
    /// the table by the body (a move); so the mark then passes them all.
    static func withTable<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO outbox (replica, seq) \(tailSQL)").execute()
        let value = try body()
        try db.cachedStatement(sql: "UPDATE device SET outboxThrough = \(lastSeqSQL) WHERE id = 1").execute()
        return value
    }

    /// The device's replica's last counter in the log, 0 if none (one seek on the log's key).
    static let lastSeqSQL = "COALESCE((SELECT seq FROM event WHERE event.replica = device.replica ORDER BY seq DESC LIMIT 1), 0)"

    /// Up to `limit` outbox events in (replica, counter) order, of `replica` only if given, past
    /// the counter `after` if given: the table's and the tail's, merged.
    static func events(replica: ReplicaID? = nil, after: Int64 = 0, limit: Int, _ db: Database) throws -> [ProgressEvent] {
        // `CROSS JOIN` makes SQLite read the outbox (and the device row) first, each in its key's
        // order, and seek each event, rather than walk the whole log.
        let join = "SELECT \(EventRow.columns) FROM outbox CROSS JOIN event USING (replica, seq)"
        let tail = """
            SELECT \(EventRow.columns.split(separator: ", ").map { "event.\($0)" }.joined(separator: ", "))
            FROM device CROSS JOIN event ON event.replica = device.replica AND event.seq > max(device.outboxThrough, ?)
            WHERE device.id = 1 AND event.pending = \(EventState.none.rawValue)
            """
        if let replica {
            return merged(
                try EventRow.fetchAll(
                    db, sql: "\(join) WHERE outbox.replica = ? AND outbox.seq > ? ORDER BY outbox.seq LIMIT ?",
                    arguments: [replica.rawValue, after, limit]),
                try EventRow.fetchAll(
                    db, sql: "\(tail) AND event.replica = ? ORDER BY event.seq LIMIT ?", arguments: [after, replica.rawValue, limit]),
                limit: limit)
        }
        return merged(
            try EventRow.fetchAll(db, sql: "\(join) ORDER BY outbox.replica, outbox.seq LIMIT ?", arguments: [limit]),
            try EventRow.fetchAll(db, sql: "\(tail) ORDER BY event.seq LIMIT ?", arguments: [after, limit]),
            limit: limit)
    }

    /// How many events the outbox holds.
    static func count(_ db: Database) throws -> Int {
        // The table's rows plus the tail's events without one: a key lookup per tail event, where
        // `UNION` would sort both.
        try Int.fetchOne(db, sql: """
            SELECT (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM (\(tailSQL)) AS tail
                WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.replica = tail.replica AND outbox.seq = tail.seq))
            """) ?? 0
    }

    /// Two lists in id order merged into one, each id once, cut at `limit`.
    static func merged(_ a: [ProgressEvent], _ b: [ProgressEvent], limit: Int) -> [ProgressEvent] {
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
