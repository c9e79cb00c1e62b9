/// How the embedded store's commits reach the disk (SQLite's `synchronous`, in WAL mode).
public enum SQLiteSynchronous: String, Sendable, CaseIterable {
    /// The default: a commit is durable once the write-ahead log is checkpointed. A power cut or
    /// kernel crash may roll back the last commits (never corrupt the file); devices send again
    /// what the server forgot (docs/OPERATIONS.md). A process crash loses nothing.
    case normal
    /// Every commit is flushed to disk before it is acknowledged: nothing acknowledged is lost to
    /// a power cut, at the cost of a flush per commit (group commit shares it among concurrent
    /// syncs).
    case full
}
