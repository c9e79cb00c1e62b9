import ArgumentParser
import Foundation
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Watch a guest's offline progress attach to an account that already has progress.",
        discussion: """
            Starts an embedded server on a free loopback port and two devices in a temporary folder: \
            a phone studying as a guest, offline, and a tablet signed in to an account with progress. \
            The guest then signs in, and both devices show the merged progress. Exits non-zero if \
            the two devices differ.
            """)

    @OptionGroup var catalog: CatalogOptions

    func run() async throws {
        let catalog = try catalog.load()
        guard let course = catalog.courses.first, let quiz = course.quizzes.first else {
            throw ValidationError("the demo needs a course with a quiz")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let server = try await EmbeddedServer.start(databasePath: folder.appendingPathComponent("server.sqlite").path, catalog: catalog)
        let url = server.url
        step("Server", "embedded LearnSync server on \(url) (SQLite in a temporary folder)")

        let phone = try await LearnSyncClient(path: folder.appendingPathComponent("phone.sqlite").path, catalog: catalog, server: url)
        let tablet = try await LearnSyncClient(path: folder.appendingPathComponent("tablet.sqlite").path, catalog: catalog, server: url)
        let lessons = course.lessons
        let half = lessons.count / 2

        step("Tablet", "signs up as 'demo-learner' and studies lessons \(half + 1)-\(lessons.count), passes the quiz")
        try await tablet.signUp(username: "demo-learner", password: "demo password 1234")
        for lesson in lessons[half...] { try await tablet.record(.lessonCompleted(lesson: lesson.id), in: course.id) }
        try await tablet.record(.quizAttempt(quiz: quiz.id, answers: quiz.questions.map(\.answer)), in: course.id)
        try await tablet.sync()

        step("Phone", "a guest, offline: lessons 1-\(half), a failed quiz attempt, a scenario choice, 7 minutes of reading")
        for lesson in lessons[..<half] {
            try await phone.record(.lessonStarted(lesson: lesson.id), in: course.id)
            try await phone.record(.lessonCompleted(lesson: lesson.id), in: course.id)
        }
        try await phone.record(.timeSpent(lesson: lessons[0].id, seconds: 420), in: course.id)
        let wrong = quiz.questions.map { question in question.options.first { $0.id != question.answer }?.id ?? question.answer }
        try await phone.record(.quizAttempt(quiz: quiz.id, answers: wrong), in: course.id)
        if let scenario = course.scenarios.first, let choice = scenario.options.first {
            try await phone.record(.scenarioChoice(scenario: scenario.id, choice: choice.id), in: course.id)
        }
        print("  phone as guest \(try await phone.identity().learner): \(try await phone.pendingCount()) events waiting to sync")

        step("Phone", "signs in to 'demo-learner': its guest progress attaches to the account")
        try await phone.signIn(username: "demo-learner", password: "demo password 1234")
        try await tablet.sync()

        let phoneProgress = try await phone.progress(in: course.id)
        let tabletProgress = try await tablet.progress(in: course.id)
        step("Phone", "merged progress")
        print(Output.describe(phoneProgress, course: course))
        step("Tablet", "merged progress")
        print(Output.describe(tabletProgress, course: course))

        let graded = try await phone.serverProgress().courses.first { $0.progress.course == course.id }
        await server.stop()
        let attempts = phoneProgress.quizzes[quiz.id]?.attempts ?? 0
        print("")
        guard phoneProgress == tabletProgress else {
            print("DIVERGED: the two devices show different progress")
            throw ExitCode.failure
        }
        guard graded?.progress == phoneProgress else {
            print("DIVERGED: the server's own grading differs from the devices'")
            throw ExitCode.failure
        }
        print("CONVERGED: both devices show \(phoneProgress.eventCount) events, \(attempts) quiz attempts kept, certificate \(phoneProgress.certificate(for: course).isEarned ? "earned" : "not yet earned"), and the server grades the same")
    }

    private func step(_ who: String, _ what: String) {
        print("\n== \(who): \(what)")
    }
}
