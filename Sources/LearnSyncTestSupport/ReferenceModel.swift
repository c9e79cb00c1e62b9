public import LearnSyncMerge
public import LearnSyncModels

/// An independent reading of the merge rules of `docs/MERGE.md`: a direct fold over a learner's
/// set of events, written from the text and sharing no code with `CourseProgress` or its
/// builder. Simulations and scenarios check every device and the server against it, so a rule
/// broken in the one implementation cannot pass by agreeing with itself.
///
/// It is slow on purpose (every call re-reads every event) and obvious on purpose.
public enum ReferenceModel {
    /// What the rules say a learner's progress in one course is.
    public struct Course: Equatable, Sendable, CustomStringConvertible {
        /// Per lesson with any visible status or time: its status and seconds.
        public var lessons: [ItemID: Lesson] = [:]
        /// Per quiz with a visible graded attempt.
        public var quizzes: [ItemID: Quiz] = [:]
        /// Per scenario with a visible choice: how many choices, and the current one.
        public var scenarios: [ItemID: Scenario] = [:]
        /// The visible resume point with the largest key.
        public var resume: Resume?
        /// Visible counted events plus every reset.
        public var eventCount = 0
        /// First completion or first passing attempt of each item, hidden or not.
        public var firstDone: [ItemID: HLCTimestamp] = [:]
        /// When the certificate was earned under any version's rule the catalog holds.
        public var earnedAt: HLCTimestamp?
        /// What the current attempt lacks under the newest version's rule.
        public var missingLessons: [ItemID] = []
        public var missingQuizzes: [ItemID] = []

        public struct Lesson: Equatable, Sendable {
            public var status: LessonStatus
            public var seconds: Int
        }

        public struct Quiz: Equatable, Sendable {
            public var attempts: Int
            public var passed: Bool
            public var bestScore: Int
            public var questionCount: Int
        }

        public struct Scenario: Equatable, Sendable {
            public var choices: Int
            public var current: ItemID
        }

        public struct Resume: Equatable, Sendable {
            public var lesson: ItemID
            public var offset: Int
        }

        /// Completed lessons, passed quizzes and the certificate, in words.
        public var description: String {
            let done = lessons.filter { $0.value.status == .completed }.keys.map(\.rawValue).sorted()
            let passed = quizzes.filter(\.value.passed).keys.map(\.rawValue).sorted()
            return "completed \(done), passed \(passed), certificate \(earnedAt.map { "\($0)" } ?? "none")"
        }
    }

    /// The progress the rules give `events` (one learner, guests attached included, any order,
    /// duplicates allowed) in course `id` under `catalog`.
    public static func course(_ id: CourseID, events: some Sequence<ProgressEvent>, catalog: Catalog) -> Course {
        var unique = [EventID: ProgressEvent]()
        for event in events where event.course == id { unique[event.id] = event }
        var result = Course()
        guard let newest = catalog[id] else { return result }

        let resets: [SeenEvents] = unique.values.compactMap {
            if case .courseReset(let seen) = $0.payload { seen } else { nil }
        }
        func hidden(_ event: ProgressEvent) -> Bool {
            resets.contains { seen in seen.ranges[event.id.replica]?.contains { $0.contains(event.id.seq) } ?? false }
        }
        result.eventCount = resets.count

        var resumeKey: EventKey?
        var choiceKeys = [ItemID: EventKey]()
        var best = [ItemID: (share: Double, questions: Int)]()
        for event in unique.values {
            guard let counted = countedGrade(event.payload, newest: newest, catalog: catalog) else { continue }
            let time = event.timestamp
            // firstDone reads hidden and visible events alike.
            switch event.payload {
            case .lessonCompleted(let lesson):
                result.firstDone[lesson] = min(result.firstDone[lesson] ?? time, time)
            case .quizAttempt(let quiz, _, _) where counted.passed:
                result.firstDone[quiz] = min(result.firstDone[quiz] ?? time, time)
            default:
                break
            }
            guard !hidden(event) else { continue }
            result.eventCount += 1
            switch event.payload {
            case .lessonStarted(let lesson):
                var lessonProgress = result.lessons[lesson] ?? Course.Lesson(status: .notStarted, seconds: 0)
                if lessonProgress.status == .notStarted { lessonProgress.status = .started }
                result.lessons[lesson] = lessonProgress
            case .lessonCompleted(let lesson):
                var lessonProgress = result.lessons[lesson] ?? Course.Lesson(status: .notStarted, seconds: 0)
                lessonProgress.status = .completed
                result.lessons[lesson] = lessonProgress
            case .timeSpent(let lesson, let seconds):
                var lessonProgress = result.lessons[lesson] ?? Course.Lesson(status: .notStarted, seconds: 0)
                lessonProgress.seconds += seconds
                result.lessons[lesson] = lessonProgress
            case .quizAttempt(let quiz, _, _):
                var quizProgress = result.quizzes[quiz] ?? Course.Quiz(attempts: 0, passed: false, bestScore: 0, questionCount: 0)
                quizProgress.attempts += 1
                quizProgress.passed = quizProgress.passed || counted.passed
                let share = Double(counted.score) / Double(counted.questions)
                if let old = best[quiz], old.share > share || (old.share == share && old.questions >= counted.questions) {
                    // the earlier best stays
                } else {
                    best[quiz] = (share, counted.questions)
                    quizProgress.bestScore = counted.score
                    quizProgress.questionCount = counted.questions
                }
                result.quizzes[quiz] = quizProgress
            case .scenarioChoice(let scenario, let choice):
                var scenarioProgress = result.scenarios[scenario] ?? Course.Scenario(choices: 0, current: choice)
                scenarioProgress.choices += 1
                if choiceKeys[scenario].map({ $0 < event.key }) ?? true {
                    choiceKeys[scenario] = event.key
                    scenarioProgress.current = choice
                }
                result.scenarios[scenario] = scenarioProgress
            case .resumePosition(let lesson, let offset):
                if resumeKey.map({ $0 < event.key }) ?? true {
                    resumeKey = event.key
                    result.resume = Course.Resume(lesson: lesson, offset: offset)
                }
            case .courseReset:
                break
            }
        }

        // The certificate: every version's rule, earned when the last required item was first done.
        for version in catalog.allVersions where version.id == id {
            let required = version.certificate.requiredLessons + version.certificate.requiredQuizzes
            guard !required.isEmpty, required.allSatisfy({ result.firstDone[$0] != nil }) else { continue }
            let met = required.map { result.firstDone[$0]! }.max()!
            result.earnedAt = min(result.earnedAt ?? met, met)
        }
        result.missingLessons = newest.certificate.requiredLessons.filter { result.lessons[$0]?.status != .completed }
        result.missingQuizzes = newest.certificate.requiredQuizzes.filter { result.quizzes[$0]?.passed != true }
        return result
    }

