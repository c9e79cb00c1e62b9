import Foundation
import LearnSyncServer
import Testing

/// `serve --sqlite-synchronous`: the writer flushes every commit with `full`, and keeps SQLite's
/// WAL default otherwise.
@Suite struct SQLiteDurabilityTests {
    @Test func fullFlushesEveryCommitAndNormalIsTheDefault() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("durability-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let normal = try SQLiteServerStore(path: folder.appendingPathComponent("normal.sqlite").path)
        let full = try SQLiteServerStore(path: folder.appendingPathComponent("full.sqlite").path, synchronous: .full)
        #expect(try await normal.synchronousLevel() == 1)
        #expect(try await full.synchronousLevel() == 2)
    }
}
