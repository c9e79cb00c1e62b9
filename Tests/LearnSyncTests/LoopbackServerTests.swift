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
    /// Runs `body` against an embedded server on a loopback port, with a folder for device files;
    /// stops the server and removes the folder whatever happens.
    static func withServer(_ body: (URL, URL, Catalog, Course) async throws -> Void) async throws {
        let catalog = try SampleCatalog.load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-loopback-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try await EmbeddedServer.start(databasePath: folder.appendingPathComponent("server.sqlite").path, catalog: catalog, passwordCost: 4)
        do {
            try await body(server.url, folder, catalog, catalog[SampleCatalog.courseID]!)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func devicesSyncThroughARealHTTPServer() async throws {
        try await Self.withServer { url, folder, catalog, course in
            let a = try await LearnSyncClient(path: folder.appendingPathComponent("a.sqlite").path, catalog: catalog, server: url)
            let b = try await LearnSyncClient(path: folder.appendingPathComponent("b.sqlite").path, catalog: catalog, server: url)
            try await a.complete(course.lessons.prefix(5), in: course)
            try await b.passQuiz(in: course)
            try await b.signUp(username: "loopback", password: "a long password")
            try await a.signIn(username: "loopback", password: "a long password")
            try await b.sync()
            #expect(try await Convergence.divergentDevices([a, b]) == [])
            #expect(try await b.progress(in: course.id).eventCount == 6)
        }
    }

    @Test func largeSyncsTravelGzippedBothWays() async throws {
        try await Self.withServer { url, folder, catalog, course in
            let wireA = CountingTransport(URLSessionTransport(baseURL: url)), wireB = CountingTransport(URLSessionTransport(baseURL: url))
            let a = LearnSyncClient(store: try DeviceStore(path: folder.appendingPathComponent("a.sqlite").path, catalog: catalog), transport: wireA)
            let b = LearnSyncClient(store: try DeviceStore(path: folder.appendingPathComponent("b.sqlite").path, catalog: catalog), transport: wireB)
            try await a.signUp(username: "zipped", password: "a long password")
            try await b.signIn(username: "zipped", password: "a long password")
            _ = try await a.record(CompressionTests.entries(2_000, in: course))
            let (pushedUp, pulledDown) = (wireA.sent, wireB.received)
            try await a.sync()
            try await b.sync()
            #expect(try await b.progress(in: course.id).secondsSpent == 4_000)
            // 2,000 events are a few hundred KB of JSON each way; gzip carries them in well under a tenth.
            let up = wireA.sent - pushedUp, down = wireB.received - pulledDown
            print("largeSyncsTravelGzippedBothWays: \(up) B up, \(down) B down")
            #expect(up < 25_000 && down < 25_000, "\(up) B up, \(down) B down")
        }
    }
}