    /// Whether an event counts under `catalog`, and a quiz attempt's grade under the version it
    /// names: nil when the catalog does not know what the event names.
    private static func countedGrade(
        _ payload: EventPayload, newest: LearnSyncModels.Course, catalog: Catalog
    ) -> (score: Int, questions: Int, passed: Bool)? {
        switch payload {
        case .lessonStarted(let lesson), .lessonCompleted(let lesson), .timeSpent(let lesson, _), .resumePosition(let lesson, _):
            return newest.lessons.contains { $0.id == lesson } ? (0, 0, false) : nil
        case .scenarioChoice(let scenario, let choice):
            let known = newest.scenarios.first { $0.id == scenario }?.options.contains { $0.id == choice } ?? false
            return known ? (0, 0, false) : nil
        case .quizAttempt(let quizID, let answers, let version):
            guard let quiz = catalog.course(newest.id, version: version)?.quizzes.first(where: { $0.id == quizID }),
                  quiz.questions.count == answers.count,
                  zip(quiz.questions, answers).allSatisfy({ question, answer in question.options.contains { $0.id == answer } })
            else { return nil }
            let score = zip(quiz.questions, answers).filter { $0.answer == $1 }.count
            return (score, quiz.questions.count, score * 100 >= quiz.passMark * quiz.questions.count)
        case .courseReset:
            return nil
        }
    }

    /// How a course's progress differs from what the model says, in words; empty when equal.
    public static func differences(_ progress: CourseProgress, certificate: CertificateStatus? = nil, expected: Course) -> [String] {
        var found = [String]()
        var lessons = [ItemID: Course.Lesson]()
        for (id, lesson) in progress.lessons where lesson.status != .notStarted || lesson.secondsSpent != 0 {
            lessons[id] = Course.Lesson(status: lesson.status, seconds: lesson.secondsSpent)
        }
        let expectedLessons = expected.lessons.filter { $0.value.status != .notStarted || $0.value.seconds != 0 }
        if lessons != expectedLessons { found.append("lessons \(lessons) vs model \(expectedLessons)") }
        let quizzes = progress.quizzes.mapValues {
            Course.Quiz(attempts: $0.attempts, passed: $0.passed, bestScore: $0.bestScore, questionCount: $0.questionCount)
        }
        if quizzes != expected.quizzes { found.append("quizzes \(quizzes) vs model \(expected.quizzes)") }
        let scenarios = progress.scenarios.mapValues { Course.Scenario(choices: $0.choices, current: $0.current) }
        if scenarios != expected.scenarios { found.append("scenarios \(scenarios) vs model \(expected.scenarios)") }
        let resume = progress.resume.map { Course.Resume(lesson: $0.lesson, offset: $0.offset) }
        if resume != expected.resume { found.append("resume \(String(describing: resume)) vs model \(String(describing: expected.resume))") }
        if progress.eventCount != expected.eventCount { found.append("event count \(progress.eventCount) vs model \(expected.eventCount)") }
        if progress.firstDone != expected.firstDone { found.append("first done \(progress.firstDone) vs model \(expected.firstDone)") }
        if progress.certificateEarnedAt != expected.earnedAt {
            found.append("certificate \(String(describing: progress.certificateEarnedAt)) vs model \(String(describing: expected.earnedAt))")
        }
        if let certificate {
            if certificate.earnedAt != expected.earnedAt { found.append("reported certificate differs from the model") }
            if certificate.missingLessons != expected.missingLessons || certificate.missingQuizzes != expected.missingQuizzes {
                found.append("missing \(certificate.missingLessons + certificate.missingQuizzes) vs model \(expected.missingLessons + expected.missingQuizzes)")
            }
        }
        return found.map { "\(progress.course): \($0)" }
    }
}
