public import Foundation
public import LearnSyncModels

/// A declarative scenario: devices, steps and expectations, read from JSON
/// (`Sources/LearnSyncTesting/Scenarios/*.json`, run by `learnsync scenario run`).
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
    /// `restore`, `clone`, `restart-server`, `sweep` (the server's retention sweep),
    /// `backup-server`, `restore-server`, `live-start`, `live-stop` (the device's live sync) or
    /// `expect`.
    public var action: String
    public var device: String?
    /// For `clone`: the device copied.
    public var from: String?
    /// For `server-catalog` and `app-catalog`: the catalog version (1 is the sample catalog; each
    /// later one adds a lesson and a question and changes an answer key; version 2 also requires
    /// its added lesson for the certificate, version 3 drops the first required lesson).
    public var version: Int?
    /// For `server-catalog` and `app-catalog`: only the newest version of the course (an app
    /// or a catalog folder that no longer ships the older ones).
    public var newestOnly: Bool?
    /// For `server-catalog` and `app-catalog`: the version's first answer key changed without a
    /// new version number.
    public var corrected: Bool?
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
    /// For `logout`: revoke every token of the account.
    public var everywhere: Bool?
    // clock
    public var offsetMinutes: Int?
    /// The error the action must fail with: a `SyncError` code (`refused`, `notSynced`, …), a
    /// problem code (`conflict`, `unauthorized`, …), or `catalog-conflict` for a
    /// `server-catalog` the server refuses.
    public var expectError: String?
    /// For `expect`: what must hold on the device.
    public var expect: Expectation?
    /// For `expect`: how long, in milliseconds, the expectation may take to hold (checked again
    /// every 10 ms), as a live device's arrivals need; absent, it must hold at once.
    public var within: Int?

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
    /// How many course versions the server serves with other content than the device's app.
    public var catalogConflicts: Int?
    /// Another device whose progress must be identical.
    public var sameAs: String?
}

/// Why a scenario file cannot be run, naming the step and the field.
public struct ScenarioFormatError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

extension ScenarioScript {
    /// The most a clock step may move a clock: 100 years, in minutes.
    public static let maxOffsetMinutes = 100 * 525_960
    /// The longest an expect step may wait for its expectation: one minute.
    public static let maxWithinMilliseconds = 60_000

