import Foundation
import GRDBSQLite
import LearnSyncModels

/// The baseline: the SQLite C API writing the same rows into the same table with the same
/// durability (WAL, synchronous=NORMAL) as the device store.
final class RawSQLite {
    private var db: OpaquePointer?
    private var insert: OpaquePointer?

    init(path: String) throws {
        guard sqlite3_open(path, &db) == SQLITE_OK else { throw BenchError("cannot open \(path)") }
        try exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        try exec("""
            CREATE TABLE event (
                replica TEXT NOT NULL, seq INTEGER NOT NULL, learner TEXT NOT NULL, hlc INTEGER NOT NULL,
                course TEXT NOT NULL, type TEXT NOT NULL, item TEXT, answers TEXT, choice TEXT, amount INTEGER,
                pending INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (replica, seq)) WITHOUT ROWID;
            CREATE INDEX event_by_course ON event(course, hlc);
            CREATE INDEX event_outbox ON event(replica, seq) WHERE pending = 1;
            """)
        guard sqlite3_prepare_v2(db, "INSERT INTO event VALUES (?,?,?,?,?,?,?,?,?,?,1)", -1, &insert, nil) == SQLITE_OK else {
            throw BenchError("prepare failed")
        }
    }

    deinit {
        sqlite3_finalize(insert)
        sqlite3_close(db)
    }

    func exec(_ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
            throw BenchError("sqlite: \(String(cString: sqlite3_errmsg(db)))")
        }
    }

    /// Inserts events in one transaction.
    func insert(_ events: ArraySlice<ProgressEvent>) throws {
        try exec("BEGIN")
        for event in events {
            let c = EventColumns(event)
            bind(1, c.replica); sqlite3_bind_int64(insert, 2, c.seq); bind(3, c.learner)
            sqlite3_bind_int64(insert, 4, c.hlc); bind(5, c.course); bind(6, c.type); bind(7, c.item)
            bind(8, c.answers); bind(9, c.choice)
            if let amount = c.amount { sqlite3_bind_int64(insert, 10, Int64(amount)) } else { sqlite3_bind_null(insert, 10) }
            guard sqlite3_step(insert) == SQLITE_DONE else { throw BenchError("insert failed") }
            sqlite3_reset(insert)
        }
        try exec("COMMIT")
    }

    private func bind(_ index: Int32, _ text: String?) {
        guard let text else { sqlite3_bind_null(insert, index); return }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        sqlite3_bind_text(insert, index, text, -1, transient)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
