import Foundation
import LearnSync
import Testing

/// The public API as an app meets it: this target imports `LearnSync` only, with member import
/// visibility on, so anything the getting-started path needs and `LearnSync` does not export
/// fails to compile here.
@Suite struct GettingStartedTests {
    static let courseJSON = #"""
    {"id": "first-aid", "title": "First aid", "summary": "The basics.", "version": 1,
     "lessons": [{"id": "burns", "title": "Burns", "body": ["Cool the burn."]},
                 {"id": "cuts", "title": "Cuts", "body": ["Press on the wound."]}],
     "quizzes": [{"id": "check", "title": "Check", "passMark": 50,
                  "questions": [{"id": "q1", "prompt": "Cool a burn with?",
                                 "options": [{"id": "a", "text": "Water"}, {"id": "b", "text": "Butter"}], "answer": "a"}]}],
     "scenarios": [],
     "certificate": {"requiredLessons": ["burns", "cuts"], "requiredQuizzes": ["check"]}}
    """#

    func catalog() throws -> Catalog {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("getting-started-\(UUID().uuidString).json")
        try Data(Self.courseJSON.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try Catalog.load(from: file)
    }

    @Test func recordObserveAndEarnOffline() async throws {
        let client = LearnSyncClient(store: try DeviceStore.inMemory(catalog: catalog()), transport: nil)
        let course: CourseID = "first-aid"
        var updates = client.observeProgress(in: course).makeAsyncIterator()
        #expect(try await updates.next()?.eventCount == 0)

        try await client.record(.lessonCompleted(lesson: "burns"), in: course)
        #expect(try await updates.next()?.status(of: "burns") == .completed)
        try await client.record([RecordEntry(course: course, payload: .lessonCompleted(lesson: "cuts"))])
        let attempt: ProgressEvent = try await client.record(.quizAttempt(quiz: "check", answers: ["a"], version: 1), in: course)
        #expect(attempt.id.seq == 3)

        let progress: CourseProgress = try await client.progress(in: course)
        #expect(progress.quizzes["check"]?.passed == true)
        let certificate: CertificateStatus = try await client.certificate(in: course)
        #expect(certificate.isEarned)
        #expect(try await client.pendingCount() == 3)
        #expect(try await client.events(in: course).count == 3)
        #expect(try await client.identity().learner.isGuest)
    }

    @Test func errorsAreTheDocumentedTypes() async throws {
        let client = LearnSyncClient(store: try DeviceStore.inMemory(catalog: catalog()), transport: nil)
        await #expect(throws: StorageError.self) { try await client.record(.lessonStarted(lesson: "nope"), in: "first-aid") }
        do {
            try await client.sync()
            Issue.record("sync without a server must throw")
        } catch let error as SyncError {
            #expect(error.code == .noServer)
        }
    }
}
