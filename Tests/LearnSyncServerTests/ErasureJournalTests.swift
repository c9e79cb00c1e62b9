import Foundation
import LearnSyncModels
import LearnSyncServer
import Testing

/// The erasure journal reads back what it wrote, skips a line a crash cut short, and names a
/// line that is not an entry.
@Suite struct ErasureJournalTests {
    @Test func readsBackWhatItWroteAndSkipsATornLastLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let journal = ErasureJournal(path: path)
        #expect(try journal.entries().isEmpty, "no file: no erasures")
        let account = LearnerID.newAccount(), guests = [LearnerID.newGuest(), LearnerID.newGuest()]
        try journal.record([account], at: 1_000)
        try journal.record(guests, at: 1_000)
        try journal.record([], at: 2_000)
        #expect(try journal.entries().map(\.learner) == [account] + guests)
        #expect(try journal.entries().allSatisfy { $0.at == 1_000 })
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        // A crash while appending leaves a line without its end: it is skipped.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("a-torn".utf8))
        try handle.close()
        #expect(try journal.entries().count == 3)

        // A damaged line in the middle is an error naming it, not a silent skip.
        try Data("\(account.rawValue) 5\nnot an entry\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: ServerError.self) { try journal.entries() }
    }
}
