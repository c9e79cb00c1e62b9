import ArgumentParser
import LearnSync

struct RecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record", abstract: "Record what the learner did, saved on the device at once (offline is fine).",
        subcommands: [Lesson.self, Quiz.self, Scenario.self, Time.self, Reset.self])

    struct Lesson: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A lesson was started or completed.")
        @OptionGroup var device: DeviceOptions
        @Option(help: "The course id.", transform: courseID) var course: CourseID
        @Option(help: "The lesson id.", transform: itemID) var lesson: ItemID
        @Flag(help: "The lesson was opened.") var started = false
        @Flag(help: "The lesson was finished.") var completed = false

        func validate() throws {
            guard started != completed else { throw ValidationError("give exactly one of --started and --completed") }
        }

        func run() async throws {
            try await record(device, course, completed ? .lessonCompleted(lesson: lesson) : .lessonStarted(lesson: lesson))
        }
    }

    struct Quiz: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A quiz attempt: one option id per question, in order.")
        @OptionGroup var device: DeviceOptions
        @Option(help: "The course id.", transform: courseID) var course: CourseID
        @Option(help: "The quiz id.", transform: itemID) var quiz: ItemID
        @Option(help: ArgumentHelp("The chosen option ids, comma-separated, e.g. b,b,a.", valueName: "A1,A2,…"), transform: itemIDs) var answers: [ItemID]

        func run() async throws {
            try await record(device, course, .quizAttempt(quiz: quiz, answers: answers))
        }
    }

    struct Scenario: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A choice in a live scenario.")
        @OptionGroup var device: DeviceOptions
        @Option(help: "The course id.", transform: courseID) var course: CourseID
        @Option(help: "The scenario id.", transform: itemID) var scenario: ItemID
        @Option(help: "The chosen option id.", transform: itemID) var choice: ItemID

        func run() async throws {
            try await record(device, course, .scenarioChoice(scenario: scenario, choice: choice))
        }
    }

    struct Time: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Seconds spent in a lesson.")
        @OptionGroup var device: DeviceOptions
        @Option(help: "The course id.", transform: courseID) var course: CourseID
        @Option(help: "The lesson id.", transform: itemID) var lesson: ItemID
        @Option(help: "Seconds spent (1 to 86400).") var seconds: Int

        func run() async throws {
            try await record(device, course, .timeSpent(lesson: lesson, seconds: seconds))
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Retake a course: hides its earlier progress.")
        @OptionGroup var device: DeviceOptions
        @Option(help: "The course id.", transform: courseID) var course: CourseID

        func run() async throws { try await record(device, course, .courseReset()) }
    }
}

private func record(_ device: DeviceOptions, _ course: CourseID, _ payload: EventPayload) async throws {
    let client = try await device.client()
    let event = try await client.record(payload, in: course)
    print("recorded \(payload.type) as event \(event.id) (pending sync: \(try await client.pendingCount()))")
}
