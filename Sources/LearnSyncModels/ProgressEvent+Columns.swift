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

    /// The event these columns hold, validated again.
    package func event() throws(ModelError) -> ProgressEvent {
        var list: [ItemID]?
        if let answers, type != "course.reset" {
            list = []
            for part in answers.split(separator: ",") { list?.append(try ItemID(validating: String(part))) }
        }
        let payload = try EventPayload(
            type: type, item: try item.map { value throws(ModelError) in try ItemID(validating: value) }, answers: list,
            choice: try choice.map { value throws(ModelError) in try ItemID(validating: value) }, seconds: amount, offset: amount,
            version: amount, seen: type == "course.reset" ? (answers ?? "") : nil)
        return try ProgressEvent(
            id: EventID(replica: try ReplicaID(validating: replica), seq: seq), learner: try LearnerID(validating: learner),
            timestamp: HLCTimestamp(rawValue: hlc), course: try CourseID(validating: course), payload: payload)
    }
}
