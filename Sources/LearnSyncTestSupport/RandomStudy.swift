public import LearnSyncModels

/// Random but valid study actions over a catalog, for property tests and `learnsync simulate`.
public enum RandomStudy {
    /// A random valid entry: mostly lessons and time, some quiz attempts and scenario choices,
    /// rarely a reset (when `resets` is true). Quiz attempts answer `course`'s version; a reset
    /// carries no seen events (a device store fills them when it records it).
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
            return .quizAttempt(quiz: quiz.id, answers: answers, version: course.version)
        case 85..<97 where !course.scenarios.isEmpty:
            let scenario = course.scenarios.randomElement(using: &generator)!
            return .scenarioChoice(scenario: scenario.id, choice: scenario.options.randomElement(using: &generator)!.id)
        case 97..<100 where resets:
            return .courseReset()
        default:
            return .lessonCompleted(lesson: lesson)
        }
    }

    /// `count` random events of `learners`, spread over `replicas`, as devices in the real world
    /// would record them:
    /// - each replica answers quizzes under a random version of the course the catalog holds;
    /// - with `skewed`, each replica's clock is off by up to a year, ahead or behind;
    /// - replicas learn each other's events now and then (a sync), and a reset saw exactly what
    ///   its replica knew.
    public static func events<G: RandomNumberGenerator>(
        count: Int, catalog: Catalog, learners: [LearnerID], replicas: [ReplicaID], resets: Bool = true, skewed: Bool = false,
        using generator: inout G
    ) -> [ProgressEvent] {
        var clocks = Dictionary(uniqueKeysWithValues: replicas.map { ($0, HybridLogicalClock()) })
        var seqs = Dictionary(uniqueKeysWithValues: replicas.map { ($0, Int64(0)) })
        var known = Dictionary(uniqueKeysWithValues: replicas.map { ($0, Set<EventID>()) })
        let skews = Dictionary(uniqueKeysWithValues: replicas.map { replica in
            (replica, skewed ? [0, 600_000, -600_000, 31_536_000_000, -31_536_000_000].randomElement(using: &generator)! : Int64(0))
        })
        var wall: Int64 = 1_767_225_600_000
        var events = [ProgressEvent]()
        for _ in 0..<count {
            let replica = replicas.randomElement(using: &generator)!
            if Int.random(in: 0..<5, using: &generator) == 0, let other = replicas.randomElement(using: &generator) {
                known[replica]!.formUnion(known[other]!)
            }
            let newest = catalog.courses.randomElement(using: &generator)!
            let versions = catalog.allVersions.filter { $0.id == newest.id }
            let course = versions.randomElement(using: &generator)!
            wall += Int64.random(in: 0...2, using: &generator)
            seqs[replica]! += 1
            let timestamp = clocks[replica]!.tick(now: wall + skews[replica]!)
            var payload = payload(in: course, resets: resets, using: &generator)
            if case .courseReset = payload { payload = .courseReset(seen: SeenEvents(known[replica]!)) }
            let id = EventID(replica: replica, seq: seqs[replica]!)
            known[replica]!.insert(id)
            // Everything generated here is valid by construction.
            events.append(try! ProgressEvent(
                id: id, learner: learners.randomElement(using: &generator)!, timestamp: timestamp, course: course.id, payload: payload))
        }
        return events
    }
}
