public import LearnSyncModels

/// How far a learner got in a lesson: merged by max, so a merge never un-completes a lesson.
/// In JSON it is a string: `"not-started"`, `"started"` or `"completed"`.
public enum LessonStatus: Int, CaseIterable, Comparable, Codable, Sendable, CustomStringConvertible {
    case notStarted = 0, started = 1, completed = 2

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The JSON name: `not-started`, `started`, `completed`.
    var name: String {
        switch self {
        case .notStarted: "not-started"
        case .started: "started"
        case .completed: "completed"
        }
    }

    public var description: String { self == .notStarted ? "not started" : name }

    /// Reads the JSON name; also the number an older server wrote (0, 1, 2).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let found: LessonStatus?
        if let number = try? container.decode(Int.self) {
            found = LessonStatus(rawValue: number)
        } else {
            let name = try container.decode(String.self)
            found = Self.allCases.first { $0.name == name }
        }
        guard let found else { throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown lesson status") }
        self = found
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}

/// A lesson's merged progress.
public struct LessonProgress: Codable, Hashable, Sendable {
    public var status: LessonStatus = .notStarted
    /// The sum of every time-spent event for the lesson (each event counted once).
    public var secondsSpent: Int = 0

    public init(status: LessonStatus = .notStarted, secondsSpent: Int = 0) {
        self.status = status
        self.secondsSpent = secondsSpent
    }
}

/// A quiz's merged progress: every attempt counts, none is overwritten, and each is graded
/// against the course version it was answered under.
public struct QuizProgress: Codable, Hashable, Sendable {
    /// How many attempts were made.
    public var attempts: Int = 0
    /// The number of correct answers of the best attempt (by share of questions right, then by
    /// number of questions).
    public var bestScore: Int = 0
    /// The number of questions of the best attempt's version, so that `bestScore` reads as "6 of 8".
    public var questionCount: Int = 0
    /// Whether any attempt reached its version's pass mark.
    public var passed: Bool = false

    public init(attempts: Int = 0, bestScore: Int = 0, questionCount: Int, passed: Bool = false) {
        self.attempts = attempts
        self.bestScore = bestScore
        self.questionCount = questionCount
        self.passed = passed
    }

    /// Folds in one graded attempt.
    mutating func add(_ grade: Grade) {
        attempts += 1
        if grade.score * questionCount > bestScore * grade.questions
            || (grade.score * questionCount == bestScore * grade.questions && grade.questions > questionCount) {
            bestScore = grade.score
            questionCount = grade.questions
        }
        if grade.passed { passed = true }
    }
}

/// One quiz attempt graded against the course version it names.
struct Grade {
    var quiz: ItemID
    var score: Int
    var questions: Int
    var passed: Bool

    /// The grade of a quiz attempt, or nil when the catalog lacks its version or quiz.
    init?(_ payload: EventPayload, course: CourseID, catalog: Catalog) {
        guard case .quizAttempt(let quizID, let answers, let version) = payload,
              let quiz = catalog.course(course, version: version)?.quiz(quizID)
        else { return nil }
        self.quiz = quizID
        score = quiz.score(answers)
        questions = quiz.questions.count
        passed = quiz.passes(score: score)
    }
}

/// A live scenario's merged progress: every choice is kept; the current one is the latest.
public struct ScenarioProgress: Codable, Hashable, Sendable {
    /// How many choices were made over time.
    public var choices: Int
    /// The latest choice by (HLC, replica, counter).
    public var current: ItemID
    /// The key of the latest choice.
    public var currentKey: EventKey

    public init(choices: Int, current: ItemID, currentKey: EventKey) {
        self.choices = choices
        self.current = current
        self.currentKey = currentKey
    }
}

/// Where to resume: last writer wins by (HLC, replica, counter).
public struct ResumePoint: Codable, Hashable, Sendable {
    public var lesson: ItemID
    public var offset: Int
    public var key: EventKey

