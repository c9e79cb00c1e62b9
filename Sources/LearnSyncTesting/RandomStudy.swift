public import LearnSyncModels

/// Random but valid study actions over a catalog, for property tests and `learnsync simulate`.
public enum RandomStudy {
    /// A random valid entry: mostly lessons and time, some quiz attempts and scenario choices,
    /// rarely a reset (when `resets` is true).
    public static func payload<G: RandomNumberGenerator>(
        in course: Course, resets: Bool = true, using generator: inout G
    ) -> EventPayload {
        let lesson = course.lessons.randomElement(using: &generator)!.id
        let roll = Int.random(in: 0..<100, using: &generator)
        switch roll {
        case 0..<25: return .lessonStarted(lesson: lesson)
        case 25..<50: return .lessonCompleted(lesson: lesson)
        case 50..<62: return .timeSpent(lesson: lesson, seconds: Int.random(in: 1...600, using: &generator))
        case 62..<70: return .resumePosition(lesson: lesson, offset: Int.random(in: 0...5000, using: &generator))
        case 70..<85 where !course.quizzes.isEmpty:
            let quiz = course.quizzes.randomElement(using: &generator)!
            // Lean towards right answers so that some attempts pass.
            let answers = quiz.questions.map { question in
                Bool.random(using: &generator) ? question.answer : question.options.randomElement(using: &generator)!.id
            }
            return .quizAttempt(quiz: quiz.id, answers: answers)
        case 85..<97 where !course.scenarios.isEmpty:
            let scenario = course.scenarios.randomElement(using: &generator)!
            return .scenarioChoice(scenario: scenario.id, choice: scenario.options.randomElement(using: &generator)!.id)
        case 97..<100 where resets:
            return .courseReset()
        default:
            return .lessonCompleted(lesson: lesson)
        }
    }

    /// `count` random events of `learners`, spread over `replicas`, with increasing HLC times and
    /// some concurrency (equal wall times on different replicas).
    public static func events<G: RandomNumberGenerator>(
        count: Int, catalog: Catalog, learners: [LearnerID], replicas: [ReplicaID], resets: Bool = true,
        using generator: inout G
    ) -> [ProgressEvent] {
        var clocks = Dictionary(uniqueKeysWithValues: replicas.map { ($0, HybridLogicalClock()) })
        var seqs = Dictionary(uniqueKeysWithValues: replicas.map { ($0, Int64(0)) })
        var wall: Int64 = 1_767_225_600_000
        var events = [ProgressEvent]()
        for _ in 0..<count {
            let replica = replicas.randomElement(using: &generator)!
            let course = catalog.courses.randomElement(using: &generator)!
            wall += Int64.random(in: 0...2, using: &generator)
            seqs[replica]! += 1
            let timestamp = clocks[replica]!.tick(now: wall)
            // Everything generated here is valid by construction.
            events.append(try! ProgressEvent(
                id: EventID(replica: replica, seq: seqs[replica]!), learner: learners.randomElement(using: &generator)!,
                timestamp: timestamp, course: course.id, payload: payload(in: course, resets: resets, using: &generator)))
        }
        return events
    }
}
