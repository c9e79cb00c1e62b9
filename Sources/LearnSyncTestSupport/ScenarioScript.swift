public import LearnSyncModels

/// A declarative scenario: devices, steps and expectations, read from JSON
/// (`Fixtures/scenarios/*.json`, run by `learnsync scenario run`).
public struct ScenarioScript: Decodable, Sendable {
    public var name: String
    public var description: String?
    /// The course the steps use (default: the sample course).
    public var course: CourseID?
    public var steps: [ScenarioStep]
}

/// One step: an action of a device (or of the server), optionally expecting an error, or an
/// expectation about a device.
public struct ScenarioStep: Decodable, Sendable {
    /// `record`, `sync`, `signup`, `login`, `logout`, `delete-account` (with `password`),
    /// `offline`, `online`, `clock`, `server-clock`, `server-catalog`, `app-catalog`, `backup`,
    /// `restore`, `clone`, `restart-server` or `expect`.
    public var action: String
    public var device: String?
    /// For `clone`: the device copied.
    public var from: String?
    /// For `server-catalog` and `app-catalog`: the catalog version (1 is the sample catalog; each
    /// later one adds a lesson and a question and changes an answer key).
    public var version: Int?
    // record
    public var lesson: ItemID?
    /// `started` or `completed`, with `lesson`.
    public var status: String?
    public var quiz: ItemID?
    /// `correct`, `wrong`, or a list of option ids.
    public var answers: Answers?
    public var scenario: ItemID?
    public var choice: ItemID?
    public var seconds: Int?
    public var reset: Bool?
    // accounts
    public var username: String?
    public var password: String?
    public var force: Bool?
    // clock
    public var offsetMinutes: Int?
    /// The error the action must fail with: a `SyncError` code (`refused`, `notSynced`, …) or a
    /// problem code (`conflict`, `unauthorized`, …).
    public var expectError: String?
    /// For `expect`: what must hold on the device.
    public var expect: Expectation?

    public enum Answers: Decodable, Sendable {
        case correct, wrong
        case list([ItemID])

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let word = try? container.decode(String.self) {
                switch word {
                case "correct": self = .correct
                case "wrong": self = .wrong
                default: throw DecodingError.dataCorruptedError(in: container, debugDescription: "answers: \"correct\", \"wrong\" or a list")
                }
            } else {
                self = .list(try container.decode([ItemID].self))
            }
        }
    }
}

/// What must hold on a device at an `expect` step. Absent fields are not checked.
public struct Expectation: Decodable, Sendable {
    /// Lesson id → `not started`, `started` or `completed`.
    public var lessons: [String: String]?
    public var completedLessons: Int?
    public var quizAttempts: Int?
    public var quizPassed: Bool?
    public var bestScore: Int?
    public var scenarioChoice: ItemID?
    public var secondsSpent: Int?
    public var eventCount: Int?
    /// Whether the current attempt meets the certificate rule.
    public var certificate: Bool?
    /// Whether the certificate was ever earned (a permanent record).
    public var certificateEarned: Bool?
    public var pending: Int?
    public var rejected: Int?
    /// Whether the device's learner is a guest.
    public var guest: Bool?
    /// Another device whose progress must be identical.
    public var sameAs: String?
}
