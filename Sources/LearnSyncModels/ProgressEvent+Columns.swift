/// An event spread over plain columns, the shape both the device's and the server's SQL tables
/// store (`replica, seq, learner, hlc, course, type, item, answers, choice, amount`).
public struct EventColumns: Hashable, Sendable {
    public var replica: String
    public var seq: Int64
    public var learner: String
    public var hlc: Int64
    public var course: String
    /// The payload's wire type (``EventPayload/type``).
    public var type: String
    public var item: String?
    /// Quiz answers, comma-separated (identifiers never hold commas).
    public var answers: String?
    public var choice: String?
    /// Seconds of a time-spent event or offset of a resume event.
    public var amount: Int?

    public init(
        replica: String, seq: Int64, learner: String, hlc: Int64, course: String, type: String,
        item: String?, answers: String?, choice: String?, amount: Int?
    ) {
        self.replica = replica
        self.seq = seq
        self.learner = learner
        self.hlc = hlc
        self.course = course
        self.type = type
        self.item = item
        self.answers = answers
        self.choice = choice
        self.amount = amount
    }

    /// The columns of an event.
    public init(_ event: ProgressEvent) {
        replica = event.id.replica.rawValue
        seq = event.id.seq
        learner = event.learner.rawValue
        hlc = event.timestamp.rawValue
        course = event.course.rawValue
        type = event.payload.type
        item = event.payload.item?.rawValue
        switch event.payload {
        case .quizAttempt(_, let list): answers = list.map(\.rawValue).joined(separator: ",")
        case .scenarioChoice(_, let option): choice = option.rawValue
        case .timeSpent(_, let seconds): amount = seconds
        case .resumePosition(_, let offset): amount = offset
        case .lessonStarted, .lessonCompleted, .courseReset: break
        }
    }

    /// The event these columns hold, validated again.
    public func event() throws(ModelError) -> ProgressEvent {
        func required() throws(ModelError) -> ItemID {
            guard let item else { throw ModelError(.invalidEvent, "a stored \(type) event has no item") }
            return try ItemID(validating: item)
        }
        func number() throws(ModelError) -> Int {
            guard let amount else { throw ModelError(.invalidEvent, "a stored \(type) event has no amount") }
            return amount
        }
        let payload: EventPayload
        switch type {
        case "lesson.started": payload = .lessonStarted(lesson: try required())
        case "lesson.completed": payload = .lessonCompleted(lesson: try required())
        case "quiz.attempt":
            var list = [ItemID]()
            for part in (answers ?? "").split(separator: ",") { list.append(try ItemID(validating: String(part))) }
            payload = .quizAttempt(quiz: try required(), answers: list)
        case "scenario.choice":
            payload = .scenarioChoice(scenario: try required(), choice: try ItemID(validating: choice ?? ""))
        case "time.spent": payload = .timeSpent(lesson: try required(), seconds: try number())
        case "resume": payload = .resumePosition(lesson: try required(), offset: try number())
        case "course.reset": payload = .courseReset
        default: throw ModelError(.invalidEvent, "a stored event has an unknown type")
        }
        return try ProgressEvent(
            id: EventID(replica: try ReplicaID(validating: replica), seq: seq), learner: try LearnerID(validating: learner),
            timestamp: HLCTimestamp(rawValue: hlc), course: try CourseID(validating: course), payload: payload)
    }
}
