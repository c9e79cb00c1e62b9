public import LearnSyncModels

/// How far a learner got in a lesson: merged by max, so a merge never un-completes a lesson.
public enum LessonStatus: Int, Comparable, Codable, Sendable, CustomStringConvertible {
    case notStarted = 0, started = 1, completed = 2

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .notStarted: "not started"
        case .started: "started"
        case .completed: "completed"
        }
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

/// A quiz's merged progress: every attempt counts, none is overwritten.
public struct QuizProgress: Codable, Hashable, Sendable {
    /// How many attempts were made.
    public var attempts: Int = 0
    /// The best number of correct answers over all attempts.
    public var bestScore: Int = 0
    /// The number of questions, so that `bestScore` reads as "6 of 8".
    public var questionCount: Int = 0
    /// Whether any attempt reached the pass mark.
    public var passed: Bool = false

    public init(attempts: Int = 0, bestScore: Int = 0, questionCount: Int, passed: Bool = false) {
        self.attempts = attempts
        self.bestScore = bestScore
        self.questionCount = questionCount
        self.passed = passed
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

/// Whether a course's certificate is earned, and what is missing if not.
public struct CertificateStatus: Codable, Hashable, Sendable {
    /// Required lessons not yet completed.
    public var missingLessons: [ItemID]
    /// Required quizzes not yet passed.
    public var missingQuizzes: [ItemID]
    /// Every required lesson completed and every required quiz passed.
    public var isEligible: Bool { missingLessons.isEmpty && missingQuizzes.isEmpty }
}

/// What applying one event did to a ``CourseProgress``.
public enum ApplyOutcome: Hashable, Sendable {
    /// The event now counts.
    case applied
    /// The event is hidden by a later course reset.
    case hidden
    /// A newer reset emptied the progress: apply again the learner's events of this course whose
    /// key is greater than ``CourseProgress/resetKey`` (the reset hides only older ones).
    case replayNewerThanReset
}

/// One learner's merged progress in one course: a deterministic function of the set of events.
///
/// Each rule is a join-semilattice (max, union, sum over unique events, last-writer-wins by
/// ``EventKey``), so any order of the same events gives the same value. The caller applies each
/// event at most once (the store's event log and ``ProgressReplica`` deduplicate by ``EventID``).
public struct CourseProgress: Codable, Hashable, Sendable {
    public let course: CourseID
    /// The latest course reset; events ordered before it are hidden.
    public internal(set) var resetKey: EventKey?
    public internal(set) var lessons: [ItemID: LessonProgress] = [:]
    public internal(set) var quizzes: [ItemID: QuizProgress] = [:]
    public internal(set) var scenarios: [ItemID: ScenarioProgress] = [:]
    public internal(set) var resume: ResumePoint?
    /// How many events count towards this progress (hidden ones excluded).
    public internal(set) var eventCount: Int = 0

    /// Empty progress for a course.
    public init(course: CourseID, resetKey: EventKey? = nil) {
        self.course = course
        self.resetKey = resetKey
    }

    /// Total seconds spent over all lessons.
    public var secondsSpent: Int { lessons.values.reduce(0) { $0 + $1.secondsSpent } }

    /// The status of one lesson (`notStarted` when nothing was recorded).
    public func status(of lesson: ItemID) -> LessonStatus { lessons[lesson]?.status ?? .notStarted }

    /// Applies one event of this course, grading quiz attempts from `course`'s answer key.
    ///
    /// - Precondition: `event` was validated against `course` and was not applied before.
    @discardableResult
    public mutating func apply(_ event: ProgressEvent, course: Course) -> ApplyOutcome {
        let key = event.key
        if let resetKey, key < resetKey { return .hidden }
        switch event.payload {
        case .courseReset:
            self = CourseProgress(course: self.course, resetKey: key)
            eventCount = 1
            return .replayNewerThanReset
        case .lessonStarted(let lesson):
            lessons[lesson, default: LessonProgress()].status.formMax(.started)
        case .lessonCompleted(let lesson):
            lessons[lesson, default: LessonProgress()].status.formMax(.completed)
        case .timeSpent(let lesson, let seconds):
            lessons[lesson, default: LessonProgress()].secondsSpent += seconds
        case .quizAttempt(let quizID, let answers):
            if let quiz = course.quiz(quizID) {
                let score = quiz.score(answers)
                var progress = quizzes[quizID] ?? QuizProgress(questionCount: quiz.questions.count)
                progress.attempts += 1
                progress.bestScore = max(progress.bestScore, score)
                progress.passed = progress.passed || quiz.passes(score: score)
                quizzes[quizID] = progress
            }
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
        return .applied
    }

    /// The certificate status that follows from this progress under `course`'s rule.
    public func certificate(for course: Course) -> CertificateStatus {
        CertificateStatus(
            missingLessons: course.certificate.requiredLessons.filter { status(of: $0) != .completed },
            missingQuizzes: course.certificate.requiredQuizzes.filter { quizzes[$0]?.passed != true })
    }

    /// Builds progress from any collection of events of one learner and course, in any order and
    /// with duplicates: the result depends only on the set of events.
    public static func rebuild<S: Sequence<ProgressEvent>>(course: Course, from events: S) -> CourseProgress {
        var unique = [EventID: ProgressEvent]()
        for event in events where event.course == course.id { unique[event.id] = event }
        let latestReset = unique.values.filter { $0.payload == .courseReset }.max { $0.key < $1.key }
        var progress = CourseProgress(course: course, latestReset: latestReset)
        for event in unique.values where event.payload != .courseReset {
            progress.apply(event, course: course)
        }
        return progress
    }

    /// The starting point of a rebuild: empty progress, or the state right after the latest
    /// reset. Then apply every other non-reset event once, in any order (older ones are hidden).
    public init(course: Course, latestReset: ProgressEvent?) {
        self.init(course: course.id)
        if let latestReset { apply(latestReset, course: course) }
    }
}

extension Comparable {
    fileprivate mutating func formMax(_ other: Self) {
        if other > self { self = other }
    }
}
