import Foundation
import Hummingbird
import LearnSync
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
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try await buildApplication(
            configuration: ServerConfiguration(port: 0, databasePath: folder.appendingPathComponent("server.sqlite").path),
            catalog: catalog, logger: logger, onServerRunning: { continuation.yield($0) })
        let server = Task { try await app.run() }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let url = URL(string: "http://127.0.0.1:\(port)")!

        let a = try LearnSyncClient(path: folder.appendingPathComponent("a.sqlite").path, catalog: catalog, server: url)
        let b = try LearnSyncClient(path: folder.appendingPathComponent("b.sqlite").path, catalog: catalog, server: url)
        try await a.complete(course.lessons.prefix(5), in: course)
        try await b.passQuiz(in: course)
        try await b.signUp(username: "loopback", password: "a long password")
        try await a.signIn(username: "loopback", password: "a long password")
        try await b.sync()
        #expect(try await Convergence.divergentDevices([a, b]) == [])
        #expect(try await b.progress(in: course.id).eventCount == 6)
    }
}
