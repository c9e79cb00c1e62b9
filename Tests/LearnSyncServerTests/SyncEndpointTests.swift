import Foundation
import Hummingbird
import HummingbirdTesting
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

@Suite struct SyncEndpointTests {

    @Test(arguments: StoreKind.all) func registersGuestsIdempotentlyWithTheirSecret(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
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

    /// An answer lists every alias when the device pulls from the start, else only those of the
    /// guests whose events it carries; empty lists and false flags are left out of the JSON.
    @Test(arguments: StoreKind.all) func answersCarryTheAliasesTheirEventsNeed(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let (guest, guestToken) = try await client.registerGuest()
            var guestEvents = EventFactory(learner: guest)
            let early = try guestEvents.make(.lessonStarted(lesson: "keep-secure"))
            _ = try await client.sync(SyncRequest(replica: guestEvents.replica, lastSeq: 1, cursor: 0, events: [early]), token: guestToken)
            let (account, token) = try await client.signUp("aliases", guest: GuestProof(learner: guest, secret: "a-device-secret-of-enough-length"))
            let alias = Alias(guest: guest, account: account)
            var accountEvents = EventFactory(learner: account)
            let own = try accountEvents.make(.lessonCompleted(lesson: "keep-secure"))
            let device = ReplicaID.random()
            let start = try await client.sync(SyncRequest(replica: device, lastSeq: 0, cursor: 0, events: []), token: token)
            // Each alias comes with the server's attestation (22 characters of HMAC).
            #expect(start.aliases.map { Alias(guest: $0.guest, account: $0.account) } == [alias])
            #expect(start.aliases.allSatisfy { $0.proof?.count == 22 })
            // A page of the account's own events needs no alias; its JSON is the bare envelope.
            let pushed = try await client.sync(
                SyncRequest(replica: accountEvents.replica, lastSeq: 1, cursor: start.cursor, events: [own]), token: token)
            #expect(pushed.aliases.isEmpty)
            let later = try await client.post(
                "/v1/sync", json: SyncRequest(replica: device, lastSeq: 0, cursor: start.cursor, events: []), token: token)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(later.body.readableBytesView)) as? [String: Any])
            #expect(Set(json.keys) == ["protocol", "time", "catalog", "events", "cursor", "cursorMark"])
            // A guest's event pushed after the attach comes with its alias.
            let late = try guestEvents.make(.lessonCompleted(lesson: "keep-secure"))
            _ = try await client.sync(SyncRequest(replica: guestEvents.replica, lastSeq: 2, cursor: 0, events: [late]), token: token)
            let withGuest = try await client.sync(SyncRequest(replica: device, lastSeq: 0, cursor: pushed.cursor, events: []), token: token)
            #expect(withGuest.events.map(\.id) == [late.id])
            #expect(withGuest.aliases.map { Alias(guest: $0.guest, account: $0.account) } == [alias])
            #expect(withGuest.aliases.map(\.proof) == start.aliases.map(\.proof), "the same attestation every time")
        }
    }

    @Test(arguments: StoreKind.all) func syncNeedsAValidBearerToken(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let body = try WireCoding.encode(SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []))
            for token in [nil, "not-a-token", ""] as [String?] {
                let response = try await client.post("/v1/sync", body, token: token)
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.problem?.code == "unauthorized")
            }
        }
    }

    @Test(arguments: StoreKind.all) func storesEventsIdempotentlyAndRejectsBadOnesOneByOne(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        let now = server.clock.millisecondsSince1970()
        let fingerprint = server.catalog.fingerprint
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
                unknownItem.id: "unknown-item", unknownCourse.id: "unknown-course",
                foreignLearner.id: "foreign-learner", otherReplica.id: "foreign-replica",
            ])
            // Ten minutes ahead of the server: stored at the server's time, not refused.
            #expect(first.retimed == [Retimed(seq: future.id.seq, hlc: HLCTimestamp(physicalMilliseconds: now))])
            #expect(first.time == now && first.catalog == fingerprint && !first.renewReplica)
            #expect(first.events.isEmpty)  // its own events are not echoed back
            // The same batch again (a lost answer, re-sent): same answer, nothing stored twice.
            let second = try await client.sync(request, token: token)
            #expect(second.rejected == first.rejected)
            #expect(second.retimed == first.retimed)
            // Offered again at the time it was stored at, as a device that took the `retimed`
            // time offers its log after `rewound`: the same event, not a collision.
            let taken = try ProgressEvent(
                id: future.id, learner: future.learner, timestamp: HLCTimestamp(physicalMilliseconds: now), course: future.course,
                payload: future.payload)
            let third = try await client.sync(
                SyncRequest(replica: events.replica, lastSeq: batch.last?.id.seq ?? 0, cursor: 0, events: [taken]), token: token)
            #expect(third.rejected.isEmpty && !third.renewReplica && third.retimed.isEmpty, "\(third.rejected)")
            // Another device of nobody else sees exactly the two good events... via a fresh replica.
            let pulled = try await client.sync(SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []), token: token)
            #expect(pulled.events.map(\.id) == [good1.id, future.id, good2.id])
            #expect(pulled.events[1].timestamp == HLCTimestamp(physicalMilliseconds: now))
            #expect(pulled.cursor == second.cursor)
        }
    }

    @Test(arguments: StoreKind.all) func reorderedBatchesStoreTheSameFeed(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
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

    @Test(arguments: StoreKind.all) func pullsInPagesWithACursor(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
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

    @Test(arguments: StoreKind.all) func everyMalformedRequestGetsItsProblemAndChangesNothing(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
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

    @Test(arguments: StoreKind.all) func unsupportedVersionNamesTheSupportedOnes(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let response = try await client.post("/v1/guests", Data(#"{"protocol": 7}"#.utf8))
            #expect(response.problem?.supportedVersions == [1])
            #expect(response.problem?.detail.contains("7") == true)
        }
    }

    @Test(arguments: StoreKind.all) func limitsAreEnforcedBeforeWork(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            var events = EventFactory(learner: learner)
            let tooMany = try (0...ProtocolLimits.maxEventsPerRequest).map { _ in try events.make(.lessonStarted(lesson: "keep-secure")) }
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

    @Test(arguments: StoreKind.all) func unknownEndpointsAreProblemsToo(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let response = try await client.executeRequest(uri: "/v1/nothing", method: .get, headers: [:], body: nil)
            #expect(response.status == .notFound)
            #expect(response.problem?.code == "not-found")
        }
    }
}

/// Replica identity on the server: a replica id belongs to one learner; a device behind the
/// server's counter (restored) or colliding with another device's event (cloned) is told to take
/// a new id, and nothing is acknowledged that was not stored.
@Suite struct ReplicaIdentityTests {

    @Test(arguments: StoreKind.all) func anotherLearnerCannotClaimAReplica(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let (owner, ownerToken) = try await client.registerGuest()
            var events = EventFactory(learner: owner)
            let first = try events.make(.lessonCompleted(lesson: "keep-secure"))
            _ = try await client.sync(SyncRequest(replica: events.replica, lastSeq: 1, cursor: 0, events: [first]), token: ownerToken)

            let (thief, thiefToken) = try await client.registerGuest()
            var stolen = EventFactory(learner: thief, replica: events.replica)
            stolen.seq = 1
            let claim = try stolen.make(.lessonCompleted(lesson: "limit-access"))
            let answer = try await client.sync(SyncRequest(replica: events.replica, lastSeq: 2, cursor: 0, events: [claim]), token: thiefToken)
            #expect(answer.renewReplica)
            #expect(answer.rejected.map(\.code) == ["replica-conflict"])
            // The owner's counter is not the other learner's to learn, by a push or a pull.
            #expect(answer.lastSeq == nil)
            let pulled = try await client.sync(SyncRequest(replica: events.replica, lastSeq: 0, cursor: 0, events: []), token: thiefToken)
            #expect(pulled.renewReplica && pulled.lastSeq == nil)
            // The owner's next event under its replica is stored as usual.
            let second = try events.make(.lessonStarted(lesson: "limit-access"))
            let own = try await client.sync(SyncRequest(replica: events.replica, lastSeq: 2, cursor: 0, events: [second]), token: ownerToken)
            #expect(own.rejected.isEmpty && !own.renewReplica)
            // Its own counter it is told, when behind it.
            let behind = try await client.sync(SyncRequest(replica: events.replica, lastSeq: 1, cursor: 0, events: []), token: ownerToken)
            #expect(behind.lastSeq == 2 && behind.renewReplica)
        }
    }

    /// One id given to two different events in one request collides as with a stored event:
    /// neither copy is stored, the id is refused once (it was stored and refused at once), every
    /// later event of the replica is refused too, and the device takes a new replica id. The
    /// same event sent twice is one event.
    @Test(arguments: StoreKind.all) func anIdGivenToTwoEventsInOneRequestIsRefused(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            var phone = EventFactory(learner: learner)
            let a = try phone.make(.lessonStarted(lesson: "keep-secure"))
            var twin = phone
            let b = try phone.make(.lessonCompleted(lesson: "keep-secure"))
            let other = try twin.make(.lessonStarted(lesson: "limit-access"))
            let c = try phone.make(.lessonStarted(lesson: "train-staff"))
            #expect(b.id == other.id && b != other)
            let answer = try await client.sync(
                SyncRequest(replica: phone.replica, lastSeq: phone.seq, cursor: 0, events: [a, a, b, other, c]), token: token)
            #expect(answer.rejected.map(\.id) == [b.id, c.id])
            #expect(answer.rejected.map(\.code) == ["replica-conflict", "replica-conflict"])
            #expect(answer.renewReplica)
            var reader = EventFactory(learner: learner)
            let pulled = try await client.sync(SyncRequest(replica: reader.replica, lastSeq: 0, cursor: 0, events: []), token: token)
            #expect(pulled.events.map(\.id) == [a.id])
            // Another replica's events are refused foreign-replica, copies or not.
            var readerTwin = reader
            let foreign = try reader.make(.lessonStarted(lesson: "keep-secure"))
            let changed = try readerTwin.make(.lessonStarted(lesson: "limit-access"))
            let mixed = try await client.sync(SyncRequest(replica: phone.replica, lastSeq: phone.seq, cursor: 0, events: [foreign, changed]), token: token)
            #expect(mixed.rejected.map(\.code) == ["foreign-replica", "foreign-replica"])
            #expect(!mixed.renewReplica)
        }
    }

    @Test(arguments: StoreKind.all) func aCollidingEventAndEveryLaterOneAreRefusedAndARestoreIsDetected(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            var original = EventFactory(learner: learner)
            let shared = try original.make(.lessonCompleted(lesson: "keep-secure"))
            var clone = original
            let a = try original.make(.lessonCompleted(lesson: "limit-access"))
            let b = try original.make(.lessonCompleted(lesson: "train-staff"))
            _ = try await client.sync(SyncRequest(replica: original.replica, lastSeq: 3, cursor: 0, events: [shared, a, b]), token: token)
            // The clone re-sends the shared event (same content: acknowledged) and two of its own.
            let c = try clone.make(.lessonStarted(lesson: "limit-access"))
            let d = try clone.make(.lessonStarted(lesson: "train-staff"))
            let answer = try await client.sync(SyncRequest(replica: clone.replica, lastSeq: 3, cursor: 0, events: [shared, c, d]), token: token)
            #expect(answer.rejected.map(\.id) == [c.id, d.id])
            #expect(answer.rejected.allSatisfy { $0.code == "replica-conflict" })
            #expect(answer.renewReplica)
            // It is sent every event under the shared id: it holds other events under some of them.
            #expect(answer.events.map(\.id) == [shared.id, a.id, b.id])
            // A restored device (its counter behind the server's) is told before it collides.
            let restored = try await client.sync(SyncRequest(replica: clone.replica, lastSeq: 1, cursor: 0, events: []), token: token)
            #expect(restored.renewReplica && restored.rejected.isEmpty)
        }
    }

    @Test(arguments: StoreKind.all) func theCatalogIsServedWithAnETagAndTheServerGradesProgress(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        let catalog = server.catalog
        try await server.test { client in
            let served = try await client.executeRequest(uri: "/v1/catalog", method: .get, headers: [:], body: nil)
            #expect(served.status == .ok)
            let etag = try #require(served.headers[.eTag])
            let body = try WireCoding.decode(CatalogResponse.self, from: Data(served.body.readableBytesView))
            #expect(try body.catalog() == catalog)
            let unchanged = try await client.executeRequest(uri: "/v1/catalog", method: .get, headers: [.ifNoneMatch: etag], body: nil)
            #expect(unchanged.status == .notModified && unchanged.body.readableBytes == 0)

            let (learner, token) = try await client.registerGuest()
            var events = EventFactory(learner: learner)
            let course = catalog[SampleCatalog.courseID]!
            var batch = try course.certificate.requiredLessons.map { try events.make(.lessonCompleted(lesson: $0)) }
            let quiz = course.quizzes[0]
            batch.append(try events.make(.quizAttempt(quiz: quiz.id, answers: quiz.questions.map(\.answer), version: 1)))
            _ = try await client.sync(SyncRequest(replica: events.replica, lastSeq: events.seq, cursor: 0, events: batch), token: token)
            let graded = try await client.executeRequest(uri: "/v1/progress", method: .get, headers: [.authorization: "Bearer \(token)"], body: nil)
            let report = try WireCoding.decode(ProgressResponse.self, from: Data(graded.body.readableBytesView))
            #expect(report.courses.count == 1)
            #expect(report.courses[0].certificate.isEarned)
            #expect(report.courses[0].progress == CourseProgress.rebuild(course: course.id, catalog: catalog, from: batch))
            let anonymous = try await client.executeRequest(uri: "/v1/progress", method: .get, headers: [:], body: nil)
            #expect(anonymous.status == .unauthorized)
        }
    }
}
