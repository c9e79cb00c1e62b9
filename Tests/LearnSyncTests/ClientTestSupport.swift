import Foundation
import Hummingbird
import HummingbirdTesting
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncServer
import LearnSyncTesting

/// A server on an in-memory store and devices that reach it in process (no sockets).
struct World: Sendable {
    let catalog: Catalog
    let course: Course
    let clock = ManualWallClock()
    let service: SyncService

    init() throws {
        catalog = try SampleCatalog.load()
        course = catalog[SampleCatalog.courseID]!
        service = SyncService(store: try SQLiteServerStore(), catalog: catalog, clock: clock, passwordCost: 4)
    }

    func run(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await Application(router: buildRouter(service: service)).test(.router) { client in try await body(client) }
    }

    func device(_ transport: any SyncTransport, catalog: Catalog? = nil, clock: (any WallClock)? = nil) throws -> LearnSyncClient {
        device(transport, store: try DeviceStore.inMemory(catalog: catalog ?? self.catalog, clock: clock ?? self.clock))
    }

    func device(_ transport: any SyncTransport, store: DeviceStore) -> LearnSyncClient {
        LearnSyncClient(store: store, transport: transport, retry: RetryPolicy(maxAttempts: 8, baseDelay: .milliseconds(1)), sleep: { _ in })
    }

    func device(_ client: any TestClientProtocol, catalog: Catalog? = nil, clock: (any WallClock)? = nil) throws -> LearnSyncClient {
        try device(TestClientTransport(client), catalog: catalog, clock: clock)
    }
}

extension LearnSyncClient {
    func complete(_ lessons: some Sequence<Lesson>, in course: Course) async throws {
        for lesson in lessons { try await record(.lessonCompleted(lesson: lesson.id), in: course.id) }
    }

    func passQuiz(in course: Course) async throws {
        let quiz = course.quizzes[0]
        try await record(.quizAttempt(quiz: quiz.id, answers: quiz.questions.map(\.answer)), in: course.id)
    }

    func failQuiz(in course: Course) async throws {
        let quiz = course.quizzes[0]
        let wrong = quiz.questions.map { q in q.options.first { $0.id != q.answer }!.id }
        try await record(.quizAttempt(quiz: quiz.id, answers: wrong), in: course.id)
    }
}
