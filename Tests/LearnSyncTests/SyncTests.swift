import Foundation
import Hummingbird
import HummingbirdTesting
import LearnSyncServer
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting
import Testing

@Suite struct SyncTests {
    let world: World
    init() throws { world = try World() }

    @Test func twoDevicesOfOneLearnerConvergeInEveryOrder() async throws {
        let world = world
        for order in [[0, 1], [1, 0]] {
            try await world.run { client in
                let a = try world.device(client), b = try world.device(client)
                try await a.signUp(username: "learner-\(order[0])", password: "a long password")
                try await b.signIn(username: "learner-\(order[0])", password: "a long password")
                // Offline edits on both.
                try await a.complete(world.course.lessons.prefix(4), in: world.course)
                try await a.failQuiz(in: world.course)
                try await b.complete(world.course.lessons.suffix(5), in: world.course)
                try await b.passQuiz(in: world.course)
                try await b.record(.timeSpent(lesson: world.course.lessons[0].id, seconds: 60), in: world.course.id)
                let devices = [a, b]
                for index in order { try await devices[index].sync() }
                try await Convergence.syncUntilQuiet(devices)
                #expect(try await Convergence.divergentDevices(devices) == [])
                let progress = try await a.progress(in: world.course.id)
                #expect(progress.quizzes[world.course.quizzes[0].id]?.attempts == 2)
                #expect(progress.secondsSpent == 60)
                #expect(try await a.certificate(in: world.course.id).isEligible)
            }
        }
    }

    @Test func aLostAnswerIsRetriedWithoutDuplicates() async throws {
        let world = world
        try await world.run { client in
            let faulty = FaultyTransport(TestClientTransport(client), faults: Faults(dropAnswer: 0.5, duplicate: 0.3), seed: 7)
            let a = try world.device(faulty)
            try await a.signUp(username: "flaky", password: "a long password")
            for lesson in world.course.lessons { try await a.record(.lessonStarted(lesson: lesson.id), in: world.course.id) }
            try await a.passQuiz(in: world.course)
            try await a.sync()
            #expect(try await a.pendingCount() == 0)
            #expect(faulty.counts.total > 0)
            let b = try world.device(client)
            try await b.signIn(username: "flaky", password: "a long password")
            let events = try await b.store.events(in: world.course.id)
            #expect(events.count == world.course.lessons.count + 1)
            #expect(try await Convergence.divergentDevices([a, b]) == [])
        }
    }

    @Test func giveUpClearlyWhenOffline() async throws {
        let world = world
        try await world.run { client in
            let faulty = FaultyTransport(TestClientTransport(client), faults: Faults(), seed: 1)
            let a = try world.device(faulty)
            try await a.record(.lessonStarted(lesson: world.course.lessons[0].id), in: world.course.id)
            faulty.setOffline(true)
            await #expect { try await a.sync() } throws: { ($0 as? SyncError)?.code == .unreachable }
            #expect(try await a.pendingCount() == 1)
            faulty.setOffline(false)
            try await a.sync()
            #expect(try await a.pendingCount() == 0)
        }
    }

    @Test func pullsManyPages() async throws {
        let world = world
        try await world.run { client in
            let a = try world.device(client), b = try world.device(client)
            try await a.signUp(username: "busy", password: "a long password")
            // Three batches and three pages' worth.
            let count = ProtocolLimits.maxEventsPerRequest * 2 + 400
            let entries = (0..<count).map { index in
                RecordEntry(course: world.course.id, payload: .timeSpent(lesson: world.course.lessons[index % 9].id, seconds: 1))
            }
            try await a.store.record(entries)
            let pushed = try await a.sync()
            #expect(pushed.rounds >= 3)
            try await b.signIn(username: "busy", password: "a long password")
            #expect(try await b.progress(in: world.course.id).secondsSpent == count)
        }
    }

