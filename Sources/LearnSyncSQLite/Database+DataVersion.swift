package import GRDB
import GRDBSQLite

extension Database {
    /// SQLite's data version of the main database (`SQLITE_FCNTL_DATA_VERSION`): it changes
    /// whenever the database's content changes, by a commit of this connection or of any other
    /// (another's is seen once this connection starts a transaction). Nil when SQLite cannot
    /// tell. Equal versions mean equal content, so state derived from the database at one
    /// version may be reused while the version stays the same.
    ///
    /// `PRAGMA data_version` ignores this connection's own commits, and `sqlite3_total_changes`
    /// other connections'. A commit that changed nothing may change the version too, which only
    /// costs a reuse. The version is 32 bits wide: coming back to the same value between two
    /// reads takes four billion commits.
    package var dataVersion: UInt32? {
        var version: UInt32 = 0
        guard sqlite3_file_control(sqliteConnection, "main", SQLITE_FCNTL_DATA_VERSION, &version) == SQLITE_OK else { return nil }
        return version
    }
}
