/// An event spread over plain columns, the shape both the device's and the server's SQL tables
/// store, named as the wire's fields are (but `position`, the wire's `offset`, a word SQL keeps).
package struct EventColumns: Hashable, Sendable {
    /// The columns' names, in the order stores select and bind them (``Column``'s).
    package static let names = Column.allCases.map { "\($0)" }.joined(separator: ", ")
    /// How many columns ``names`` lists.
    package static let count = Int32(Column.allCases.count)

    /// Each column, named as in the tables, at its place in ``names`` from 0: a row read with
    /// them is read by name.
    package enum Column: Int32, CaseIterable {
        case replica, seq, learner, hlc, course, type, item, answers, seen, choice, seconds, position, version
    }

    package var replica: String
    package var seq: Int64
    package var learner: String
    package var hlc: Int64
    package var course: String
    /// The payload's wire type (``EventPayload/type``).
    package var type: String
    package var item: String?
    /// A quiz attempt's answers, comma-separated (identifiers never hold commas).
    package var answers: String?
    /// A reset's ``SeenEvents`` text.
    package var seen: String?
    /// A scenario's chosen option.
    package var choice: String?
    /// The seconds of a time-spent event.
    package var seconds: Int?
    /// The offset of a resume event.
    package var position: Int?
    /// The course version a quiz attempt was answered under.
    package var version: Int?

    package init(
        replica: String, seq: Int64, learner: String, hlc: Int64, course: String, type: String, item: String?,
        answers: String?, seen: String?, choice: String?, seconds: Int?, position: Int?, version: Int?
    ) {
        self.replica = replica
        self.seq = seq
        self.learner = learner
        self.hlc = hlc
        self.course = course
        self.type = type
        self.item = item
        self.answers = answers
        self.seen = seen
        self.choice = choice
        self.seconds = seconds
        self.position = position
        self.version = version
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
            self.version = version
        case .courseReset(let seen): self.seen = seen.text
        case .scenarioChoice(_, let option): choice = option.rawValue
        case .timeSpent(_, let seconds): self.seconds = seconds
        case .resumePosition(_, let offset): position = offset
        case .lessonStarted, .lessonCompleted: break
        }
    }

    /// The event these columns hold, read back from a store. The payload's shape and values are
    /// checked again; the identifiers are taken as they are: the stores write columns only from
    /// events (``init(_:)``), whose identifiers were validated when they were made or decoded, and
    /// validating them again was an eighth of reading a page of the feed.
    package func event() throws(ModelError) -> ProgressEvent {
        let list = answers.map { $0.split(separator: ",").map { ItemID(unchecked: String($0)) } }
        let payload = try EventPayload(
            type: type, item: item.map(ItemID.init(unchecked:)), answers: list,
            choice: choice.map(ItemID.init(unchecked:)), seconds: seconds, offset: position, version: version, seen: seen)
        return try ProgressEvent(
            id: EventID(replica: ReplicaID(unchecked: replica), seq: seq), learner: LearnerID(unchecked: learner),
            timestamp: HLCTimestamp(rawValue: hlc), course: CourseID(unchecked: course), payload: payload)
    }
}
