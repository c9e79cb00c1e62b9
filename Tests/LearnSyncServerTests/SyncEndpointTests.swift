import Foundation
import Hummingbird
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

@Suite struct SyncEndpointTests {
    let server: TestServer
    init() throws { server = try TestServer() }

    @Test func registersGuestsIdempotentlyWithTheirSecret() async throws {
        try await server.test { client in
            let learner = LearnerID.newGuest()
            let request = RegisterGuestRequest(learner: learner, secret: "the-secret-of-this-device")
            let first = try await client.post("/v1/guests", json: request)
            let again = try await client.post("/v1/guests", json: request)
            #expect(first.status == .ok)
            #expect(again.status == .ok)
            let other = try await client.post("/v1/guests", json: RegisterGuestRequest(learner: learner, secret: "somebody-elses-secret-value"))
            #expect(other.status == .conflict)
            #expect(other.problem?.code == "conflict")
            let account = try await client.post("/v1/guests", json: RegisterGuestRequest(learner: .newAccount(), secret: "the-secret-of-this-device"))
            #expect(account.status == .badRequest)
            let shortSecret = try await client.post("/v1/guests", json: RegisterGuestRequest(learner: .newGuest(), secret: "short"))
            #expect(shortSecret.problem?.code == "invalid-request")
        }
    }

    @Test func syncNeedsAValidBearerToken() async throws {
        try await server.test { client in
            let body = try JSONEncoder().encode(SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []))
            for token in [nil, "not-a-token", ""] as [String?] {
                let response = try await client.post("/v1/sync", body, token: token)
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.problem?.code == "unauthorized")
            }
        }
    }

    @Test func storesEventsIdempotentlyAndRejectsBadOnesOneByOne() async throws {
        let now = server.clock.millisecondsSince1970()
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            var events = EventFactory(learner: learner)
            let good1 = try events.make(.lessonCompleted(lesson: "keep-secure"))
            let unknownItem = try events.make(.lessonCompleted(lesson: "no-such-lesson"))
            let unknownCourse = try events.make(.courseReset(), course: "no-such-course")
            let future = try events.make(.lessonStarted(lesson: "limit-access"), at: now + 10 * 60_000)
            var foreign = EventFactory(learner: .newGuest(), replica: events.replica)
            foreign.seq = 10
            let foreignLearner = try foreign.make(.lessonStarted(lesson: "limit-access"))
            var elsewhere = EventFactory(learner: learner)
            let otherReplica = try elsewhere.make(.lessonStarted(lesson: "limit-access"))
            let good2 = try events.make(.lessonStarted(lesson: "train-staff"))
            let batch = [good1, unknownItem, unknownCourse, future, foreignLearner, otherReplica, good2]
            let request = SyncRequest(replica: events.replica, lastSeq: batch.last?.id.seq ?? 0, cursor: 0, events: batch)

            let first = try await client.sync(request, token: token)
            let codes = Dictionary(uniqueKeysWithValues: first.rejected.map { ($0.id, $0.code) })
            #expect(codes == [
                unknownItem.id: "unknown-item", unknownCourse.id: "unknown-course", future.id: "clock-skew",
                foreignLearner.id: "foreign-learner", otherReplica.id: "foreign-replica",
            ])
            #expect(first.events.isEmpty)  // its own events are not echoed back
            // The same batch again (a lost answer, re-sent): same answer, nothing stored twice.
            let second = try await client.sync(request, token: token)
            #expect(second.rejected == first.rejected)
            // Another device of nobody else sees exactly the two good events... via a fresh replica.
            let pulled = try await client.sync(SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []), token: token)
            #expect(pulled.events == [good1, good2])
            #expect(pulled.cursor == second.cursor)
        }
    }

    @Test func reorderedBatchesStoreTheSameFeed() async throws {
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            var events = EventFactory(learner: learner)
            let first = try (0..<5).map { _ in try events.make(.lessonStarted(lesson: "keep-secure")) }
            let second = try (0..<5).map { _ in try events.make(.lessonCompleted(lesson: "keep-secure")) }
            // The later batch arrives first, then the earlier one, then the later one again.
            for batch in [second, first, second] {
                let answer = try await client.sync(SyncRequest(replica: events.replica, lastSeq: batch.last?.id.seq ?? 0, cursor: 0, events: batch), token: token)
                #expect(answer.rejected.isEmpty)
            }
            let pulled = try await client.sync(SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []), token: token)
            #expect(Set(pulled.events) == Set(first + second))
            #expect(pulled.events.count == 10)
        }
    }

    @Test func pullsInPagesWithACursor() async throws {
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            var events = EventFactory(learner: learner)
            var all = [ProgressEvent]()
            for _ in 0..<3 {
                let batch = try (0..<400).map { _ in try events.make(.timeSpent(lesson: "keep-secure", seconds: 5)) }
                all += batch
                _ = try await client.sync(SyncRequest(replica: events.replica, lastSeq: batch.last?.id.seq ?? 0, cursor: 0, events: batch, limit: 1), token: token)
            }
            let reader = ReplicaID.random()
            var cursor: Int64 = 0
            var pages = [Int]()
            var pulled = [ProgressEvent]()
            while true {
                let page = try await client.sync(SyncRequest(replica: reader, lastSeq: 0, cursor: cursor, events: [], limit: 500), token: token)
                pages.append(page.events.count)
                pulled += page.events
                cursor = page.cursor
                if !page.more { break }
            }
            #expect(pages == [500, 500, 200])
            #expect(pulled == all)
        }
    }

    @Test func everyMalformedRequestGetsItsProblemAndChangesNothing() async throws {
        try await server.test { client in
            let (_, token) = try await client.registerGuest()
            for file in try Golden.malformed() {
                let response = try await client.post("/v1/sync", file.body, token: token)
                #expect(response.problem?.code == file.expectedCode, "\(file.name)")
                #expect(response.status.code == 400, "\(file.name)")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            let pulled = try await client.sync(SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []), token: token)
            #expect(pulled.events.isEmpty)
        }
    }

    @Test func unsupportedVersionNamesTheSupportedOnes() async throws {
        try await server.test { client in
            let response = try await client.post("/v1/guests", Data(#"{"protocol": 7}"#.utf8))
            #expect(response.problem?.supportedVersions == [1])
            #expect(response.problem?.detail.contains("7") == true)
        }
    }

    @Test func limitsAreEnforcedBeforeWork() async throws {
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            var events = EventFactory(learner: learner)
            let tooMany = try (0..<501).map { _ in try events.make(.lessonStarted(lesson: "keep-secure")) }
            let many = try await client.post("/v1/sync", json: SyncRequest(replica: events.replica, lastSeq: 0, cursor: 0, events: tooMany), token: token)
            #expect(many.problem?.code == "too-many-events")
            let huge = Data(repeating: UInt8(ascii: " "), count: ProtocolLimits.maxBodyBytes + 1)
            let large = try await client.post("/v1/sync", huge, token: token)
            #expect(large.status == .contentTooLarge)
            #expect(large.problem?.code == "body-too-large")
            let text = try await client.post("/v1/sync", Data("{}".utf8), token: token, contentType: "text/plain")
            #expect(text.problem?.code == "unsupported-media-type")
            let pulled = try await client.sync(SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []), token: token)
            #expect(pulled.events.isEmpty)
        }
    }

    @Test func unknownEndpointsAreProblemsToo() async throws {
        try await server.test { client in
            let response = try await client.executeRequest(uri: "/v1/nothing", method: .get, headers: [:], body: nil)
            #expect(response.status == .notFound)
            #expect(response.problem?.code == "not-found")
        }
    }
}
