import Foundation
import LearnSync
import LearnSyncTesting
import Testing

/// The README's library example and the DocC getting-started guide, run against the sample
/// course and a real server: each line of their Swift blocks is in this file (checked), in the
/// order they run.
@Suite struct DocumentationExampleTests {
    /// What the examples name and an app would provide: the bundled courses, a folder for the
    /// store, the server, a password and a view to render into.
    struct AppContext {
        let coursesFolder: URL
        let documents: URL
        let server: EmbeddedServer
        var serverURL: URL { server.url }
        var databasePath: String { documents.appendingPathComponent("readme.sqlite").path }

        static func make() async throws -> AppContext {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("docs-example-\(UUID().uuidString)")
            let courses = root.appendingPathComponent("courses"), documents = root.appendingPathComponent("documents")
            try FileManager.default.createDirectory(at: courses, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: documents, withIntermediateDirectories: true)
            try SampleCatalog.courseJSON.write(to: courses.appendingPathComponent("customer-privacy.json"))
            let server = try await EmbeddedServer.start(
                databasePath: root.appendingPathComponent("server.sqlite").path, catalog: try SampleCatalog.load(), passwordCost: 4)
            return AppContext(coursesFolder: courses, documents: documents, server: server)
        }

        func finish() async {
            await server.stop()
            try? FileManager.default.removeItem(at: coursesFolder.deletingLastPathComponent())
        }
    }

    /// Records what the examples render, and says when they first did.
    final class Screen: Sendable {
        let rendered = AsyncStream<Void>.makeStream()
        func render(_ progress: CourseProgress) { rendered.continuation.yield() }
        func render(_ status: LessonStatus, _ passed: Bool?) { rendered.continuation.yield() }
        func showProgress(_ pushed: Int, _ pulled: Int) {}
    }

