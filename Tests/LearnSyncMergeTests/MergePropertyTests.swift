import Foundation
import LearnSyncMerge
import LearnSyncModels
import LearnSyncTestSupport
import Testing

/// Property-based tests of the merge: 1,000 random cases each, seeded; the seed is printed and a
/// failing case can be replayed with `LEARNSYNC_SEED=<seed> swift test --traits Server --filter MergePropertyTests`.
///
/// The events are the real world's: three catalog versions (a changed answer key, added lessons
/// and questions), replica clocks off by up to a year either way, and resets that saw only what
/// their replica knew.
@Suite struct MergePropertyTests {
    static let cases = 1_000
    let catalog: Catalog
    let learners: [LearnerID] = ["a-account", "g-guest1", "g-guest2"]
    let replicas: [ReplicaID] = ["replica-a", "replica-b", "replica-c"]

    init() throws { catalog = try CatalogVersions.make(from: SampleCatalog.load(), count: 3).last! }

    /// Runs `body` for each case with its own generator, printing the run's seed once.
    func forEachCase(_ name: String, _ body: (inout SeededGenerator, UInt64) throws -> Void) throws {
        let seed = SeededGenerator.seedFromEnvironment()
        print("\(name) seed: \(seed)")
        var seeds = SeededGenerator(seed: seed)
        for _ in 0..<Self.cases {
            let caseSeed = seeds.next()
            var generator = SeededGenerator(seed: caseSeed)
            try body(&generator, caseSeed)
        }
    }

    func randomEvents(_ generator: inout SeededGenerator) -> [ProgressEvent] {
        RandomStudy.events(
            count: Int.random(in: 0...40, using: &generator), catalog: catalog, learners: learners,
            replicas: replicas, skewed: true, using: &generator)
    }

    func replica(_ events: some Sequence<ProgressEvent>, aliases: Bool = false, catalog: Catalog? = nil) throws -> ProgressReplica {
        var replica = ProgressReplica(catalog: catalog ?? self.catalog)
        if aliases { try replica.attach(guest: "g-guest1", to: "a-account") }
        for event in events { try replica.insert(event) }
        return replica
    }