    public init(lesson: ItemID, offset: Int, key: EventKey) {
        self.lesson = lesson
        self.offset = offset
        self.key = key
    }
}

/// Whether a course's certificate is earned, and what the current attempt still misses.
public struct CertificateStatus: Codable, Hashable, Sendable {
    /// Required lessons not completed in the current attempt (since the retakes that saw earlier work).
    public var missingLessons: [ItemID]
    /// Required quizzes not passed in the current attempt.
    public var missingQuizzes: [ItemID]
    /// When the certificate was earned: a permanent record that a later retake never revokes.
    /// Nil until every required lesson was completed and every required quiz passed, in any
    /// attempts (see ``CourseProgress/certificateEarnedAt``).
    public var earnedAt: HLCTimestamp?

    public init(missingLessons: [ItemID], missingQuizzes: [ItemID], earnedAt: HLCTimestamp?) {
        self.missingLessons = missingLessons
        self.missingQuizzes = missingQuizzes
        self.earnedAt = earnedAt
    }

    /// Whether the certificate was ever earned.
    public var isEarned: Bool { earnedAt != nil }
    /// Whether the current attempt meets the rule (every required item done since the last retake).
    public var isEligible: Bool { missingLessons.isEmpty && missingQuizzes.isEmpty }
}

/// A course reset as progress remembers it: which reset, and the events it hides.
public struct ResetMark: Hashable, Sendable, Codable {
    public var id: EventID
    public var seen: SeenEvents

    public init(id: EventID, seen: SeenEvents) {
        self.id = id
        self.seen = seen
    }

    private enum CodingKeys: String, CodingKey { case replica, seq, seen }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = EventID(replica: try c.decode(ReplicaID.self, forKey: .replica), seq: try c.decode(Int64.self, forKey: .seq))
        seen = try c.decode(SeenEvents.self, forKey: .seen)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.replica, forKey: .replica)
        try c.encode(id.seq, forKey: .seq)
        try c.encode(seen, forKey: .seen)
    }
}

/// What applying one event did to a ``CourseProgress``.
package enum ApplyOutcome: Hashable, Sendable {
    /// The event now counts.
    case applied
    /// The event is hidden by a reset that saw it: it counts only towards the certificate.
    case hidden
    /// The catalog does not know the event's item or version: kept, but it does not count until
    /// the catalog does.
    case ignored
    /// The event is a reset: rebuild the course's progress from its events (``ProgressBuilder``).
    case rebuild
}

/// One learner's merged progress in one course: a deterministic function of the set of events
/// and the catalog.
///
/// Each rule is a join-semilattice (max, min, union, sum over unique events, last-writer-wins by
/// ``EventKey``), so any order of the same events gives the same value. A reset hides exactly the
/// events it saw (observed-remove); the certificate, once earned, stays. The caller applies each
/// event at most once (the store's event log and the test support's `ProgressReplica` deduplicate by ``EventID``).
public struct CourseProgress: Codable, Hashable, Sendable {
    public let course: CourseID
    /// Every reset of this course; an event any of them saw is hidden.
    public package(set) var resets: [ResetMark] = []
    public package(set) var lessons: [ItemID: LessonProgress] = [:]
    public package(set) var quizzes: [ItemID: QuizProgress] = [:]
    public package(set) var scenarios: [ItemID: ScenarioProgress] = [:]
    public package(set) var resume: ResumePoint?
    /// How many events count towards this progress: visible ones and resets.
    public package(set) var eventCount: Int = 0
    /// The earliest time each required-kind item was done in any attempt, hidden or not: a
    /// lesson's first completion, a quiz's first passing attempt (item ids are unique in a
    /// course). A grow-only min-map: resets never shrink it.
    public package(set) var firstDone: [ItemID: HLCTimestamp] = [:]
    /// When the certificate was earned: the latest of the ``firstDone`` times of the items its
    /// rule requires, once all are there. Every event only adds to ``firstDone``, so this only
    /// appears or moves earlier: a retake never revokes it.
    public package(set) var certificateEarnedAt: HLCTimestamp?

    /// Empty progress for a course.
    public init(course: CourseID) {
        self.course = course
    }

    /// Total seconds spent over all lessons.
    public var secondsSpent: Int { lessons.values.reduce(0) { $0 + $1.secondsSpent } }

    /// The status of one lesson (`notStarted` when nothing was recorded).
    public func status(of lesson: ItemID) -> LessonStatus { lessons[lesson]?.status ?? .notStarted }

    /// Whether a reset of this course saw the event.
    public func hides(_ id: EventID) -> Bool { resets.contains { $0.seen.contains(id) } }

