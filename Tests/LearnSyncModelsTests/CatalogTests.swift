import Foundation
import LearnSyncModels
import LearnSyncTestSupport
import Testing

@Suite struct CatalogTests {
    let catalog: Catalog
    init() throws { catalog = try SampleCatalog.load() }

    @Test func sampleCourseHasTheRequiredShape() throws {
        let course = try #require(catalog[SampleCatalog.courseID])
        #expect(course.lessons.count >= 8)
        let quiz = try #require(course.quizzes.first)
        #expect(quiz.questions.count >= 8)
        #expect((1...100).contains(quiz.passMark))
        let scenario = try #require(course.scenarios.first)
        #expect(scenario.options.count >= 4)
        #expect(scenario.situation.contains("sales consultant at a retail store"))
    }

    @Test func gradesQuizAttemptsFromTheAnswerKey() throws {
        let quiz = try #require(catalog[SampleCatalog.courseID]?.quizzes.first)
        let perfect = quiz.questions.map(\.answer)
        #expect(quiz.score(perfect) == quiz.questions.count)
        #expect(quiz.passes(score: quiz.questions.count))
        let wrong = quiz.questions.map { q in q.options.first { $0.id != q.answer }!.id }
        #expect(quiz.score(wrong) == 0)
        #expect(!quiz.passes(score: 0))
    }

    @Test func rejectsEventsForUnknownItems() throws {
        let course = try #require(catalog[SampleCatalog.courseID])
        let quiz = try #require(course.quizzes.first)
        let bad: [EventPayload] = [
            .lessonCompleted(lesson: "no-such-lesson"),
            .quizAttempt(quiz: "no-such-quiz", answers: ["a"]),
            .quizAttempt(quiz: quiz.id, answers: ["a"]),
            .quizAttempt(quiz: quiz.id, answers: quiz.questions.map { _ in "zzz" }),
            .scenarioChoice(scenario: "retail-transaction", choice: "no-such-choice"),
            .scenarioChoice(scenario: "no-such-scenario", choice: "a"),
        ]
        for payload in bad {
            #expect(throws: ModelError.self) { try course.validate(payload) }
        }
        let event = try ProgressEvent(
            id: EventID(replica: .random(), seq: 1), learner: .newGuest(), timestamp: HLCTimestamp(rawValue: 1),
            course: "other-course", payload: .courseReset())
        #expect(throws: ModelError.self) { try catalog.validate(event) }
    }

    @Test func rejectsInconsistentCourses() {
        let lesson = Lesson(id: "l1", title: "L", body: [])
        #expect(throws: ModelError.self) {
            try Course(id: "c", title: "C", lessons: [lesson, lesson], certificate: .init(requiredLessons: [], requiredQuizzes: []))
        }
        #expect(throws: ModelError.self) {
            try Course(id: "c", title: "C", lessons: [lesson], certificate: .init(requiredLessons: ["l2"], requiredQuizzes: []))
        }
        let badQuiz = Quiz(id: "q", title: "Q", passMark: 50, questions: [
            Question(id: "q1", prompt: "?", options: [AnswerOption(id: "a", text: "A")], answer: "b"),
        ])
        #expect(throws: ModelError.self) {
            try Course(id: "c", title: "C", lessons: [lesson], quizzes: [badQuiz], certificate: .init(requiredLessons: [], requiredQuizzes: []))
        }
        let repeatedOption = Quiz(id: "q", title: "Q", passMark: 50, questions: [
            Question(id: "q1", prompt: "?", options: [AnswerOption(id: "a", text: "A"), AnswerOption(id: "a", text: "A again")], answer: "a"),
        ])
        let repeated = #expect(throws: ModelError.self) {
            try Course(id: "c", title: "C", lessons: [lesson], quizzes: [repeatedOption], certificate: .init(requiredLessons: [], requiredQuizzes: []))
        }
        #expect(repeated?.message == "question q1 repeats an option id")
    }

    @Test func aCatalogWithNoCourseIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("empty-catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try SampleCatalog.courseJSON.write(to: folder.appendingPathComponent(".hidden.json"))
        #expect(throws: ModelError.self, "an empty folder, hidden files left out") { try Catalog.load(from: folder) }
        try Data("[]".utf8).write(to: folder.appendingPathComponent("none.json"))
        #expect(throws: ModelError.self, "an empty list") { try Catalog.load(from: folder) }
    }
}