    func bytes(_ replica: ProgressReplica) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let flat = replica.allProgress.flatMap { learner, courses in
            courses.map { ["\(learner)/\($0.key)": $0.value] }
        }.sorted { $0.keys.first! < $1.keys.first! }
        return try encoder.encode(flat)
    }

    @Test func anyOrderAndDuplicationGivesByteIdenticalState() throws {
        try forEachCase("order") { generator, seed in
            let events = randomEvents(&generator)
            var delivered = events + events.filter { _ in Bool.random(using: &generator) }
            delivered.shuffle(using: &generator)
            let expected = try bytes(replica(events)), actual = try bytes(replica(delivered))
            #expect(expected == actual, "case seed \(seed)")
        }
    }

    /// A server stores an event at an earlier time than the device's (its clock ran ahead): the
    /// device moves it in its progress in place, or rebuilds when told to, and gets what
    /// rebuilding from the retimed log gives.
    @Test func retimingInPlaceEqualsRebuildingFromTheLog() throws {
        try forEachCase("retime") { generator, seed in
            let course = SampleCatalog.courseID
            func build(_ log: [ProgressEvent]) -> CourseProgress {
                var builder = ProgressBuilder(course: course, catalog: catalog, resets: log.filter(\.isReset))
                for event in log where !event.isReset { builder.add(event) }
                return builder.finish()
            }
            var log = randomEvents(&generator).filter { $0.course == course }
            var progress = build(log), rebuild = false
            for index in log.indices where Bool.random(using: &generator) {
                let old = log[index]
                let time = HLCTimestamp(rawValue: Int64.random(in: 1...old.timestamp.rawValue, using: &generator))
                log[index] = try ProgressEvent(id: old.id, learner: old.learner, timestamp: time, course: course, payload: old.payload)
                if progress.retime(old, to: time, catalog: catalog) == .rebuild { rebuild = true }
            }
            if rebuild { progress = build(log) }
            #expect(progress == build(log), "case seed \(seed)")
        }
    }

    @Test func mergeIsCommutative() throws {
        try forEachCase("commutative") { generator, seed in
            let events = randomEvents(&generator)
            let a = events.filter { _ in Bool.random(using: &generator) }
            let b = events.filter { _ in Bool.random(using: &generator) }
            var ab = try replica(a), ba = try replica(b)
            try ab.merge(replica(b))
            try ba.merge(replica(a))
            let (lhs, rhs) = (try bytes(ab), try bytes(ba))
            #expect(lhs == rhs, "case seed \(seed)")
        }
    }

    @Test func mergeIsAssociative() throws {
        try forEachCase("associative") { generator, seed in
            let events = randomEvents(&generator)
            let parts = (0..<3).map { _ in events.filter { _ in Bool.random(using: &generator) } }
            var left = try replica(parts[0])
            try left.merge(replica(parts[1]))
            try left.merge(replica(parts[2]))
            var rightTail = try replica(parts[1])
            try rightTail.merge(replica(parts[2]))
            var right = try replica(parts[0])
            try right.merge(rightTail)
            let (lhs, rhs) = (try bytes(left), try bytes(right))
            #expect(lhs == rhs, "case seed \(seed)")
        }
    }

    @Test func mergeIsIdempotent() throws {
        try forEachCase("idempotent") { generator, seed in
            let original = try replica(randomEvents(&generator), aliases: true)
            var merged = original
            try merged.merge(original)
            let (lhs, rhs) = (try bytes(merged), try bytes(original))
            #expect(lhs == rhs, "case seed \(seed)")
        }
    }

    @Test func incrementalEqualsRebuild() throws {
        try forEachCase("incremental") { generator, seed in
            let events = randomEvents(&generator)
            let incremental = try replica(events.shuffled(using: &generator))
            for learner in learners {
                for course in catalog.courses {
                    let rebuilt = CourseProgress.rebuild(course: course.id, catalog: catalog, from: events.filter { $0.learner == learner })
                    #expect(incremental.progress(of: learner, in: course.id) == rebuilt, "case seed \(seed)")
                }
            }
        }
    }

    @Test func attachingAGuestMergesItsEventsIntoTheAccount() throws {
        try forEachCase("alias") { generator, seed in
            let events = randomEvents(&generator)
            // Attach before or after the events arrive: the same state either way.
            let early = try replica(events, aliases: true)
            var late = try replica(events)
            try late.attach(guest: "g-guest1", to: "a-account")
            let (lhs, rhs) = (try bytes(early), try bytes(late))
            #expect(lhs == rhs, "case seed \(seed)")
            let union = events.filter { $0.learner == "a-account" || $0.learner == "g-guest1" }
            for course in catalog.courses {
                #expect(late.progress(of: "a-account", in: course.id) == CourseProgress.rebuild(course: course.id, catalog: catalog, from: union))
                #expect(late.progress(of: "g-guest1", in: course.id) == late.progress(of: "a-account", in: course.id))
            }
        }
    }

    @Test func aMergeNeverUncompletesALessonNorLosesAnAttempt() throws {
        try forEachCase("monotonic") { generator, seed in
            let events = RandomStudy.events(
                count: Int.random(in: 0...40, using: &generator), catalog: catalog, learners: learners,
                replicas: replicas, resets: false, skewed: true, using: &generator)
            let before = try replica(events.filter { _ in Bool.random(using: &generator) })
            var after = before
            try after.merge(replica(events))
            for learner in learners {
                for course in catalog.courses {
                    let old = before.progress(of: learner, in: course.id), new = after.progress(of: learner, in: course.id)
                    for (lesson, progress) in old.lessons {
                        #expect(new.status(of: lesson) >= progress.status, "case seed \(seed)")
                    }
                    let attempts = events.filter {
                        if case .quizAttempt = $0.payload { $0.learner == learner && $0.course == course.id } else { false }
                    }.count
                    #expect(new.quizzes.values.reduce(0) { $0 + $1.attempts } == attempts, "case seed \(seed)")
                    for (quiz, progress) in old.quizzes {
                        let (best, was) = (new.quizzes[quiz]!, progress)
                        #expect(best.bestScore * was.questionCount >= was.bestScore * best.questionCount, "case seed \(seed)")
                        #expect(best.passed || !was.passed, "case seed \(seed)")
                    }
                }
            }
        }
    }
}

extension MergePropertyTests {
    /// Observed-remove: whatever the clocks say, a reset hides exactly the events it saw.
    @Test func aResetHidesExactlyWhatItSaw() throws {
        try forEachCase("observed-remove") { generator, seed in
            let events = randomEvents(&generator)
            let merged = try replica(events.shuffled(using: &generator))
            for learner in learners {
                let mine = events.filter { $0.learner == learner }
                let seen = mine.compactMap { event -> SeenEvents? in
                    if case .courseReset(let seen) = event.payload { return seen } else { return nil }
                }
                for event in mine where !seen.contains(where: { $0.contains(event.id) }) {
                    let progress = merged.progress(of: learner, in: event.course)
                    if case .lessonCompleted(let lesson) = event.payload {
                        #expect(progress.status(of: lesson) == .completed, "case seed \(seed)")
                    }
                    if case .timeSpent(let lesson, _) = event.payload {
                        #expect((progress.lessons[lesson]?.secondsSpent ?? 0) > 0, "case seed \(seed)")
                    }
                }
                for course in catalog.courses {
                    let visible = mine.filter { event in
                        event.course == course.id && !event.isReset && !seen.contains(where: { $0.contains(event.id) })
                    }
                    let attempts = visible.filter { if case .quizAttempt = $0.payload { true } else { false } }.count
                    #expect(merged.progress(of: learner, in: course.id).quizzes.values.reduce(0) { $0 + $1.attempts } == attempts, "case seed \(seed)")
                }
            }
        }
    }

