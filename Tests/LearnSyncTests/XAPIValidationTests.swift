import Foundation
import LearnSyncProtocol
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncStorage
import LearnSyncServer
import LearnSyncTesting
import Testing

/// The xAPI export, checked by real validators (`Tools/xapi-validate.py`: the JSON schema of
/// ralph's xAPI statement model with `jsonschema`, and ralph's model itself), installed into
/// `.venv` by `Tools/setup`. Skipped only with `LEARNSYNC_SKIP_XAPI_VALIDATION=1`.
@Suite(.disabled(if: ProcessInfo.processInfo.environment["LEARNSYNC_SKIP_XAPI_VALIDATION"] == "1", "LEARNSYNC_SKIP_XAPI_VALIDATION=1"))
struct XAPIValidationTests {
    static let root = Fixtures.repository

    /// Runs the validators on `statements`; returns their report, failing the test on any failure.
    static func validate(_ statements: [XAPIStatement], label: String) async throws {
        let python = ProcessInfo.processInfo.environment["LEARNSYNC_PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path
        try #require(FileManager.default.isExecutableFile(atPath: python), "run Tools/setup to install the xAPI validators into .venv")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("xapi-\(UUID().uuidString)")
        try WireCoding.encode(XAPIStatementResult(statements: statements)).write(to: file.appendingPathExtension("json"))
        defer {
            for ext in ["json", "out", "err"] { try? FileManager.default.removeItem(at: file.appendingPathExtension(ext)) }
        }
        let child = try ChildProcess(
            [python, root.appendingPathComponent("Tools/xapi-validate.py").path, file.appendingPathExtension("json").path],
            outputPath: file.appendingPathExtension("out").path, errorPath: file.appendingPathExtension("err").path)
        let code = try await child.exitCode()
        let report = child.output + child.errors
        print("xAPI \(label): \(report.split(separator: "\n").last ?? "")")
        #expect(code == 0, "\(label): \(report)")
    }

    @Test func everyKindOfStatementValidates() async throws {
        let world = try World()
        try await world.run { client in
            let phone = try world.device(client)
            let course = world.course
            try await phone.record(.lessonStarted(lesson: "keep-secure"), in: course.id)
            try await phone.record(.timeSpent(lesson: "keep-secure", seconds: 95), in: course.id)
            try await phone.record(.resumePosition(lesson: "keep-secure", offset: 1200), in: course.id)
            try await phone.record(.scenarioChoice(scenario: "retail-transaction", choice: "step-aside"), in: course.id)
            try await phone.failQuiz(in: course)
            try await phone.complete(course.lessons, in: course)
            try await phone.passQuiz(in: course)
            try await phone.record(.courseReset(), in: course.id)
            try await phone.signUp(username: "xapi-learner", password: "a long password")

            let server = try await phone.serverStatements().statements
            let verbs = Set(server.map { $0.verb.id.split(separator: "/").last.map(String.init) ?? "" })
            #expect(verbs == ["initialized", "experienced", "suspended", "answered", "failed", "completed", "passed"])
            #expect(server.contains { $0.object.definition.type.hasSuffix("/course") && $0.result?.success == true }, "the certificate")
            try await Self.validate(server, label: "server export")

            let document = try await phone.exportData()
            let device = XAPIExport.statements(of: document, catalog: phone.catalog, homePage: "https://learn.example.com/")
            #expect(device.count == server.count)
            #expect(Set(device.map(\.id)) == Set(XAPIExport.statements(of: document, catalog: phone.catalog, homePage: "https://learn.example.com").map(\.id)))
            try await Self.validate(device, label: "device export")
        }
    }

    @Test func anAttemptUnderAnUnknownVersionIsAttemptedWithoutAScore() async throws {
        let catalog = try SampleCatalog.load()
        let learner = LearnerID.newGuest()
        let event = try ProgressEvent(
            id: EventID(replica: .random(), seq: 1), learner: learner, timestamp: HLCTimestamp(physicalMilliseconds: 1_790_000_000_123),
            course: SampleCatalog.courseID, payload: .quizAttempt(quiz: "privacy-quiz", answers: ["a"], version: 99))
        let document = ExportDocument(
            source: .device, exportedAt: 0, learner: .init(id: learner), guests: [], sessions: [], events: [event], progress: [])
        let statements = XAPIExport.statements(of: document, catalog: catalog, homePage: "http://127.0.0.1:8080")
        #expect(statements.map(\.verb.id) == ["http://adlnet.gov/expapi/verbs/attempted"])
        #expect(statements.first?.result == nil && statements.first?.timestamp == "2026-09-21T14:13:20.123Z")
        try await Self.validate(statements, label: "unknown version")
    }
}

@Suite struct XAPIFormattingTests {
    @Test func timestampsMatchFoundationsISO8601() throws {
        let seed = ProcessInfo.processInfo.environment["LEARNSYNC_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        print("XAPIFormattingTests seed \(seed) (replay with LEARNSYNC_SEED=\(seed))")
        var random = SeededGenerator(seed: seed)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        for _ in 0..<2_000 {
            let milliseconds = Int64.random(in: -2_000_000_000_000...8_000_000_000_000, using: &random)
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            #expect(XAPIExport.timestamp(milliseconds) == expected, "\(milliseconds)")
        }
    }

    @Test func statementIdsAreStableVersion8UUIDs() {
        let id = XAPIExport.uuid(name: "g-learner|replica|1")
        #expect(id == XAPIExport.uuid(name: "g-learner|replica|1"))
        #expect(id != XAPIExport.uuid(name: "g-learner|replica|2"))
        #expect(UUID(uuidString: id) != nil)
        let characters = Array(id)
        #expect(characters[14] == "8" && "89ab".contains(characters[19]))
    }
}
