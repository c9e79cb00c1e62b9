import GRDB

/// A write SQLite could not make because of the disk, as both stores report it: the transaction
/// was rolled back, and the same work succeeds once the disk has room or works again.
package enum DiskFailure: Sendable {
    /// `SQLITE_FULL`: no space left.
    case full
    /// `SQLITE_IOERR`: the disk failed to read or write (EIO, a failed sync).
    case ioError

    /// The failure `error` reports, or nil for any other error.
    package init?(_ error: any Error) {
        switch (error as? DatabaseError)?.resultCode {
        case .SQLITE_FULL?: self = .full
        case .SQLITE_IOERR?: self = .ioError
        default: return nil
        }
    }
}