    /// Two syncs of one store at once (a timer and a pull-to-refresh, or two clients on one
    /// store) take turns: every event is pushed once, not once by each.
    @Test func concurrentSyncsTakeTurns() async throws {
        let world = world
        try await world.run { client in
            let a = try world.device(client)
            let other = LearnSyncClient(store: a.store, transport: TestClientTransport(client))
            try await a.signUp(username: "two-syncs", password: "a long password")
            let count = ProtocolLimits.maxEventsPerRequest + 500
            try await a.store.record((0..<count).map { index in
                RecordEntry(course: world.course.id, payload: .timeSpent(lesson: world.course.lessons[index % 9].id, seconds: 1))
            })
            async let first = a.sync()
            async let second = other.sync()
            let reports = try await [first, second]
            #expect(reports.map(\.pushed).reduce(0, +) == count, "\(reports.map(\.pushed))")
            #expect(try await a.pendingCount() == 0)
        }
    }

    /// Rounds are pipelined (the next request leaves before an answer is stored): under lost,
    /// duplicated and reordered exchanges, with events recorded while the sync runs, and after
    /// a sync cancelled midway, every event arrives once.
    @Test(arguments: [11, 12, 13] as [UInt64])
    func pipelinedRoundsLoseNothingUnderFaults(seed: UInt64) async throws {
        print("pipelinedRoundsLoseNothingUnderFaults seed \(seed)")
        let world = world
        try await world.run { client in
            let faults = Faults(dropRequest: 0.15, dropAnswer: 0.15, duplicate: 0.15, reorder: 0.15)
            let faultyA = FaultyTransport(TestClientTransport(client), faults: faults, seed: seed)
            let faultyB = FaultyTransport(TestClientTransport(client), faults: faults, seed: seed + 100)
            let a = LearnSyncClient(
                store: try DeviceStore.inMemory(catalog: world.catalog, clock: world.clock), transport: faultyA,
                retry: RetryPolicy(maxAttempts: 50, baseDelay: .milliseconds(1)), sleep: { _ in })
            let b = LearnSyncClient(
                store: try DeviceStore.inMemory(catalog: world.catalog, clock: world.clock), transport: faultyB,
                retry: RetryPolicy(maxAttempts: 50, baseDelay: .milliseconds(1)), sleep: { _ in })
            try await a.signUp(username: "pipelined", password: "a long password")
            func entries(_ count: Int) -> [RecordEntry] {
                (0..<count).map { RecordEntry(course: world.course.id, payload: .timeSpent(lesson: world.course.lessons[$0 % 9].id, seconds: 1)) }
            }
            // Several batches' worth, so that rounds run ahead of each other.
            let recorded = ProtocolLimits.maxEventsPerRequest * 5 + 200
            try await a.store.record(entries(recorded))
            // A sync cancelled while its rounds are in flight (after its first round) leaves
            // nothing half done.
            let (rounds, roundDone) = AsyncStream.makeStream(of: Void.self)
            let cancelled = Task { try await a.sync(progress: { _ in roundDone.yield() }) }
            for await _ in rounds { break }
            cancelled.cancel()
            _ = try? await cancelled.value
            // Events recorded while a sync runs go in a later round or the next sync.
            async let recording: Void = { for _ in 0..<20 { _ = try await a.store.record(entries(10)) } }()
            let report = try await a.sync()
            try await recording
            try await a.sync()
            // What the cancelled sync left (one or two batches went): still several rounds.
            #expect(report.rounds >= 3)
            #expect(try await a.pendingCount() == 0)
            try await b.signIn(username: "pipelined", password: "a long password")
            try await b.sync()
            #expect(try await b.progress(in: world.course.id).secondsSpent == recorded + 200)
            #expect(try await b.store.events(in: world.course.id).count == recorded + 200)
            #expect(try await Convergence.divergentDevices([a, b]) == [])
            #expect(faultyA.counts.total > 0 && faultyB.counts.total > 0)
        }
    }

