/// An event spread over plain columns, the shape both the device's and the server's SQL tables
/// store (`replica, seq, learner, hlc, course, type, item, answers, choice, amount`).
package struct EventColumns: Hashable, Sendable {
    package var replica: String
    package var seq: Int64
    package var learner: String
    package var hlc: Int64
    package var course: String
    /// The payload's wire type (``EventPayload/type``).
    package var type: String
    package var item: String?
    /// Quiz answers, comma-separated (identifiers never hold commas), or a reset's
    /// ``SeenEvents`` text.
    package var answers: String?
    package var choice: String?
    /// Seconds of a time-spent event, offset of a resume event, or the course version of a quiz
    /// attempt.
    package var amount: Int?

    package init(
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
    package init(_ event: ProgressEvent) {
        replica = event.id.replica.rawValue
        seq = event.id.seq
        learner = event.learner.rawValue
        hlc = event.timestamp.rawValue
        course = event.course.rawValue
        type = event.payload.type
        item = event.payload.item?.rawValue
        switch event.payload {
        case .quizAttempt(_, let list, let version):
            answers = list.map(\.rawValue).joined(separator: ",")
            amount = version
        case .courseReset(let seen): answers = seen.text
        case .scenarioChoice(_, let option): choice = option.rawValue
        case .timeSpent(_, let seconds): amount = seconds
        case .resumePosition(_, let offset): amount = offset
        case .lessonStarted, .lessonCompleted: break
        }
    }

    /// The event these columns hold, read back from a store. The payload's shape and values are
    /// checked again; the identifiers are taken as they are: the stores write columns only from
    /// events (``init(_:)``), whose identifiers were validated when they were made or decoded, and
    /// validating them again was an eighth of reading a page of the feed.
    package func event() throws(ModelError) -> ProgressEvent {
        var list: [ItemID]?
        if let answers, type != "course.reset" {
            list = answers.split(separator: ",").map { ItemID(unchecked: String($0)) }
        }
        let payload = try EventPayload(
            type: type, item: item.map(ItemID.init(unchecked:)), answers: list, choice: choice.map(ItemID.init(unchecked:)),
            seconds: amount, offset: amount, version: amount, seen: type == "course.reset" ? (answers ?? "") : nil)
        return try ProgressEvent(
            id: EventID(replica: ReplicaID(unchecked: replica), seq: seq), learner: LearnerID(unchecked: learner),
            timestamp: HLCTimestamp(rawValue: hlc), course: CourseID(unchecked: course), payload: payload)
    }
}
