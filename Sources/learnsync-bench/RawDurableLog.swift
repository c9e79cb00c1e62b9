import Dispatch
import Foundation
import GRDBSQLite
import Synchronization

/// The floor of a durable small sync, for the concurrent-clients workload: each request body
/// stored as one row with SQLite's C API (WAL, `synchronous=NORMAL`, as the server's store),
/// in a transaction shared with the requests that queued meanwhile (group commit on one writer
/// queue, as the server's `GroupCommit`), answered once it committed. No parsing, no checks, no
/// reads: what any server that keeps what it is sent must do at least.
final class RawDurableLog: Sendable {
    /// The connection, used only on `writer` (the lock is never contended).
    private let connection: Mutex<Connection>
    private let queue = Mutex(Pending())
    private let writer = DispatchQueue(label: "raw-durable-log")

    private struct Pending {
        var jobs: [(body: Data, continuation: CheckedContinuation<Void, any Error>)] = []
        var draining = false
    }

    init(path: String) throws {
        connection = Mutex(try Connection(path: path))
    }

    /// Stores `body` as one row; returns once its transaction committed.
    func append(_ body: Data) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let start = queue.withLock { pending in
                pending.jobs.append((body, continuation))
                guard !pending.draining else { return false }
                pending.draining = true
                return true
            }
            if start { writer.async { self.drain() } }
        }
    }

    /// Writes every queued body in one transaction, resumes their callers, and queues itself
    /// again if more arrived meanwhile.
    private func drain() {
        let jobs = queue.withLock { pending in
            defer { pending.jobs.removeAll(keepingCapacity: true) }
            return pending.jobs
        }
        do {
            try connection.withLock { try $0.insert(jobs.map(\.body)) }
            for job in jobs { job.continuation.resume() }
        } catch {
            for job in jobs { job.continuation.resume(throwing: error) }
        }
        let again = queue.withLock { pending in
            if pending.jobs.isEmpty { pending.draining = false }
            return pending.draining
        }
        if again { writer.async { self.drain() } }
    }

    /// One SQLite connection with its prepared insert.
    private final class Connection {
        private var db: OpaquePointer?
        private var insert: OpaquePointer?

        init(path: String) throws {
            guard sqlite3_open(path, &db) == SQLITE_OK else { throw BenchError("cannot open \(path)") }
            try exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE log (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            guard sqlite3_prepare_v2(db, "INSERT INTO log (body) VALUES (?)", -1, &insert, nil) == SQLITE_OK else {
                throw BenchError("prepare failed")
            }
        }

        deinit {
            sqlite3_finalize(insert)
            sqlite3_close(db)
        }

        func insert(_ bodies: [Data]) throws {
            try exec("BEGIN")
            let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
            for body in bodies {
                _ = body.withUnsafeBytes { sqlite3_bind_blob(insert, 1, $0.baseAddress, Int32($0.count), transient) }
                guard sqlite3_step(insert) == SQLITE_DONE else {
                    sqlite3_reset(insert)
                    try? exec("ROLLBACK")
                    throw BenchError("insert failed")
                }
                sqlite3_reset(insert)
            }
            try exec("COMMIT")
        }

        private func exec(_ sql: String) throws {
            guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
                throw BenchError("sqlite: \(String(cString: sqlite3_errmsg(db)))")
            }
        }
    }
}
