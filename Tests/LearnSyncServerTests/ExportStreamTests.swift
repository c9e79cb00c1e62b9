import Foundation
import Hummingbird
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
@testable import LearnSyncServer
import LearnSyncTesting
import Testing

/// `GET /v1/export` streams the learner's feed page by page: a learner with more events than
/// three pages, resets among them, gets every event in feed order and the progress graded from
/// the whole feed, as JSON and as xAPI.
@Suite(.tags(.slow)) struct ExportStreamTests {
    @Test(arguments: StoreKind.all) func anExportOfManyPagesHoldsEveryEventAndTheWholeGrading(_ kind: StoreKind) async throws {
        let seed = SeededGenerator.seedFromEnvironment()
        print("ExportStreamTests (\(kind)) seed: \(seed)")
        var generator = SeededGenerator(seed: seed)
        let server = try await TestServer(kind)
        let catalog = server.catalog
        let guest = LearnerID.newGuest()
        let token = try await server.service.registerGuest(
            RegisterGuestRequest(learner: guest, secret: "a-device-secret-of-enough-length"), address: "direct").token
        let replica = ReplicaID.random()
        let count = FeedPages.pageSize * 2 + 1234
        let events = RandomStudy.events(count: count, catalog: catalog, learners: [guest], replicas: [replica], using: &generator)
        for start in stride(from: 0, to: count, by: ProtocolLimits.maxEventsPerRequest) {
            let batch = Array(events[start..<min(count, start + ProtocolLimits.maxEventsPerRequest)])
            _ = try await server.service.sync(
                SyncRequest(replica: replica, lastSeq: Int64(start + batch.count), cursor: 0, events: batch, limit: 1), authorization: "Bearer \(token)")
        }
        let stored = try #require(try await server.service.store.learnerEvents(
            tokenHash: Credentials.hash(token), now: server.clock.millisecondsSince1970(), after: 0, through: .max, limit: .max)).events
        #expect(stored.count == count && stored.contains(where: \.isReset))
        let graded = CourseReport.grade(stored, catalog: catalog)

        try await server.test { client in
            let json = try await client.get("/v1/export", token: token)
            #expect(json.status == .ok && json.headers[.cacheControl] == "no-store")
            let document = try json.decode(ExportDocument.self)
            #expect(document.events == stored, "seed \(seed)")
            #expect(document.progress == graded, "seed \(seed)")
            #expect(document.learner.id == guest && document.source == .server)

            let xapi = try await client.get("/v1/export?format=xapi", token: token)
            let statements = try xapi.decode(XAPIStatementResult.self).statements
            let certificates = graded.filter { $0.certificate.earnedAt != nil }.count
            #expect(statements.count == count + certificates, "seed \(seed)")
            #expect(statements == XAPIExport.statements(of: document, catalog: catalog, homePage: "http://localhost"), "seed \(seed)")
        }
    }
}
