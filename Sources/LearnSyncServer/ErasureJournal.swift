import Foundation
package import LearnSyncModels
import LearnSyncSQLite

/// The erasures a server made, written outside its database: a restore from a backup taken
/// before an erasure must not bring the learner back. An erasure writes `<learner id> <time in
/// ms> pending` before its transaction, and `<learner id> <time>` for the account and each of
/// its attached guests once it committed, each line flushed to disk before the step goes on. At
/// start the server erases again every learner of a committed line that its database holds, and
/// leaves a tombstone for those it does not know (``SyncService/reapplyErasures()``). A pending
/// line alone is an erasure that may not have committed: it counts only where the database shows
/// the erasure (the server stopped between the commit and its line), and is then completed; an
/// erasure refused or failed (a full disk) is never made later. It holds random ids and times
/// only, nothing else about a learner, readable by the server's user only.
package struct ErasureJournal: Sendable {
    package let path: String

    package init(path: String) {
        self.path = path
    }

    /// Checks at start that the journal can be written (created, mode 0600, if missing): a
    /// server that could not journal an erasure could not make one.
    /// - Throws: ``ServerError`` naming the file and the reason.
    package func prepare() throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ServerError("cannot write the erasure journal \(path): \(String(cString: strerror(errno)))") }
        close(descriptor)
    }

    /// One journaled erasure.
    package struct Entry: Hashable, Sendable {
        package var learner: LearnerID
        package var at: Int64
        /// Written before the erasure's transaction, which may not have committed.
        package var pending = false
    }

    /// Appends `learners`, erased at `at` (`pending`: about to be), and flushes the file to disk.
    /// - Throws: ``DiskFailure`` for a full or failing disk (the server answers `503
    ///   storage-failed`), ``ServerError`` when the file cannot be written otherwise: either way
    ///   the erasure must not go on.
    package func record(_ learners: [LearnerID], at: Int64, pending: Bool = false) throws {
        guard !learners.isEmpty else { return }
        func failure(_ doing: String) -> any Error {
            let code = errno
            switch code {
            case ENOSPC, EDQUOT: return DiskFailure.full
            case EIO: return DiskFailure.ioError
            default: return ServerError("cannot \(doing) the erasure journal \(path): \(String(cString: strerror(code)))")
            }
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure("open") }
        defer { close(descriptor) }
        let text = Array(learners.map { "\($0.rawValue) \(at)\(pending ? " pending" : "")\n" }.joined().utf8)
        var written = 0
        while written < text.count {
            let count = text[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw failure("write") }
            written += count
        }
        guard fsync(descriptor) == 0 else { throw failure("flush") }
    }

    /// Every journaled line, in the order written (none when the file does not exist). A line cut
    /// short by a crash while it was written is skipped.
    /// - Throws: ``ServerError`` naming the line when one is not `<learner id> <time>` or
    ///   `<learner id> <time> pending`.
    package func entries() throws -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        var entries = [Entry]()
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where !line.isEmpty {
            let fields = line.split(separator: UInt8(ascii: " "))
            let complete = index < lines.count - 1
            let pending = fields.count == 3 && fields[2].elementsEqual("pending".utf8)
            guard fields.count == 2 || pending, let learner = LearnerID(rawValue: String(decoding: fields[0], as: UTF8.self)),
                  let at = Int64(String(decoding: fields[1], as: UTF8.self))
            else {
                if !complete { break }
                throw ServerError("the erasure journal \(path) line \(index + 1) is not \"<learner id> <time>[ pending]\"")
            }
            entries.append(Entry(learner: learner, at: at, pending: pending))
        }
        return entries
    }
}
