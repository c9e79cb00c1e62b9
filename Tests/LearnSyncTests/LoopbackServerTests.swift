import Foundation
import Hummingbird
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncServer
import LearnSyncTesting
import Logging
import Testing

/// The real thing: a server listening on a loopback port, devices talking HTTP through
/// URLSession.
@Suite struct LoopbackServerTests {
    @Test func devicesSyncThroughARealHTTPServer() async throws {
        let catalog = try SampleCatalog.load()
        let course = catalog[SampleCatalog.courseID]!
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-loopback-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try await EmbeddedServer.start(databasePath: folder.appendingPathComponent("server.sqlite").path, catalog: catalog, passwordCost: 4)
        let url = server.url

        let a = try await LearnSyncClient(path: folder.appendingPathComponent("a.sqlite").path, catalog: catalog, server: url)
        let b = try await LearnSyncClient(path: folder.appendingPathComponent("b.sqlite").path, catalog: catalog, server: url)
        try await a.complete(course.lessons.prefix(5), in: course)
        try await b.passQuiz(in: course)
        try await b.signUp(username: "loopback", password: "a long password")
        try await a.signIn(username: "loopback", password: "a long password")
        try await b.sync()
        #expect(try await Convergence.divergentDevices([a, b]) == [])
        #expect(try await b.progress(in: course.id).eventCount == 6)
        await server.stop()
    }
}