    /// Reads a scenario, refusing any key it does not know (a typo such as `quizzPassed` would
    /// otherwise check nothing and pass), a step that mixes two kinds of records, an `expect`
    /// outside an `expect` step, a clock step without its offset or beyond 100 years, and a
    /// script without steps.
    /// - Throws: ``ScenarioFormatError`` naming the step and the field.
    public static func read(_ data: Data) throws -> ScenarioScript {
        let script: ScenarioScript
        do {
            script = try JSONDecoder().decode(ScenarioScript.self, from: data)
        } catch let error as DecodingError {
            throw ScenarioFormatError(describe(error))
        }
        let known = (
            script: Set(["name", "description", "course", "steps"]),
            step: try keys(of: JSONDecoder().decode(ScenarioStep.self, from: Data(#"{"action": ""}"#.utf8))),
            expect: try keys(of: JSONDecoder().decode(Expectation.self, from: Data("{}".utf8))))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { return script }
        if let key = object.keys.sorted().first(where: { !known.script.contains($0) }) {
            throw ScenarioFormatError("unknown key \"\(key)\" in the scenario\(suggestion(for: key, among: known.script))")
        }
        guard !script.steps.isEmpty else { throw ScenarioFormatError("the scenario has no steps") }
        for (index, step) in (object["steps"] as? [[String: Any]] ?? []).enumerated() {
            if let key = step.keys.sorted().first(where: { !known.step.contains($0) }) {
                throw ScenarioFormatError("step \(index + 1): unknown key \"\(key)\"\(suggestion(for: key, among: known.step))")
            }
            if let expect = step["expect"] as? [String: Any], let key = expect.keys.sorted().first(where: { !known.expect.contains($0) }) {
                throw ScenarioFormatError("step \(index + 1): unknown expectation \"\(key)\"\(suggestion(for: key, among: known.expect))")
            }
            let action = step["action"] as? String ?? ""
            if let allowed = ScenarioStep.fields[action],
               let key = step.keys.sorted().first(where: { $0 != "action" && $0 != "expectError" && !allowed.contains($0) }) {
                throw ScenarioFormatError("step \(index + 1) (\(action)): `\(key)` does not belong to this action, which takes \(allowed.isEmpty ? "no field" : allowed.sorted().map { "`\($0)`" }.joined(separator: ", "))")
            }
            let expect = step["expect"] as? [String: Any]
            for (key, value) in step.merging(expect ?? [:], uniquingKeysWith: { first, _ in first }) where value is NSNull {
                throw ScenarioFormatError("step \(index + 1): `\(key)` is null; leave a field out to leave it unchecked")
            }
            if let expect, expect.isEmpty || (expect["lessons"] as? [String: Any])?.isEmpty == true {
                throw ScenarioFormatError("step \(index + 1) (expect): it checks nothing")
            }
        }
        for (index, step) in script.steps.enumerated() {
            if let problem = step.problem { throw ScenarioFormatError("step \(index + 1) (\(step.action)): \(problem)") }
        }
        return script
    }

    /// A decoding failure in words: which field, where.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "step \($0 + 1)" } ?? $0.stringValue }.joined(separator: " ")
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context).isEmpty ? "the scenario" : path(context)): missing \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "\(path(context)): \(context.debugDescription)"
        case .dataCorrupted(let context): return path(context).isEmpty ? "not JSON: \(context.debugDescription)" : "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// ` (did you mean "x"?)` for the known word closest to `word`, if one is close (at most two
    /// letters changed, added or removed); otherwise the empty string.
    package static func suggestion(for word: String, among known: some Collection<String>) -> String {
        let scored = known.map { (word: $0, distance: editDistance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { ($0.distance, $0.word) < ($1.distance, $1.word) }), best.distance <= 2 else { return "" }
        return " (did you mean \"\(best.word)\"?)"
    }

    /// Levenshtein distance, for short words only (keys, actions, values).
    private static func editDistance(_ a: String, _ b: String) -> Int {
        let (a, b) = (Array(a.prefix(64)), Array(b.prefix(64)))
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// The JSON keys of a decodable value: its stored properties' names.
    private static func keys(of value: Any) -> Set<String> {
        Set(Mirror(reflecting: value).children.compactMap(\.label))
    }
}

extension ScenarioStep {
    /// The fields each action takes besides `action` and `expectError`: a field another action
    /// takes is refused rather than ignored.
    static let fields: [String: Set<String>] = {
        let device: Set<String> = ["device"]
        var fields: [String: Set<String>] = [
            "record": device.union(["lesson", "status", "quiz", "answers", "scenario", "choice", "seconds", "reset"]),
            "signup": device.union(["username", "password"]), "login": device.union(["username", "password"]),
            "logout": device.union(["force", "everywhere"]), "delete-account": device.union(["password"]),
            "clock": device.union(["offsetMinutes"]), "server-clock": ["offsetMinutes"],
            "app-catalog": device.union(["version", "newestOnly", "corrected"]), "server-catalog": ["version", "newestOnly", "corrected"],
            "clone": device.union(["from"]), "expect": device.union(["expect", "within"]),
        ]
        for action in ["sync", "offline", "online", "backup", "restore", "live-start", "live-stop"] { fields[action] = device }
        for action in ["restart-server", "sweep", "backup-server", "restore-server"] { fields[action] = [] }
        return fields
    }()

    /// Every action a step can take (docs/SCENARIOS.md has each with an example).
    public static var actions: [String] { fields.keys.sorted() }

    /// A lesson's `status` in a record step.
    public static let recordedStatuses = ["started", "completed"]
    /// A lesson's status in an expectation's `lessons`.
    public static let lessonStatuses = ["not started", "started", "completed"]

    /// What makes this step unknown, ambiguous or out of bounds, if anything.
    package var problem: String? {
        guard Self.actions.contains(action) else {
            return "unknown action \"\(action)\"\(ScenarioScript.suggestion(for: action, among: Self.actions))"
        }
        if expect != nil, action != "expect" { return "`expect` belongs to an expect step" }
        if action == "expect", expect == nil { return "an expect step needs `expect`" }
        if action == "expect", expectError != nil { return "an expect step checks a device; `expectError` belongs to an action" }
        if let device, device.isEmpty || device.trimmingCharacters(in: .whitespaces) != device {
            return "a device's name is not empty and has no spaces around it: \"\(device)\""
        }
        for (lesson, status) in (expect?.lessons ?? [:]).sorted(by: { $0.key < $1.key }) where !Self.lessonStatuses.contains(status) {
            return "lesson \(lesson) is expected \"not started\", \"started\" or \"completed\", not \"\(status)\"\(ScenarioScript.suggestion(for: status, among: Self.lessonStatuses))"
        }
        if action == "record" {
            let kinds = [reset == true, quiz != nil, scenario != nil || choice != nil, lesson != nil].filter { $0 }.count
            if kinds != 1 { return "a record step records one thing: a lesson, a quiz, a scenario choice or a reset" }
            if seconds != nil, status != nil { return "a lesson's `status` and `seconds` are two records" }
            if lesson != nil, seconds == nil, status == nil { return "a lesson needs `status` (\"started\" or \"completed\") or `seconds`" }
            if let status, !Self.recordedStatuses.contains(status) {
                return "a lesson's `status` is \"started\" or \"completed\", not \"\(status)\"\(ScenarioScript.suggestion(for: status, among: Self.recordedStatuses))"
            }
            if quiz != nil, answers == nil { return "a quiz needs `answers`" }
        }
        if let within, !(1...ScenarioScript.maxWithinMilliseconds).contains(within) {
            return "`within` is 1 to \(ScenarioScript.maxWithinMilliseconds) milliseconds"
        }
        if action == "clock" || action == "server-clock" {
            guard let offsetMinutes else { return "needs `offsetMinutes`" }
            guard abs(offsetMinutes) <= ScenarioScript.maxOffsetMinutes else {
                return "`offsetMinutes` is at most \(ScenarioScript.maxOffsetMinutes) (100 years) either way"
            }
        }
        return nil
    }
}
