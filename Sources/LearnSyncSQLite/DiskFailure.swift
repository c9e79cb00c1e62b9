import Foundation
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

    /// The failure `error` reports for the database file at `path`. SQLite reports a disk that
    /// filled while it mapped or grew its shared-memory or WAL file as an I/O error: one on a
    /// file system with less than 1 MiB left for this user is read as full.
    package init?(_ error: any Error, at path: String) {
        guard let failure = DiskFailure(error) else { return nil }
        self = failure == .ioError && Self.available(at: path).map { $0 < 1 << 20 } == true ? .full : failure
    }

    /// Bytes this user may still write on the file system holding `path`'s folder.
    private static func available(at path: String) -> UInt64? {
        var info = statvfs()
        let folder = (path as NSString).deletingLastPathComponent
        guard statvfs(folder.isEmpty ? "." : folder, &info) == 0 else { return nil }
        return UInt64(info.f_bavail).multipliedReportingOverflow(by: UInt64(info.f_frsize)).partialValue
    }
}
