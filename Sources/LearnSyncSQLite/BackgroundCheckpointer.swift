import LearnSyncModels
import Dispatch
package import GRDB
import GRDBSQLite

/// Checkpoints a WAL database on a connection and queue of its own, so that the writer does not.
///
/// SQLite checkpoints automatically in the commit that takes the log past 1,000 pages: the
/// writing connection copies the log's pages into the database file and waits for the disk to
/// flush both, and every other write waits behind it. Installed on the writer, this class
/// replaces that (`sqlite3_wal_hook` replaces the automatic checkpoint): after each commit it
/// learns the log's size, and every `interval` new pages it runs a passive checkpoint on its
/// own connection, which blocks neither the writer nor readers. SQLite's documentation
/// describes this use of the hook.
///
/// SQLite starts the log over only when a write begins after a checkpoint has caught up with
/// all of it, so a writer that never pauses outruns the background checkpoints and the log
/// grows. At `limit` pages the writer therefore checkpoints in its commit, as SQLite would have
/// done at 1,000, after waiting for a background checkpoint that is still running; most pages
/// are copied by then, and the log starts over.
///
/// Durability does not change: with `synchronous = NORMAL` the log is flushed by each
/// checkpoint, and the checkpoints still come every `interval` pages.
package final class BackgroundCheckpointer: Sendable {
    /// Pages of log between background checkpoints (SQLite's automatic checkpoint: 1,000).
    package let interval: Int32
    /// Pages of log at which the writer checkpoints in its own commit.
    package let limit: Int32
    private let connection: DatabaseQueue
    private let queue = DispatchQueue(label: "learnsync.checkpoint", qos: .utility)
    private let state: Locked<State>

    private struct State {
        /// The log's size at which the next background checkpoint starts.
        var next: Int32
        /// The log's size at the last commit (it shrinks when the log starts over).
        var last: Int32 = 0
        var running = false
    }

    /// Opens the checkpointing connection to the database file at `path`, which must be in WAL
    /// mode. Nothing changes until ``install(on:)``.
    package init(path: String, interval: Int32 = 1000, limit: Int32 = 8000) throws {
        precondition(0 < interval && interval < limit, "a checkpoint interval between 1 page and the limit")
        self.interval = interval
        self.limit = limit
        var configuration = Configuration()
        configuration.label = "learnsync.checkpoint"
        // A passive checkpoint never waits; a busy one is skipped and retried after more pages.
        configuration.busyMode = .immediateError
        connection = try DatabaseQueue(path: path, configuration: configuration)
        state = Locked(State(next: interval))
    }

    /// Makes this checkpointer run `db`'s checkpoints. Call it on the one connection that
    /// writes, and keep this object alive until that connection is closed: the hook holds it
    /// unretained.
    package func install(on db: Database) {
        sqlite3_wal_hook(db.sqliteConnection, { context, db, name, pages in
            Unmanaged<BackgroundCheckpointer>.fromOpaque(context!).takeUnretainedValue().committed(logPages: pages, db, name)
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// After a commit on the writer (the WAL hook).
    private func committed(logPages pages: Int32, _ db: OpaquePointer?, _ name: UnsafePointer<CChar>?) {
        if pages >= limit {
            // A passive checkpoint skips while another holds the checkpoint lock, and a writer
            // that never pauses would then outrun every background checkpoint; so the writer
            // first waits for the one running here (the queue is serial), then runs the same
            // call as SQLite's automatic checkpoint. A failure leaves it to the next commit.
            queue.sync {}
            sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        }
        let start = state.withLock { state in
            if pages < state.last { state.next = interval }  // the log started over
            state.last = pages
            guard pages >= state.next, !state.running else { return false }
            state.running = true
            state.next = pages + interval
            return true
        }
        if start { queue.async { self.checkpoint() } }
    }

    /// One passive checkpoint of everything the log holds now, on this object's connection.
    private func checkpoint() {
        // Errors are left to the next round, as SQLite's automatic checkpoint leaves them.
        connection.writeWithoutTransaction { db in
            _ = sqlite3_wal_checkpoint_v2(db.sqliteConnection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        }
        state.withLock { $0.running = false }
    }
}
