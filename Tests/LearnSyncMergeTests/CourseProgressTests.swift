import LearnSyncMerge
import LearnSyncModels
import LearnSyncTesting
import Testing

@Suite struct CourseProgressTests {
    let catalog: Catalog
    let course: Course
    var seq: Int64 = 0

    init() throws {
        catalog = try SampleCatalog.load()
        course = catalog[SampleCatalog.courseID]!
    }

    mutating func event(_ payload: EventPayload, at millis: Int64, replica: ReplicaID = "r1") throws -> ProgressEvent {
        seq += 1
        return try ProgressEvent(
            id: EventID(replica: replica, seq: seq), learner: "g-me", timestamp: HLCTimestamp(physicalMilliseconds: millis),
            course: course.id, payload: payload)
    }

    @Test mutating func certificateNeedsEveryRequiredLessonAndAPassedQuiz() throws {
        var progress = CourseProgress(course: course.id)
        #expect(!progress.certificate(for: course).isEligible)
        for (index, lesson) in course.lessons.enumerated() {
            progress.apply(try event(.lessonCompleted(lesson: lesson.id), at: Int64(index + 1)), course: course)
        }
        let quiz = course.quizzes[0]
        #expect(progress.certificate(for: course).missingQuizzes == [quiz.id])
        let failing = quiz.questions.map { q in q.options.first { $0.id != q.answer }!.id }
        progress.apply(try event(.quizAttempt(quiz: quiz.id, answers: failing), at: 100), course: course)
        #expect(!progress.certificate(for: course).isEligible)
        progress.apply(try event(.quizAttempt(quiz: quiz.id, answers: quiz.questions.map(\.answer)), at: 101), course: course)
        #expect(progress.certificate(for: course).isEligible)
        #expect(progress.quizzes[quiz.id] == QuizProgress(attempts: 2, bestScore: quiz.questions.count, questionCount: quiz.questions.count, passed: true))
    }

    @Test mutating func timeSpentIsTheExactSumAndResumeIsLastWriterWins() throws {
        let lesson = course.lessons[0].id
        let events = [
            try event(.timeSpent(lesson: lesson, seconds: 30), at: 1),
            try event(.timeSpent(lesson: lesson, seconds: 45), at: 2, replica: "r2"),
            try event(.resumePosition(lesson: lesson, offset: 900), at: 5, replica: "r2"),
            try event(.resumePosition(lesson: lesson, offset: 100), at: 3),
        ]
        let progress = CourseProgress.rebuild(course: course, from: events)
        #expect(progress.secondsSpent == 75)
        #expect(progress.resume?.offset == 900)
    }

    @Test mutating func scenarioKeepsEveryChoiceAndShowsTheLatest() throws {
        let scenario = course.scenarios[0]
        let events = [
            try event(.scenarioChoice(scenario: scenario.id, choice: scenario.options[2].id), at: 10, replica: "r2"),
            try event(.scenarioChoice(scenario: scenario.id, choice: scenario.options[0].id), at: 10, replica: "r1"),
        ]
        let progress = CourseProgress.rebuild(course: course, from: events)
        // Same wall time: the replica id breaks the tie ("r2" > "r1").
        #expect(progress.scenarios[scenario.id] == ScenarioProgress(choices: 2, current: scenario.options[2].id, currentKey: events[0].key))
    }

    @Test mutating func resetHidesEarlierEventsButConcurrentLaterOnesSurvive() throws {
        let first = course.lessons[0].id, second = course.lessons[1].id
        let before = try event(.lessonCompleted(lesson: first), at: 1)
        let reset = try event(.courseReset(), at: 5)
        let later = try event(.lessonCompleted(lesson: second), at: 6, replica: "r2")
        for order in [[before, reset, later], [later, reset, before], [reset, later, before], [later, before, reset]] {
            var progress = CourseProgress(course: course.id)
            var applied: [ProgressEvent] = []
            for item in order {
                applied.append(item)
                if progress.apply(item, course: course) == .replayNewerThanReset {
                    for other in applied where other.key > progress.resetKey! { progress.apply(other, course: course) }
                }
            }
            #expect(progress.status(of: first) == .notStarted)
            #expect(progress.status(of: second) == .completed)
            #expect(progress == CourseProgress.rebuild(course: course, from: order))
        }
    }
}