    @Test func theReadmeExampleRuns() async throws {
        let app = try await AppContext.make()
        let (coursesFolder, databasePath, serverURL, password) = (app.coursesFolder, app.databasePath, app.serverURL, "a long password")
        let screen = Screen()
        @Sendable func render(_ progress: CourseProgress) { screen.render(progress) }

        let catalog = try Catalog.load(from: coursesFolder)
        let client = try await LearnSyncClient(path: databasePath, catalog: catalog, server: serverURL)

        // Saved on the device at once, offline or not.
        try await client.record(.lessonCompleted(lesson: "keep-secure"), in: "customer-privacy")
        // One chosen option id per question, in the quiz's order (here: the answer key).
        let answers = catalog["customer-privacy"]!.quizzes[0].questions.map(\.answer)
        try await client.record(.quizAttempt(quiz: "privacy-quiz", answers: answers), in: "customer-privacy")

        // Read (one row, no log replay) or observe progress.
        let progress = try await client.progress(in: "customer-privacy")
        let observing = Task {
            for try await progress in client.observeProgress(in: "customer-privacy") { render(progress) }
        }
        var rendered = screen.rendered.stream.makeAsyncIterator()
        _ = await rendered.next()
        observing.cancel()
        #expect(progress.quizzes["privacy-quiz"]?.passed == true)

        // Sync when online (retries, Retry-After and a guest's token renewal are handled; a request
        // ends within 30 s and a sync within 2 minutes whatever the server does: URLSessionTransport's
        // timeout, RetryPolicy's deadline); sign up or in to attach the guest's progress to an account.
        try await client.sync { running in print("pushed \(running.pushed), pulled \(running.pulled)") }
        try await client.signUp(username: "thandi", password: password)
        do {
            // The README's sign-in, from a second device of the same learner.
            let client = try await LearnSyncClient(path: databasePath + "-tablet", catalog: catalog, server: serverURL)
            try await client.signIn(username: "thandi", password: password)
            #expect(try await client.progress(in: "customer-privacy") == (try await LearnSyncClient(
                path: databasePath, catalog: catalog, server: serverURL).progress(in: "customer-privacy")))
        }
        await app.finish()
    }

    @Test func theGettingStartedGuideRuns() async throws {
        let app = try await AppContext.make()
        let (coursesFolder, documents, serverURL, password) = (app.coursesFolder, app.documents, app.serverURL, "a long password")
        let screen = Screen()
        @Sendable func render(_ status: LessonStatus, _ passed: Bool?) { screen.render(status, passed) }
        @Sendable func showProgress(_ pushed: Int, _ pulled: Int) { screen.showProgress(pushed, pulled) }

        // Open a client
        let catalog = try Catalog.load(from: coursesFolder)
        let client = try await LearnSyncClient(
            path: documents.appendingPathComponent("learnsync.sqlite").path,
            catalog: catalog,
            server: serverURL)

        // Record
        try await client.record(.lessonStarted(lesson: "keep-secure"), in: "customer-privacy")
        try await client.record(.lessonCompleted(lesson: "keep-secure"), in: "customer-privacy")
        // One chosen option id per question, in the quiz's order (here: the answer key).
        let chosen = catalog["customer-privacy"]!.quizzes[0].questions.map(\.answer)
        try await client.record(.quizAttempt(quiz: "privacy-quiz", answers: chosen, version: 1), in: "customer-privacy")

        // Observe
        let observing = Task {
            for try await progress in client.observeProgress(in: "customer-privacy") {
                render(progress.status(of: "keep-secure"), progress.quizzes["privacy-quiz"]?.passed)
            }
        }
        var rendered = screen.rendered.stream.makeAsyncIterator()
        _ = await rendered.next()
        observing.cancel()
        let certificate = try await client.certificate(in: "customer-privacy")
        #expect(!certificate.isEarned, "one lesson of nine")

        // Sync
        let report = try await client.sync { running in showProgress(running.pushed, running.pulled) }
        #expect(report.pushed == 3)

        // Live sync
        try client.startSync()      // once, when the app starts or comes to the foreground
        #expect(try await eventually(timeout: .seconds(30)) { client.liveSyncStatus.connection == .connected })
        await client.stopSync()     // when it goes to the background
        #expect(client.liveSyncStatus.connection == .stopped)

        // Sign in
        try await client.signUp(username: "thandi", password: password)   // or
        do {
            let client = try await LearnSyncClient(path: documents.appendingPathComponent("tablet.sqlite").path, catalog: catalog, server: serverURL)
            try await client.signIn(username: "thandi", password: password)
            #expect(try await client.events(in: "customer-privacy").count == 3)
        }
        await app.finish()
    }

    /// Every line of the README's library example and of the guide's Swift blocks is in this
    /// file: an example that changes without its test fails here.
    @Test(arguments: ["README.md", "Sources/LearnSync/LearnSync.docc/GettingStarted.md"])
    func everyExampleLineRunsHere(_ document: String) throws {
        let text = try String(contentsOf: Fixtures.repository.appendingPathComponent(document), encoding: .utf8)
        let this = try String(contentsOfFile: #filePath, encoding: .utf8)
        var blocks = text.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "\n```")[0] }
        // The README's other Swift block is the package manifest line, run by ClientOnlyPackageTests.
        if document == "README.md" { blocks = blocks.filter { $0.contains("LearnSyncClient(") } }
        // A SwiftUI view builds on Apple platforms only; the model it reads is run by
        // LiveSyncTests.theModelFollowsTheStatusForAView.
        blocks = blocks.filter { !$0.contains("import SwiftUI") }
        #expect(!blocks.isEmpty)
        for line in blocks.flatMap({ $0.split(separator: "\n") }) {
            let code = line.trimmingCharacters(in: .whitespaces)
            guard !code.isEmpty, code != "import LearnSync" else { continue }
            #expect(this.contains(code), "\(document): not run by DocumentationExampleTests: \(code)")
        }
    }
}