    /// Applies one event of this course, grading quiz attempts against the version they name.
    ///
    /// - Precondition: `event` was not applied before.
    @discardableResult
    package mutating func apply(_ event: ProgressEvent, catalog: Catalog) -> ApplyOutcome {
        if event.isReset { return .rebuild }
        guard let course = catalog[event.course], Self.counts(event.payload, in: course, catalog: catalog) else { return .ignored }
        let hidden = hides(event.id)
        if fold(event, catalog: catalog, hidden: hidden) { certificateEarnedAt = Self.earnedAt(catalog.certificateRules(of: course.id), firstDone) }
        return hidden ? .hidden : .applied
    }

    /// Moves an applied event to an earlier time: a server stored it at its own clock because the
    /// device's ran ahead. Only the times of progress move (``firstDone`` and the certificate);
    /// `.rebuild` when that is not enough: the event is the current choice of a scenario or the
    /// resume point (an earlier time may make another event the latest), or it moves later.
    ///
    /// - Precondition: `event`, with its old time, was applied before.
    package mutating func retime(_ event: ProgressEvent, to time: HLCTimestamp, catalog: Catalog) -> ApplyOutcome {
        guard time <= event.timestamp else { return .rebuild }
        guard !event.isReset, let course = catalog[event.course], Self.counts(event.payload, in: course, catalog: catalog) else { return .ignored }
        switch event.payload {
        case .scenarioChoice(let scenario, _) where scenarios[scenario]?.currentKey == event.key:
            return .rebuild
        case .resumePosition where resume?.key == event.key:
            return .rebuild
        default:
            break
        }
        let grade = Self.grade(of: event, catalog: catalog)
        if recordDone(event.payload, at: time, grade: grade) { certificateEarnedAt = Self.earnedAt(catalog.certificateRules(of: course.id), firstDone) }
        return hides(event.id) ? .hidden : .applied
    }

    /// Folds one valid, non-reset event in (grading a quiz attempt once): into the visible
    /// progress unless `hidden`, and into ``firstDone`` either way. Returns whether
    /// ``firstDone`` moved. The one step that the incremental path and ``ProgressBuilder`` share.
    mutating func fold(_ event: ProgressEvent, catalog: Catalog, hidden: Bool) -> Bool {
        let grade = Self.grade(of: event, catalog: catalog)
        if !hidden { applyVisible(event, grade: grade) }
        return recordDone(event.payload, at: event.timestamp, grade: grade)
    }

    /// A quiz attempt's grade under the version it names; nil for other events.
    private static func grade(of event: ProgressEvent, catalog: Catalog) -> Grade? {
        if case .quizAttempt = event.payload { Grade(event.payload, course: event.course, catalog: catalog) } else { nil }
    }

    /// Notes a completion or passing attempt in ``firstDone``; returns whether it moved.
    private mutating func recordDone(_ payload: EventPayload, at time: HLCTimestamp, grade: Grade?) -> Bool {
        let item: ItemID
        switch payload {
        case .lessonCompleted(let lesson):
            item = lesson
        case .quizAttempt:
            guard let grade, grade.passed else { return false }
            item = grade.quiz
        default:
            return false
        }
        if let done = firstDone[item], done <= time { return false }
        firstDone[item] = time
        return true
    }

    /// The certificate under every version's rule the catalog holds: earned at the earliest time
    /// one of them was met. A version that adds a required item governs what a learner who has
    /// not earned it yet must do; it never revokes a certificate earned under an earlier rule.
    static func earnedAt(_ rules: [CertificateRule], _ firstDone: [ItemID: HLCTimestamp]) -> HLCTimestamp? {
        rules.compactMap { earnedAt($0, firstDone) }.min()
    }

    /// One certificate rule: the latest of the first times each required lesson was completed
    /// and each required quiz passed; nil while one never was. A rule that requires nothing is
    /// never earned.
    static func earnedAt(_ rule: CertificateRule, _ firstDone: [ItemID: HLCTimestamp]) -> HLCTimestamp? {
        var latest: HLCTimestamp?
        for item in rule.requiredLessons + rule.requiredQuizzes {
            guard let at = firstDone[item] else { return nil }
            latest = max(latest ?? at, at)
        }
        return latest
    }

