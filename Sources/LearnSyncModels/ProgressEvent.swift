/// What a learner did. Events are immutable; progress is derived from the set of them.
public enum EventPayload: Hashable, Sendable {
    /// The learner opened a lesson.
    case lessonStarted(lesson: ItemID)
    /// The learner finished a lesson.
    case lessonCompleted(lesson: ItemID)
    /// One attempt at a quiz: the chosen option for each question, in question order, and the
    /// course version it was answered under, which grades it forever. `version` 0 asks the
    /// device store to stamp the course's current version when it records the attempt.
    case quizAttempt(quiz: ItemID, answers: [ItemID], version: Int = 0)
    /// The learner's choice in a live scenario.
    case scenarioChoice(scenario: ItemID, choice: ItemID)
    /// Seconds spent in a lesson (1 to ``ProgressEvent/maxSeconds`` per event).
    case timeSpent(lesson: ItemID, seconds: Int)
    /// Where the learner stopped reading a lesson (0 to ``ProgressEvent/maxOffset``).
    case resumePosition(lesson: ItemID, offset: Int)
    /// "Retake": hides the learner's events of this course that the recording device held
    /// (observed-remove); work it had not seen survives. The device store fills `seen` when it
    /// records the reset.
    case courseReset(seen: SeenEvents = SeenEvents())

    /// The wire name of the payload's kind, as in `docs/PROTOCOL.md`.
    public var type: String {
        switch self {
        case .lessonStarted: "lesson.started"
        case .lessonCompleted: "lesson.completed"
        case .quizAttempt: "quiz.attempt"
        case .scenarioChoice: "scenario.choice"
        case .timeSpent: "time.spent"
        case .resumePosition: "resume"
        case .courseReset: "course.reset"
        }
    }

    /// The lesson, quiz or scenario the payload is about (nil for a reset).
    public var item: ItemID? {
        switch self {
        case .lessonStarted(let id), .lessonCompleted(let id), .quizAttempt(let id, _, _),
             .scenarioChoice(let id, _), .timeSpent(let id, _), .resumePosition(let id, _):
            id
        case .courseReset:
            nil
        }
    }

    /// Checks the payload's numbers and list sizes.
    public func validate() throws(ModelError) {
        switch self {
        case .timeSpent(_, let seconds):
            guard (1...ProgressEvent.maxSeconds).contains(seconds) else {
                throw ModelError(.outOfRange, "seconds must be 1 to \(ProgressEvent.maxSeconds)")
            }
        case .resumePosition(_, let offset):
            guard (0...ProgressEvent.maxOffset).contains(offset) else {
                throw ModelError(.outOfRange, "offset must be 0 to \(ProgressEvent.maxOffset)")
            }
        case .quizAttempt(_, let answers, let version):
            guard (1...ProgressEvent.maxAnswers).contains(answers.count) else {
                throw ModelError(.outOfRange, "a quiz attempt holds 1 to \(ProgressEvent.maxAnswers) answers")
            }
            guard version >= 0 else { throw ModelError(.outOfRange, "a quiz attempt's version must be positive") }
        case .lessonStarted, .lessonCompleted, .scenarioChoice, .courseReset:
            break
        }
    }
}

/// The order in which events win: by hybrid logical time, then replica, then counter.
/// Last-writer-wins rules compare these keys (resets do not: they hide what they saw).
public struct EventKey: Hashable, Comparable, Codable, Sendable {
    public var timestamp: HLCTimestamp
    public var id: EventID

    public init(timestamp: HLCTimestamp, id: EventID) {
        self.timestamp = timestamp
        self.id = id
    }

    public static func < (lhs: EventKey, rhs: EventKey) -> Bool {
        if lhs.timestamp != rhs.timestamp { return lhs.timestamp < rhs.timestamp }
        return lhs.id < rhs.id
    }

    private enum CodingKeys: String, CodingKey { case hlc, replica, seq }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        timestamp = try c.decode(HLCTimestamp.self, forKey: .hlc)
        id = EventID(replica: try c.decode(ReplicaID.self, forKey: .replica), seq: try c.decode(Int64.self, forKey: .seq))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(timestamp, forKey: .hlc)
        try c.encode(id.replica, forKey: .replica)
        try c.encode(id.seq, forKey: .seq)
    }
}

/// One immutable thing a learner did, with its globally unique id and HLC timestamp.
///
/// ```swift
/// let event = try ProgressEvent(
///     id: EventID(replica: replica, seq: 1), learner: learner, timestamp: now,
///     course: "customer-privacy", payload: .lessonCompleted(lesson: "collect-only-what-you-need"))
/// ```
public struct ProgressEvent: Hashable, Sendable, Identifiable {
    /// Most seconds one ``EventPayload/timeSpent(lesson:seconds:)`` event may carry (a day).
    public static let maxSeconds = 86_400
    /// Largest ``EventPayload/resumePosition(lesson:offset:)`` offset.
    public static let maxOffset = 1_000_000
    /// Most answers in one quiz attempt.
    public static let maxAnswers = 100

    public let id: EventID
    /// The learner id the event was recorded under (a guest's events keep their guest id after
    /// attaching; the alias carries them to the account).
    public let learner: LearnerID
    public let timestamp: HLCTimestamp
    public let course: CourseID
    public let payload: EventPayload

