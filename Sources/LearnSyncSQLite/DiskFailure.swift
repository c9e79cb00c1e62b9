import GRDB

/// A write the database could not make because of the disk, as every store reports it: the
/// transaction was rolled back, and the same work succeeds once the disk has room or works again.
/// SQLite's errors are read as one; the PostgreSQL store throws one itself.
package enum DiskFailure: Error, Sendable {
    /// `SQLITE_FULL`, PostgreSQL's `53100 disk_full`: no space left.
    case full
    /// `SQLITE_IOERR`, PostgreSQL's `58030 io_error`: the disk failed to read or write (EIO, a
    /// failed sync).
    case ioError

    /// The failure `error` reports, or nil for any other error.
    package init?(_ error: any Error) {
        if let failure = error as? DiskFailure {
            self = failure
            return
        }
        switch (error as? DatabaseError)?.resultCode {
        case .SQLITE_FULL?: self = .full
        case .SQLITE_IOERR?: self = .ioError
        default: return nil
        }
    }
}