    /// Whether the catalog knows what `payload` names: the newest version's items, or for a quiz
    /// attempt the version it names. (The catalog's own check, without a second course lookup.)
    static func counts(_ payload: EventPayload, in course: Course, catalog: Catalog) -> Bool {
        if case .quizAttempt(_, _, let version) = payload, version != course.version {
            return (try? catalog.validate(payload, in: course.id)) != nil
        }
        return (try? course.validate(payload)) != nil
    }

    /// Folds one visible, valid, non-reset event into the visible progress.
    private mutating func applyVisible(_ event: ProgressEvent, grade: Grade?) {
        let key = event.key
        switch event.payload {
        case .courseReset:
            return
        case .lessonStarted(let lesson):
            lessons[lesson, default: LessonProgress()].status.formMax(.started)
        case .lessonCompleted(let lesson):
            lessons[lesson, default: LessonProgress()].status.formMax(.completed)
        case .timeSpent(let lesson, let seconds):
            lessons[lesson, default: LessonProgress()].secondsSpent += seconds
        case .quizAttempt:
            if let grade { quizzes[grade.quiz, default: QuizProgress(questionCount: grade.questions)].add(grade) }
        case .scenarioChoice(let scenario, let choice):
            if var progress = scenarios[scenario] {
                progress.choices += 1
                if key > progress.currentKey {
                    progress.current = choice
                    progress.currentKey = key
                }
                scenarios[scenario] = progress
            } else {
                scenarios[scenario] = ScenarioProgress(choices: 1, current: choice, currentKey: key)
            }
        case .resumePosition(let lesson, let offset):
            if resume.map({ key > $0.key }) ?? true {
                resume = ResumePoint(lesson: lesson, offset: offset, key: key)
            }
        }
        eventCount += 1
    }

    /// The certificate status under `course`'s rule: what the current attempt misses, and when
    /// the certificate was first earned.
    public func certificate(for course: Course) -> CertificateStatus {
        CertificateStatus(
            missingLessons: course.certificate.requiredLessons.filter { status(of: $0) != .completed },
            missingQuizzes: course.certificate.requiredQuizzes.filter { quizzes[$0]?.passed != true },
            earnedAt: certificateEarnedAt)
    }

    /// Builds progress from any collection of events of one learner and course, in any order and
    /// with duplicates: the result depends only on the set of events and the catalog.
    package static func rebuild<S: Sequence<ProgressEvent>>(course: CourseID, catalog: Catalog, from events: S) -> CourseProgress {
        var unique = [EventID: ProgressEvent]()
        for event in events where event.course == course { unique[event.id] = event }
        var builder = ProgressBuilder(course: course, catalog: catalog, resets: unique.values.filter(\.isReset))
        for event in unique.values where !event.isReset { builder.add(event) }
        return builder.finish()
    }
}

/// Builds a course's progress from its events in one pass, any order: the resets first (they
/// decide what is hidden), then every other event once. Memory holds the progress, never the
/// events.
package struct ProgressBuilder {
    private var progress: CourseProgress
    private let catalog: Catalog

    /// Starts a build with every reset of the learner in this course.
    package init(course: CourseID, catalog: Catalog, resets: [ProgressEvent]) {
        progress = CourseProgress(course: course)
        self.catalog = catalog
        var marks = [ResetMark]()
        for reset in resets {
            guard case .courseReset(let seen) = reset.payload, !marks.contains(where: { $0.id == reset.id }) else { continue }
            marks.append(ResetMark(id: reset.id, seen: seen))
        }
        marks.sort { $0.id < $1.id }
        progress.resets = marks
        progress.eventCount = marks.count
    }

    /// Adds one non-reset event (each event once).
    package mutating func add(_ event: ProgressEvent) {
        guard !event.isReset, let course = catalog[event.course], CourseProgress.counts(event.payload, in: course, catalog: catalog) else {
            return
        }
        _ = progress.fold(event, catalog: catalog, hidden: progress.hides(event.id))
    }

    /// The progress built.
    package func finish() -> CourseProgress {
        var result = progress
        result.certificateEarnedAt = CourseProgress.earnedAt(catalog.certificateRules(of: result.course), result.firstDone)
        return result
    }
}

extension Comparable {
    fileprivate mutating func formMax(_ other: Self) {
        if other > self { self = other }
    }
}
