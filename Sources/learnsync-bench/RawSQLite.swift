import Foundation
import GRDBSQLite
import LearnSyncModels
import LearnSyncSQLite

/// The baseline: the SQLite C API writing the same rows into the same tables with the same
/// durability (WAL, synchronous=NORMAL) as the device store (each event, and on request its
/// course's progress row), or, with `server`, as the server's SQLite store (each event at the
/// next feed position).
final class RawSQLite {
    private var db: OpaquePointer?
    private var insert: OpaquePointer?
    private var progress: OpaquePointer?
    /// `BEGIN` and `COMMIT`, prepared once as the store's are (parsing them on every commit was
    /// an eighth of a single-row commit).
    private var begin: OpaquePointer?
    private var commit: OpaquePointer?
    private let server: Bool
    private var position: Int64 = 0

    /// The SQLite library both LearnSync and the baselines run on.
    static var version: String { String(cString: sqlite3_libversion()) }

    init(path: String, server: Bool = false) throws {
        self.server = server
        guard sqlite3_open(path, &db) == SQLITE_OK else { throw BenchError("cannot open \(path)") }
        try exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        try exec(server ? """
            CREATE TABLE event (
                feed INTEGER PRIMARY KEY AUTOINCREMENT, root TEXT NOT NULL, replica TEXT NOT NULL, seq INTEGER NOT NULL,
                learner TEXT NOT NULL, hlc INTEGER NOT NULL, course TEXT NOT NULL, type TEXT NOT NULL, item TEXT, answers TEXT,
                seen TEXT, choice TEXT, seconds INTEGER, position INTEGER, version INTEGER, sentHLC INTEGER, pos INTEGER,
                UNIQUE (replica, seq));
            CREATE UNIQUE INDEX event_by_root_pos ON event(root, pos);
            """ : """
            CREATE TABLE event (
                replica TEXT NOT NULL, seq INTEGER NOT NULL, learner TEXT NOT NULL, hlc INTEGER NOT NULL,
                course TEXT NOT NULL, type TEXT NOT NULL, item TEXT, answers TEXT, seen TEXT, choice TEXT, seconds INTEGER,
                position INTEGER, version INTEGER, verdict INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (replica, seq)) WITHOUT ROWID;
            CREATE INDEX event_refused ON event(replica, seq) WHERE verdict <> 0;
            CREATE TABLE progress (learner TEXT NOT NULL, course TEXT NOT NULL, state BLOB NOT NULL, PRIMARY KEY (learner, course));
            """)
        let insertSQL = server
            ? "INSERT INTO event (\(EventColumns.names), root, pos) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            : "INSERT INTO event VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,0)"
        guard sqlite3_prepare_v2(db, insertSQL, -1, &insert, nil) == SQLITE_OK,
            sqlite3_prepare_v2(db, "BEGIN", -1, &begin, nil) == SQLITE_OK,
            sqlite3_prepare_v2(db, "COMMIT", -1, &commit, nil) == SQLITE_OK,
            server || sqlite3_prepare_v2(db, """
                INSERT INTO progress (learner, course, state) VALUES (?, ?, ?)
                ON CONFLICT (learner, course) DO UPDATE SET state = excluded.state
                """, -1, &progress, nil) == SQLITE_OK
        else {
            throw BenchError("prepare failed")
        }
    }

    deinit {
        sqlite3_finalize(insert)
        sqlite3_finalize(progress)
        sqlite3_finalize(begin)
        sqlite3_finalize(commit)
        sqlite3_close(db)
    }

    private func step(_ statement: OpaquePointer?, _ name: String) throws {
        defer { sqlite3_reset(statement) }
        guard sqlite3_step(statement) == SQLITE_DONE else { throw BenchError("\(name) failed: \(String(cString: sqlite3_errmsg(db)))") }
    }

    func exec(_ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
            throw BenchError("sqlite: \(String(cString: sqlite3_errmsg(db)))")
        }
    }

    /// Inserts events in one transaction, and with `progress` the given bytes as the first
    /// event's course progress row (bytes encoded before, outside any timing).
    func insert(_ events: ArraySlice<ProgressEvent>, progress state: Data? = nil) throws {
        try step(begin, "BEGIN")
        if let state, let first = events.first, let progress {
            bind(progress, 1, first.learner.rawValue)
            bind(progress, 2, first.course.rawValue)
            let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
            _ = state.withUnsafeBytes { sqlite3_bind_blob(progress, 3, $0.baseAddress, Int32($0.count), transient) }
            guard sqlite3_step(progress) == SQLITE_DONE else { throw BenchError("progress upsert failed") }
            sqlite3_reset(progress)
        }
        for event in events {
            let c = EventColumns(event)
            bind(insert, 1, c.replica); sqlite3_bind_int64(insert, 2, c.seq); bind(insert, 3, c.learner)
            sqlite3_bind_int64(insert, 4, c.hlc); bind(insert, 5, c.course); bind(insert, 6, c.type); bind(insert, 7, c.item)
            bind(insert, 8, c.answers); bind(insert, 9, c.seen); bind(insert, 10, c.choice)
            for (index, number) in [c.seconds, c.position, c.version].enumerated() {
                if let number { sqlite3_bind_int64(insert, Int32(11 + index), Int64(number)) } else { sqlite3_bind_null(insert, Int32(11 + index)) }
            }
            if server {
                position += 1
                bind(insert, 14, c.learner)
                sqlite3_bind_int64(insert, 15, position)
            }
            guard sqlite3_step(insert) == SQLITE_DONE else { throw BenchError("insert failed") }
            sqlite3_reset(insert)
        }
        try step(commit, "COMMIT")
    }

    /// Text bound as the store binds it (``bindText(_:to:at:)``).
    private func bind(_ statement: OpaquePointer?, _ index: Int32, _ text: String?) {
        guard let text else { sqlite3_bind_null(statement, index); return }
        _ = bindText(text, to: statement, at: index)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
