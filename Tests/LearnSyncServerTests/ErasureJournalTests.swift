import Foundation
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTestSupport
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

    /// An erasure writes a pending line before its transaction and a committed one after. At
    /// start, a pending line alone counts only where the database shows the erasure (the server
    /// stopped between the commit and its line): that one is completed; one whose erasure never
    /// committed (a full disk) is not made later.
    @Test func aPendingLineCountsOnlyWhereTheDatabaseShowsTheErasure() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let journal = ErasureJournal(path: folder.appendingPathComponent("erasures").path)
        let service = SyncService(
            store: try SQLiteServerStore(path: folder.appendingPathComponent("server.sqlite").path), catalog: try SampleCatalog.load(),
            passwordCost: 4, erasureJournal: journal)
        func guest() async throws -> SessionResponse {
            try await service.registerGuest(RegisterGuestRequest(learner: .newGuest(), secret: "a-device-secret-of-enough-length"), address: "127.0.0.1")
        }
        let erased = try await guest(), kept = try await guest()
        _ = try await service.deleteAccount(DeleteAccountRequest(password: nil), authorization: "Bearer \(erased.token)", address: "127.0.0.1")
        #expect(try journal.entries().map(\.pending) == [true, false])

        // The server stopped after the commit, before the committed line; and an erasure of the
        // other guest failed after its pending line.
        try Data("\(erased.learner.rawValue) 7 pending\n".utf8).write(to: URL(fileURLWithPath: journal.path))
        try journal.record([kept.learner], at: 8, pending: true)
        _ = try await service.reapplyErasures()
        let committed = try journal.entries().filter { !$0.pending }
        #expect(committed.map(\.learner) == [erased.learner])
        #expect(committed.map(\.at) == [7])
        // The other guest is untouched, however often the server starts.
        _ = try await service.reapplyErasures()
        #expect(try journal.entries().filter { !$0.pending }.map(\.learner) == [erased.learner])
        let sync = try await service.sync(
            SyncRequest(replica: "r1", lastSeq: 0, cursor: 0, events: []), authorization: "Bearer \(kept.token)")
        #expect(sync.events.isEmpty)
    }
}
