import Foundation
import GRDB
import LearnSyncModels
import LearnSyncStorage
import LearnSyncTesting
import Testing

/// What the device file holds and who may read it.
@Suite struct DeviceFileTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("device-file-\(UUID().uuidString)/nested")

    func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func theFileAndItsCompanionsAreTheOwnersOnly() async throws {
        let path = folder.appendingPathComponent("device.sqlite").path
        let store = try DeviceStore(path: path, catalog: try SampleCatalog.load())
        try await store.record(.lessonStarted(lesson: "keep-secure"), in: SampleCatalog.courseID)
        #expect(try mode(folder.path) == 0o700)
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            #expect(try mode(file) == 0o600, "\(file)")
        }
    }

    @Test func aTokenBelongsToTheServerThatIssuedIt() async throws {
        let store = try DeviceStore.inMemory(catalog: try SampleCatalog.load())
        try await store.setServer(URL(string: "https://one.example")!)
        try await store.setToken("token-of-server-one")
        try await store.record(.lessonStarted(lesson: "keep-secure"), in: SampleCatalog.courseID)
        _ = try await store.apply(SyncRoundResult(pushed: try await store.pendingEvents(limit: 10), pulled: [], aliases: [], cursor: 7))
        #expect(try await store.pendingCount() == 0)
        try await store.setServer(URL(string: "https://one.example")!)
        #expect(try await store.syncState().token == "token-of-server-one", "the same server keeps its token")
        try await store.setServer(URL(string: "https://two.example")!)
        let state = try await store.syncState()
        #expect(state.token == nil && state.cursor == 0)
        #expect(try await store.pendingCount() == 1, "the new server holds none of the events: they are sent again")
    }

    @Test func signingOutWhileAnotherConnectionReadsFailsLoudlyThenSucceeds() async throws {
        let path = folder.appendingPathComponent("busy.sqlite").path
        let store = try DeviceStore(path: path, catalog: try SampleCatalog.load())
        try await store.setToken("a-token-that-must-not-stay-in-the-file")
        for _ in 0..<50 { try await store.record(.lessonStarted(lesson: "keep-secure"), in: SampleCatalog.courseID) }
        let reader = try DatabasePool(path: path)
        var snapshot: DatabaseSnapshot? = try reader.makeSnapshot()
        await #expect(throws: StorageError.self) { try await store.wipe() }
        #expect(try await store.syncState().token == nil, "the tables are wiped even so")
        _ = snapshot
        snapshot = nil
        try reader.close()
        try await store.wipe()
        for file in [path, path + "-wal"] where FileManager.default.fileExists(atPath: file) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(bytes.range(of: Data("a-token-that-must-not-stay-in-the-file".utf8)) == nil, "\(file)")
        }
    }
}
