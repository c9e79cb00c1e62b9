import Foundation
package import LearnSyncModels

/// The erasures a server made, written outside its database: a restore from a backup taken
/// before an erasure must not bring the learner back. Each erasure appends a line
/// `<learner id> <time in ms>` (the account before its erasure commits, its attached guests
/// after), flushed to disk before it returns; at start the server erases again every journaled
/// learner its database holds, and leaves a tombstone for those it does not know
/// (``SyncService/reapplyErasures()``). It holds random ids and times only, nothing else about
/// a learner, readable by the server's user only.
package struct ErasureJournal: Sendable {
    package let path: String

    package init(path: String) {
        self.path = path
    }

    /// One journaled erasure.
    package struct Entry: Hashable, Sendable {
        package var learner: LearnerID
        package var at: Int64
    }

    /// Appends `learners`, erased at `at`, and flushes the file to disk.
    /// - Throws: ``ServerError`` when the file cannot be written: the erasure must not go on.
    package func record(_ learners: [LearnerID], at: Int64) throws {
        guard !learners.isEmpty else { return }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ServerError("cannot open the erasure journal \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let text = Array(learners.map { "\($0.rawValue) \(at)\n" }.joined().utf8)
        var written = 0
        while written < text.count {
            let count = text[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { throw ServerError("cannot write the erasure journal \(path): \(String(cString: strerror(errno)))") }
            written += count
        }
        guard fsync(descriptor) == 0 else { throw ServerError("cannot flush the erasure journal \(path): \(String(cString: strerror(errno)))") }
    }

    /// Every journaled erasure, in the order written (none when the file does not exist). A
    /// line cut short by a crash while it was written is skipped.
    /// - Throws: ``ServerError`` naming the line when one is not `<learner id> <time>`.
    package func entries() throws -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        var entries = [Entry]()
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where !line.isEmpty {
            let fields = line.split(separator: UInt8(ascii: " "))
            let complete = index < lines.count - 1
            guard fields.count == 2, let learner = LearnerID(rawValue: String(decoding: fields[0], as: UTF8.self)),
                  let at = Int64(String(decoding: fields[1], as: UTF8.self))
            else {
                if !complete { break }
                throw ServerError("the erasure journal \(path) line \(index + 1) is not \"<learner id> <time>\"")
            }
            entries.append(Entry(learner: learner, at: at))
        }
        return entries
    }
}