    /// A certificate is a permanent record: more events, resets included, never take it away
    /// nor make it later.
    @Test func anEarnedCertificateIsNeverRevoked() throws {
        var earned = 0
        try forEachCase("certificate") { generator, seed in
            // Enough study for certificates to be earned often, by one learner on three devices.
            let events = RandomStudy.events(
                count: Int.random(in: 40...160, using: &generator), catalog: catalog, learners: ["a-account"],
                replicas: replicas, skewed: true, using: &generator)
            let before = try replica(events.filter { _ in Bool.random(using: &generator) })
            var after = before
            try after.merge(replica(events))
            for learner in learners {
                for course in catalog.courses {
                    guard let was = before.progress(of: learner, in: course.id).certificateEarnedAt else { continue }
                    earned += 1
                    let now = after.progress(of: learner, in: course.id).certificateEarnedAt
                    #expect(now != nil && now! <= was, "case seed \(seed)")
                }
            }
        }
        #expect(earned > 30, "the law was exercised in \(earned) cases")
    }

    /// A quiz attempt is graded against the version it was answered under: a catalog that gains
    /// a version with a new answer key changes no grade.
    @Test func aNewAnswerKeyNeverChangesAPastGrade() throws {
        let versions = try CatalogVersions.make(from: SampleCatalog.load(), count: 4)
        try forEachCase("grades") { generator, seed in
            let events = RandomStudy.events(
                count: Int.random(in: 0...40, using: &generator), catalog: versions[2], learners: learners,
                replicas: replicas, skewed: true, using: &generator)
            let old = try replica(events, catalog: versions[2]), new = try replica(events, catalog: versions[3])
            for learner in learners {
                for course in catalog.courses {
                    #expect(old.progress(of: learner, in: course.id).quizzes == new.progress(of: learner, in: course.id).quizzes, "case seed \(seed)")
                }
            }
        }
    }

    /// A clock off by a year changes only which last write wins, never what is completed,
    /// attempted, hidden or earned.
    @Test func aSkewedClockCannotHideOrUnhideWork() throws {
        try forEachCase("clocks") { generator, seed in
            let events = randomEvents(&generator)
            let shift: Int64 = Bool.random(using: &generator) ? 31_536_000_000_000 : -1_000_000_000_000
            let skewedReplica = replicas.randomElement(using: &generator)!
            let shifted = events.map { event in
                guard event.id.replica == skewedReplica else { return event }
                return try! ProgressEvent(
                    id: event.id, learner: event.learner, timestamp: HLCTimestamp(rawValue: max(1, event.timestamp.rawValue + shift)),
                    course: event.course, payload: event.payload)
            }
            let a = try replica(events), b = try replica(shifted)
            for learner in learners {
                for course in catalog.courses {
                    let x = a.progress(of: learner, in: course.id), y = b.progress(of: learner, in: course.id)
                    #expect(x.lessons.mapValues(\.status) == y.lessons.mapValues(\.status), "case seed \(seed)")
                    #expect(x.lessons.mapValues(\.secondsSpent) == y.lessons.mapValues(\.secondsSpent), "case seed \(seed)")
                    #expect(x.quizzes.mapValues(\.attempts) == y.quizzes.mapValues(\.attempts), "case seed \(seed)")
                    #expect(x.eventCount == y.eventCount, "case seed \(seed)")
                    #expect((x.certificateEarnedAt == nil) == (y.certificateEarnedAt == nil), "case seed \(seed)")
                }
            }
        }
    }

    /// Numbers are written in place, two digits a step: every digit count from 1 to 19, the
    /// powers of ten and the numbers just below them, both signs and Int64's edges come back as
    /// the same bytes.
    @Test func compactNumbersAreWrittenExactly() throws {
        var values: [Int64] = [0, .max, .min, .min + 1]
        var power: Int64 = 1
        for _ in 0..<19 {
            values += [power, power - 1, power + 1, -power, -(power - 1)]
            if power <= Int64.max / 10 { power *= 10 }
        }
        for value in values {
            let text = Data("v2|c|\(value)||||||\(value)|".utf8)
            let progress = try CourseProgress(compact: text)
            #expect(progress.eventCount == Int(value) && progress.certificateEarnedAt?.rawValue == value)
            #expect(progress.compactEncoded() == text, "\(value)")
        }
    }

    /// Numbers are read byte by byte: only what the writer writes (digits, a leading `-`, within
    /// `Int64`) is accepted.
    @Test func compactNumbersAreReadExactly() throws {
        func progress(eventCount: String, earnedAt: String = "") throws -> CourseProgress {
            try CourseProgress(compact: Data("v2|c|\(eventCount)||||||\(earnedAt)|".utf8))
        }
        #expect(try progress(eventCount: "0").eventCount == 0)
        #expect(try progress(eventCount: "9223372036854775807").eventCount == .max)
        #expect(try progress(eventCount: "1", earnedAt: "-9223372036854775808").certificateEarnedAt?.rawValue == .min)
        for bad in ["", "-", "+1", "1a", " 1", "9223372036854775808", "-9223372036854775809", "1-"] {
            #expect(throws: ModelError.self, "\(bad)") { try progress(eventCount: bad) }
        }
    }
}
