import LearnSyncMerge
import LearnSyncModels
import LearnSyncTestSupport
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
            progress.apply(try event(.lessonCompleted(lesson: lesson.id), at: Int64(index + 1)), catalog: catalog)
        }
        let quiz = course.quizzes[0]
        #expect(progress.certificate(for: course).missingQuizzes == [quiz.id])
        let failing = quiz.questions.map { q in q.options.first { $0.id != q.answer }!.id }
        progress.apply(try event(.quizAttempt(quiz: quiz.id, answers: failing, version: 1), at: 100), catalog: catalog)
        #expect(!progress.certificate(for: course).isEligible)
        progress.apply(try event(.quizAttempt(quiz: quiz.id, answers: quiz.questions.map(\.answer), version: 1), at: 101), catalog: catalog)
        #expect(progress.certificate(for: course).isEligible)
        #expect(progress.quizzes[quiz.id] == QuizProgress(
            attempts: 2, bestScore: quiz.questions.count, questionCount: quiz.questions.count, passed: true))
        #expect(progress.firstDone[quiz.id] == HLCTimestamp(physicalMilliseconds: 101))
        #expect(progress.certificate(for: course).earnedAt == HLCTimestamp(physicalMilliseconds: 101))
    }

    @Test mutating func timeSpentIsTheExactSumAndResumeIsLastWriterWins() throws {
        let lesson = course.lessons[0].id
        let events = [
            try event(.timeSpent(lesson: lesson, seconds: 30), at: 1),
            try event(.timeSpent(lesson: lesson, seconds: 45), at: 2, replica: "r2"),
            try event(.resumePosition(lesson: lesson, offset: 900), at: 5, replica: "r2"),
            try event(.resumePosition(lesson: lesson, offset: 100), at: 3),
        ]
        let progress = CourseProgress.rebuild(course: course.id, catalog: catalog, from: events)
        #expect(progress.secondsSpent == 75)
        #expect(progress.resume?.offset == 900)
    }

    @Test mutating func scenarioKeepsEveryChoiceAndShowsTheLatest() throws {
        let scenario = course.scenarios[0]
        let events = [
            try event(.scenarioChoice(scenario: scenario.id, choice: scenario.options[2].id), at: 10, replica: "r2"),
            try event(.scenarioChoice(scenario: scenario.id, choice: scenario.options[0].id), at: 10, replica: "r1"),
        ]
        let progress = CourseProgress.rebuild(course: course.id, catalog: catalog, from: events)
        // Same wall time: the replica id breaks the tie ("r2" > "r1").
        #expect(progress.scenarios[scenario.id] == ScenarioProgress(choices: 2, current: scenario.options[2].id, currentKey: events[0].key))
    }

    /// Builds progress applying events one by one in `order`, rebuilding when asked (as the
    /// stores do).
    func incremental(_ order: [ProgressEvent], catalog: Catalog? = nil) -> CourseProgress {
        let catalog = catalog ?? self.catalog
        var progress = CourseProgress(course: course.id)
        var applied: [ProgressEvent] = []
        for item in order {
            applied.append(item)
            if progress.apply(item, catalog: catalog) == .rebuild {
                progress = CourseProgress.rebuild(course: course.id, catalog: catalog, from: applied)
            }
        }
        return progress
    }

    @Test mutating func aResetHidesWhatItSawAndNothingElseWhateverTheClocks() throws {
        let first = course.lessons[0].id, second = course.lessons[1].id
        let before = try event(.lessonCompleted(lesson: first), at: 1)
        let reset = try event(.courseReset(seen: SeenEvents([before.id])), at: 5)
        // Made offline on a clock far behind, after the reset in real time: the reset never saw it.
        let later = try event(.lessonCompleted(lesson: second), at: 1, replica: "r2")
        for order in [[before, reset, later], [later, reset, before], [reset, later, before], [later, before, reset]] {
            let progress = incremental(order)
            #expect(progress.status(of: first) == .notStarted)
            #expect(progress.status(of: second) == .completed)
            #expect(progress == CourseProgress.rebuild(course: course.id, catalog: catalog, from: order))
        }
    }

    @Test mutating func aCertificateEarnedBeforeARetakeStays() throws {
        let quiz = course.quizzes[0]
        var done = try course.certificate.requiredLessons.enumerated().map { index, lesson in
            try event(.lessonCompleted(lesson: lesson), at: Int64(10 + index))
        }
        done.append(try event(.quizAttempt(quiz: quiz.id, answers: quiz.questions.map(\.answer), version: 1), at: 50))
        let retake = try event(.courseReset(seen: SeenEvents(done.map(\.id))), at: 60)
        for order in [done + [retake], [retake] + done, done.reversed() + [retake]] {
            let progress = incremental(order)
            let status = progress.certificate(for: course)
            #expect(status.earnedAt == HLCTimestamp(physicalMilliseconds: 50))
            #expect(!status.isEligible, "the retake starts a new attempt")
            #expect(progress.quizzes.isEmpty && progress.lessons.isEmpty)
        }
    }

    /// The tablet earned the certificate; the phone, which had seen only part of that work,
    /// presses retake. The retake hides what the phone saw, and the certificate stays.
    @Test mutating func aRetakeThatSawPartOfTheWorkNeverRevokesTheCertificate() throws {
        let quiz = course.quizzes[0]
        var tablet = try course.certificate.requiredLessons.enumerated().map { index, lesson in
            try event(.lessonCompleted(lesson: lesson), at: Int64(10 + index), replica: "tablet")
        }
        tablet.append(try event(.quizAttempt(quiz: quiz.id, answers: quiz.questions.map(\.answer), version: 1), at: 50, replica: "tablet"))
        let phoneReset = try event(.courseReset(seen: SeenEvents(tablet.prefix(4).map(\.id))), at: 60, replica: "phone")
        let before = incremental(tablet)
        #expect(before.certificateEarnedAt == HLCTimestamp(physicalMilliseconds: 50))
        for order in [tablet + [phoneReset], [phoneReset] + tablet] {
            let after = incremental(order)
            #expect(after.certificateEarnedAt == HLCTimestamp(physicalMilliseconds: 50))
            #expect(after.status(of: tablet[0].payload.item!) == .notStarted)
            #expect(after.status(of: tablet[5].payload.item!) == .completed)
        }
    }

    @Test mutating func attemptsAreGradedUnderTheirOwnVersion() throws {
        let versions = try CatalogVersions.make(from: catalog, count: 2)
        let v2 = versions[1][course.id]!
        let oldQuiz = course.quizzes[0], newQuiz = v2.quizzes[0]
        // Right under version 1, where the first question's answer was another option.
        let underV1 = try event(.quizAttempt(quiz: oldQuiz.id, answers: oldQuiz.questions.map(\.answer), version: 1), at: 1)
        let underV2 = try event(.quizAttempt(quiz: newQuiz.id, answers: newQuiz.questions.map(\.answer), version: 2), at: 2)
        let progress = incremental([underV1, underV2], catalog: versions[1])
        #expect(progress.quizzes[oldQuiz.id]?.attempts == 2)
        #expect(progress.quizzes[oldQuiz.id]?.bestScore == newQuiz.questions.count)
        #expect(progress.firstDone[oldQuiz.id] == underV1.timestamp)
        // A device that does not know version 2 keeps the attempt but does not count it yet.
        let older = incremental([underV1, underV2])
        #expect(older.quizzes[oldQuiz.id]?.attempts == 1)
    }

    /// Version 2 requires one more lesson: a certificate earned under version 1 stays earned, at
    /// the same time, wherever the catalog holds version 1; a learner who had not earned it must
    /// meet version 2's rule. A catalog without version 1 cannot grade under it.
    @Test mutating func aNewVersionsRuleNeverRevokesAnEarnedCertificate() throws {
        var v2 = course
        v2.version = course.version + 1
        v2.lessons.append(Lesson(id: "added-required", title: "Added", body: ["New."]))
        v2.certificate.requiredLessons.append("added-required")
        let both = try Catalog([course, v2]), onlyV2 = try Catalog([v2])
        let quiz = course.quizzes[0]
        var events = try course.certificate.requiredLessons.enumerated().map { index, lesson in
            try event(.lessonCompleted(lesson: lesson), at: Int64(index + 1))
        }
        events.append(try event(.quizAttempt(quiz: quiz.id, answers: quiz.questions.map(\.answer), version: course.version), at: 50))
        let earned = HLCTimestamp(physicalMilliseconds: 50)
        #expect(incremental(events).certificateEarnedAt == earned)
        #expect(incremental(events, catalog: both).certificateEarnedAt == earned, "version 2's rule revoked it")
        #expect(CourseProgress.rebuild(course: course.id, catalog: both, from: events.reversed()).certificateEarnedAt == earned)
        // What version 2 asks of the current attempt is still shown.
        #expect(incremental(events, catalog: both).certificate(for: v2).missingLessons == ["added-required"])
        #expect(incremental(events, catalog: onlyV2).certificateEarnedAt == nil)
        events.append(try event(.quizAttempt(quiz: quiz.id, answers: quiz.questions.map(\.answer), version: v2.version), at: 55))
        events.append(try event(.lessonCompleted(lesson: "added-required"), at: 60))
        #expect(incremental(events, catalog: onlyV2).certificateEarnedAt == HLCTimestamp(physicalMilliseconds: 60))
        #expect(incremental(events, catalog: both).certificateEarnedAt == earned, "earned at the earliest rule met")
    }
}