    /// Creates an event, checking the counter, the timestamp and the payload's ranges.
    /// Whether the items exist is checked against a ``Catalog`` (``Catalog/validate(_:)``).
    public init(id: EventID, learner: LearnerID, timestamp: HLCTimestamp, course: CourseID, payload: EventPayload) throws(ModelError) {
        guard id.seq >= 1 else { throw ModelError(.outOfRange, "event seq must be at least 1") }
        guard timestamp.rawValue > 0 else { throw ModelError(.outOfRange, "event hlc must be positive") }
        try payload.validate()
        if case .quizAttempt(_, _, let version) = payload, version < 1 {
            throw ModelError(.outOfRange, "a recorded quiz attempt names its course version (1 or more)")
        }
        self.id = id
        self.learner = learner
        self.timestamp = timestamp
        self.course = course
        self.payload = payload
    }

    /// Whether the event is a course reset.
    public var isReset: Bool {
        if case .courseReset = payload { return true }
        return false
    }

    /// The key that orders this event for last-writer-wins.
    public var key: EventKey { EventKey(timestamp: timestamp, id: id) }
}

extension EventPayload {
    /// Builds a payload from its flat wire fields, as every decoder of events reads them: `type`
    /// picks the case, which takes `item` and, by type, `answers`, `choice`, `seconds` or `offset`.
    /// A quiz attempt also takes `version`; a reset takes `seen` (``SeenEvents``' text form).
    /// - Throws: ``ModelError`` `invalidEvent` for an unknown type or a missing field.
    public init(
        type: String, item: ItemID?, answers: [ItemID]?, choice: ItemID?, seconds: Int?, offset: Int?, version: Int?, seen: String?
    ) throws(ModelError) {
        func need<T>(_ value: T?, _ field: String) throws(ModelError) -> T {
            guard let value else { throw ModelError(.invalidEvent, "missing field \"\(field)\" for a \(type) event") }
            return value
        }
        switch type {
        case "lesson.started": self = .lessonStarted(lesson: try need(item, "item"))
        case "lesson.completed": self = .lessonCompleted(lesson: try need(item, "item"))
        case "quiz.attempt":
            self = .quizAttempt(quiz: try need(item, "item"), answers: try need(answers, "answers"), version: try need(version, "version"))
        case "scenario.choice": self = .scenarioChoice(scenario: try need(item, "item"), choice: try need(choice, "choice"))
        case "time.spent": self = .timeSpent(lesson: try need(item, "item"), seconds: try need(seconds, "seconds"))
        case "resume": self = .resumePosition(lesson: try need(item, "item"), offset: try need(offset, "offset"))
        case "course.reset": self = .courseReset(seen: try SeenEvents(text: try need(seen, "seen")))
        default: throw ModelError(.invalidEvent, "unknown event type")
        }
    }
}

extension ProgressEvent: Codable {
    private enum CodingKeys: String, CodingKey {
        case replica, seq, learner, hlc, course, type, item, answers, choice, seconds, offset, version, seen
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        do {
            let payload = try EventPayload(
                type: try c.decode(String.self, forKey: .type),
                item: try c.decodeIfPresent(ItemID.self, forKey: .item),
                answers: try c.decodeIfPresent([ItemID].self, forKey: .answers),
                choice: try c.decodeIfPresent(ItemID.self, forKey: .choice),
                seconds: try c.decodeIfPresent(Int.self, forKey: .seconds),
                offset: try c.decodeIfPresent(Int.self, forKey: .offset),
                version: try c.decodeIfPresent(Int.self, forKey: .version),
                seen: try c.decodeIfPresent(String.self, forKey: .seen))
            try self.init(
                id: EventID(replica: try c.decode(ReplicaID.self, forKey: .replica), seq: try c.decode(Int64.self, forKey: .seq)),
                learner: try c.decode(LearnerID.self, forKey: .learner),
                timestamp: try c.decode(HLCTimestamp.self, forKey: .hlc),
                course: try c.decode(CourseID.self, forKey: .course),
                payload: payload)
        } catch let error as ModelError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.replica, forKey: .replica)
        try c.encode(id.seq, forKey: .seq)
        try c.encode(learner, forKey: .learner)
        try c.encode(timestamp, forKey: .hlc)
        try c.encode(course, forKey: .course)
        try c.encode(payload.type, forKey: .type)
        switch payload {
        case .lessonStarted(let lesson), .lessonCompleted(let lesson):
            try c.encode(lesson, forKey: .item)
        case .quizAttempt(let quiz, let answers, let version):
            try c.encode(quiz, forKey: .item)
            try c.encode(answers, forKey: .answers)
            try c.encode(version, forKey: .version)
        case .scenarioChoice(let scenario, let choice):
            try c.encode(scenario, forKey: .item)
            try c.encode(choice, forKey: .choice)
        case .timeSpent(let lesson, let seconds):
            try c.encode(lesson, forKey: .item)
            try c.encode(seconds, forKey: .seconds)
        case .resumePosition(let lesson, let offset):
            try c.encode(lesson, forKey: .item)
            try c.encode(offset, forKey: .offset)
        case .courseReset(let seen):
            try c.encode(seen.text, forKey: .seen)
        }
    }
}

/// What a device does with an event a server refused. It never deletes one.
package enum RejectionHandling: Hashable, Sendable {
    /// Keep it, counted on the device, and push it again once the server's catalog changes.
    case retryWhenCatalogChanges
    /// Give it a new id under a new replica and push it again.
    case moveToNewReplica
    /// Keep it, counted on the device and listed with its reason; it is not pushed again.
    case refusedForGood
    /// Its learner was erased (a guest erased with its account, whose events this device
    /// pulled in another account): remove every event of that learner from the device.
    case removeErasedLearner
}
