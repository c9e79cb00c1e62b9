import Foundation
import LearnSync
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting
import Testing

/// An export larger than a device takes in memory streams to a file, over a real loopback
/// server: the in-memory call hits its cap, the file holds every event.
@Suite(.tags(.slow)) struct ExportDownloadTests {
    @Test func anExportPastTheAnswerCapStreamsToAFile() async throws {
        let catalog = try SampleCatalog.load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try await EmbeddedServer.start(databasePath: folder.appendingPathComponent("server.sqlite").path, catalog: catalog, passwordCost: 4)
        defer { Task { await server.stop() } }
        let store = try DeviceStore(path: folder.appendingPathComponent("phone.sqlite").path, catalog: catalog)
        try await store.setServer(server.url)
        let phone = LearnSyncClient(store: store, transport: URLSessionTransport(baseURL: server.url, maxAnswerBytes: 16_384))
        let lessons = try #require(catalog[SampleCatalog.courseID]).lessons
        for index in 0..<400 {
            try await phone.record(.lessonStarted(lesson: lessons[index % lessons.count].id), in: SampleCatalog.courseID)
        }
        try await phone.sync()

        await #expect(throws: SyncError.self, "the answer passes the in-memory cap") { _ = try await phone.serverExport() }
        let file = folder.appendingPathComponent("export.json")
        try await phone.serverExport(.json, to: file)
        let document = try WireCoding.decode(ExportDocument.self, from: try Data(contentsOf: file))
        let learner = try await phone.identity().learner
        #expect(document.events.count == 400 && document.learner.id == learner)
        #expect(try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int == 0o600)
        #expect(try Data(contentsOf: file).count > 16_384)

        let statements = folder.appendingPathComponent("statements.json")
        try await phone.serverExport(.xapi, to: statements)
        #expect(try WireCoding.decode(XAPIStatementResult.self, from: try Data(contentsOf: statements)).statements.count == 400)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).allSatisfy { !$0.hasSuffix(".partial") })
    }
}
