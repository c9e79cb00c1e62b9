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
    /// The earliest completion's time (min over completions), or nil.
    public var completedAt: HLCTimestamp?

    public init(status: LessonStatus = .notStarted, secondsSpent: Int = 0, completedAt: HLCTimestamp? = nil) {
        self.status = status
        self.secondsSpent = secondsSpent
        self.completedAt = completedAt
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
    /// The earliest passing attempt's time, or nil.
    public var passedAt: HLCTimestamp?

    public init(attempts: Int = 0, bestScore: Int = 0, questionCount: Int, passed: Bool = false, passedAt: HLCTimestamp? = nil) {
        self.attempts = attempts
        self.bestScore = bestScore
        self.questionCount = questionCount
        self.passed = passed
        self.passedAt = passedAt
    }

    /// Folds in one graded attempt.
    mutating func add(_ grade: Grade, at time: HLCTimestamp) {
        attempts += 1
        if grade.score * questionCount > bestScore * grade.questions
            || (grade.score * questionCount == bestScore * grade.questions && grade.questions > questionCount) {
            bestScore = grade.score
            questionCount = grade.questions
        }
        if grade.passed {
            passed = true
            passedAt = min(passedAt ?? time, time)
        }
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
    /// Required lessons not completed in the current attempt.
    public var missingLessons: [ItemID]
    /// Required quizzes not passed in the current attempt.
    public var missingQuizzes: [ItemID]
    /// When the certificate was first earned: a permanent record that a later retake never
    /// revokes. Nil until every required lesson was completed and every required quiz passed.
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
public enum ApplyOutcome: Hashable, Sendable {
    /// The event now counts.
    case applied
    /// The event is hidden by a reset that saw it, and changes nothing.
    case hidden
    /// The catalog does not know the event's item or version: kept, but it does not count until
    /// the catalog does.
    case ignored
    /// The event is a reset, or a hidden completion or pass that may have earned the certificate
    /// before a reset: rebuild the course's progress from its events (``ProgressBuilder``).
    case rebuild
}

/// One learner's merged progress in one course: a deterministic function of the set of events
/// and the catalog.
///
/// Each rule is a join-semilattice (max, min, union, sum over unique events, last-writer-wins by
/// ``EventKey``), so any order of the same events gives the same value. A reset hides exactly the
/// events it saw (observed-remove); the certificate, once earned, stays. The caller applies each
/// event at most once (the store's event log and ``ProgressReplica`` deduplicate by ``EventID``).
public struct CourseProgress: Codable, Hashable, Sendable {
    public let course: CourseID
    /// Every reset of this course; an event any of them saw is hidden.
    public internal(set) var resets: [ResetMark] = []
    public internal(set) var lessons: [ItemID: LessonProgress] = [:]
    public internal(set) var quizzes: [ItemID: QuizProgress] = [:]
    public internal(set) var scenarios: [ItemID: ScenarioProgress] = [:]
    public internal(set) var resume: ResumePoint?
    /// How many events count towards this progress: visible ones and resets.
    public internal(set) var eventCount: Int = 0
    /// When the certificate was first earned, in this attempt or before any reset.
    public internal(set) var certificateEarnedAt: HLCTimestamp?

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
    public mutating func apply(_ event: ProgressEvent, catalog: Catalog) -> ApplyOutcome {
        if event.isReset { return .rebuild }
        guard let course = catalog[event.course], Self.counts(event.payload, in: course, catalog: catalog) else { return .ignored }
        if hides(event.id) {
            switch event.payload {
            case .lessonCompleted where certificateEarnedAt.map({ event.timestamp < $0 }) ?? true:
                return .rebuild
            case .quizAttempt where certificateEarnedAt.map({ event.timestamp < $0 }) ?? true:
                return Grade(event.payload, course: event.course, catalog: catalog)?.passed == true ? .rebuild : .hidden
            default:
                return .hidden
            }
        }
        applyVisible(event, catalog: catalog)
        switch event.payload {
        case .lessonCompleted, .quizAttempt:
            // Only an earlier completion or pass can make the certificate's time earlier.
            guard certificateEarnedAt.map({ event.timestamp < $0 }) ?? true, let earned = visibleEarnedAt(course.certificate) else { break }
            certificateEarnedAt = min(certificateEarnedAt ?? earned, earned)
        default:
            break
        }
        return .applied
    }

    /// Whether the catalog knows what `payload` names: the newest version's items, or for a quiz
    /// attempt the version it names. (The catalog's own check, without a second course lookup.)
    static func counts(_ payload: EventPayload, in course: Course, catalog: Catalog) -> Bool {
        if case .quizAttempt(_, _, let version) = payload, version != course.version {
            return (try? catalog.validate(payload, in: course.id)) != nil
        }
        return (try? course.validate(payload)) != nil
    }

    /// When the visible events met `rule`, or nil.
    func visibleEarnedAt(_ rule: CertificateRule) -> HLCTimestamp? {
        Achievements.earnedAt(rule, completed: { lessons[$0]?.completedAt }, passed: { quizzes[$0]?.passedAt })
    }

    /// Folds one visible, valid, non-reset event in.
    mutating func applyVisible(_ event: ProgressEvent, catalog: Catalog) {
        let key = event.key
        switch event.payload {
        case .courseReset:
            return
        case .lessonStarted(let lesson):
            lessons[lesson, default: LessonProgress()].status.formMax(.started)
        case .lessonCompleted(let lesson):
            lessons[lesson, default: LessonProgress()].status.formMax(.completed)
            let at = lessons[lesson]!.completedAt ?? event.timestamp
            lessons[lesson]!.completedAt = min(at, event.timestamp)
        case .timeSpent(let lesson, let seconds):
            lessons[lesson, default: LessonProgress()].secondsSpent += seconds
        case .quizAttempt:
            if let grade = Grade(event.payload, course: event.course, catalog: catalog) {
                quizzes[grade.quiz, default: QuizProgress(questionCount: grade.questions)].add(grade, at: event.timestamp)
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
    public static func rebuild<S: Sequence<ProgressEvent>>(course: CourseID, catalog: Catalog, from events: S) -> CourseProgress {
        var unique = [EventID: ProgressEvent]()
        for event in events where event.course == course { unique[event.id] = event }
        var builder = ProgressBuilder(course: course, catalog: catalog, resets: unique.values.filter(\.isReset))
        for event in unique.values where !event.isReset { builder.add(event) }
        return builder.finish()
    }
}

/// The earliest completion of each lesson and pass of each quiz in one set of events: enough
/// to tell when that set met a certificate rule.
struct Achievements {
    var completed: [ItemID: HLCTimestamp] = [:]
    var passed: [ItemID: HLCTimestamp] = [:]

    mutating func add(_ event: ProgressEvent, catalog: Catalog) {
        switch event.payload {
        case .lessonCompleted(let lesson):
            completed[lesson] = min(completed[lesson] ?? event.timestamp, event.timestamp)
        case .quizAttempt:
            if let grade = Grade(event.payload, course: event.course, catalog: catalog), grade.passed {
                passed[grade.quiz] = min(passed[grade.quiz] ?? event.timestamp, event.timestamp)
            }
        default:
            break
        }
    }

    /// When these achievements first met `rule`, or nil if they never did.
    func earnedAt(_ rule: CertificateRule) -> HLCTimestamp? {
        Self.earnedAt(rule, completed: { completed[$0] }, passed: { passed[$0] })
    }

    /// The one rule: the latest of the earliest times each required lesson was completed and
    /// each required quiz passed; nil if one never was. A rule that requires nothing is never
    /// earned.
    static func earnedAt(
        _ rule: CertificateRule, completed: (ItemID) -> HLCTimestamp?, passed: (ItemID) -> HLCTimestamp?
    ) -> HLCTimestamp? {
        var latest: HLCTimestamp?
        for lesson in rule.requiredLessons {
            guard let at = completed(lesson) else { return nil }
            latest = max(latest ?? at, at)
        }
        for quiz in rule.requiredQuizzes {
            guard let at = passed(quiz) else { return nil }
            latest = max(latest ?? at, at)
        }
        return latest
    }
}

/// Builds a course's progress from its events in one pass, any order: the resets first (they
/// decide what is hidden), then every other event once. Memory holds the progress and one
/// small record per reset, never the events.
///
/// The certificate is earned when the visible events meet the rule, or when the events some
/// reset saw (less those hidden by resets it saw) met it: what the learner had when pressing
/// retake. Earned once, it stays.
public struct ProgressBuilder {
    private var progress: CourseProgress
    private let catalog: Catalog
    private var candidates: [(seen: SeenEvents, excluded: [SeenEvents], achievements: Achievements)]

    /// Starts a build with every reset of the learner in this course.
    public init(course: CourseID, catalog: Catalog, resets: [ProgressEvent]) {
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
        candidates = marks.map { mark in
            (mark.seen, marks.filter { mark.seen.contains($0.id) }.map(\.seen), Achievements())
        }
    }

    /// Adds one non-reset event (each event once).
    public mutating func add(_ event: ProgressEvent) {
        guard !event.isReset, let course = catalog[event.course], CourseProgress.counts(event.payload, in: course, catalog: catalog) else {
            return
        }
        guard progress.hides(event.id) else {
            progress.applyVisible(event, catalog: catalog)
            return
        }
        for index in candidates.indices
        where candidates[index].seen.contains(event.id) && !candidates[index].excluded.contains(where: { $0.contains(event.id) }) {
            candidates[index].achievements.add(event, catalog: catalog)
        }
    }

    /// The progress built.
    public func finish() -> CourseProgress {
        var result = progress
        guard let rule = catalog[result.course]?.certificate else { return result }
        let times = [result.visibleEarnedAt(rule)] + candidates.map { $0.achievements.earnedAt(rule) }
        result.certificateEarnedAt = times.compactMap { $0 }.min()
        return result
    }
}

extension Comparable {
    fileprivate mutating func formMax(_ other: Self) {
        if other > self { self = other }
    }
}