    @Test func refusedEventsStayCountedAndAreReported() async throws {
        let world = world
        try await world.run { client in
            let a = try world.device(client)
            try await a.record(.lessonStarted(lesson: world.course.lessons[0].id), in: world.course.id)
            // A newer app: a lesson the server's catalog does not have yet.
            let newer = try CatalogVersions.make(from: world.catalog, count: 2)[1]
            try await a.store.setBundledCatalog(newer)
            try await a.record(.lessonCompleted(lesson: "added-lesson-1"), in: world.course.id)
            let report = try await a.sync()
            #expect(report.rejected == 1)
            let rejected = try await a.rejectedEvents()
            #expect(rejected.map(\.code) == ["unknown-item"] && rejected[0].willRetry)
            #expect(try await a.pendingCount() == 0)
            let progress = try await a.progress(in: world.course.id)
            #expect(progress.status(of: "added-lesson-1") == .completed, "kept and counted on the device")
            #expect(progress.status(of: world.course.lessons[0].id) == .started)
            // The held event exists on this device only: signing out refuses to drop it.
            try await a.signUp(username: "holder", password: "a long password")
            let refusal = await #expect(throws: SyncError.self) { try await a.signOut() }
            #expect(refusal?.code == .notSynced && refusal?.message.contains("1 event is on this device only") == true, "\(String(describing: refusal))")
            #expect(try await a.rejectedEvents().count == 1, "nothing was wiped")
            try await a.signOut(force: true)
            #expect(try await a.rejectedEvents().isEmpty)
        }
    }
}

/// Batches are cut by bytes as well as by count, so large events never meet `413`.
@Suite struct LargeEventTests {
    /// A course whose quiz has 100 questions with 60-character option ids: an attempt is about
    /// 6.5 KB of JSON, so 400 of them are 2.6 MB, more than the 1 MiB body limit.
    static func bigQuizCatalog() throws -> Catalog {
        let long = String(repeating: "x", count: 56)
        let questions = try (0..<100).map { index in
            try Question(
                id: ItemID(validating: "question-\(index)"), prompt: "Question \(index)",
                options: [AnswerOption(id: try ItemID(validating: "a-\(long)"), text: "A"), AnswerOption(id: try ItemID(validating: "b-\(long)"), text: "B")],
                answer: try ItemID(validating: "a-\(long)"))
        }
        let course = try Course(
            id: try CourseID(validating: "long-quiz"), title: "A long quiz",
            lessons: [Lesson(id: try ItemID(validating: "intro"), title: "Intro", body: ["Read."])],
            quizzes: [Quiz(id: try ItemID(validating: "long"), title: "Long", passMark: 50, questions: questions)],
            certificate: CertificateRule(requiredLessons: [try ItemID(validating: "intro")], requiredQuizzes: []))
        return try Catalog([course])
    }

    @Test func aBatchOverTheBodyLimitIsCutToFit() async throws {
        let catalog = try Self.bigQuizCatalog()
        let course = catalog.courses[0], quiz = course.quizzes[0]
        let service = SyncService(store: try SQLiteServerStore(), catalog: catalog, clock: ManualWallClock(), passwordCost: 4)
        try await Application(router: buildRouter(service: service)).test(.router) { client in
            let counted = CountingTransport(TestClientTransport(client))
            let a = LearnSyncClient(store: try DeviceStore.inMemory(catalog: catalog), transport: counted)
            let b = LearnSyncClient(store: try DeviceStore.inMemory(catalog: catalog), transport: TestClientTransport(client))
            try await a.signUp(username: "long-quizzes", password: "a long password")
            let answers = quiz.questions.map(\.answer)
            _ = try await a.record((0..<400).map { _ in RecordEntry(course: course.id, payload: .quizAttempt(quiz: quiz.id, answers: answers)) })
            let report = try await a.sync()
            #expect(report.pushed == 400 && report.rounds >= 3)
            #expect(try await a.pendingCount() == 0)
            try await b.signIn(username: "long-quizzes", password: "a long password")
            try await b.sync()
            #expect(try await b.progress(in: course.id).quizzes[quiz.id]?.attempts == 400)
        }
    }
}
