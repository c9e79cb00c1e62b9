import LearnSyncMerge
package import LearnSyncModels

/// Turns an ``ExportDocument`` into xAPI 1.0.3 statements, one per event and one per earned
/// certificate, so a learner can take their record to any Learning Record Store.
///
/// | event | verb (ADL) | object | result |
/// |---|---|---|---|
/// | `lesson.started` | initialized | lesson | |
/// | `lesson.completed` | completed | lesson | completion |
/// | `quiz.attempt` | passed or failed (attempted if its course version is unknown) | quiz | score, success |
/// | `scenario.choice` | answered | scenario | response |
/// | `time.spent` | experienced | lesson | duration |
/// | `resume` | suspended | lesson | offset extension |
/// | `course.reset` | initialized | course | |
/// | certificate earned | completed | course | success, completion |
///
/// Every statement names the course as its parent activity. Statement ids are name-based
/// UUIDs of the learner and the event id, so exporting twice gives the same ids.
package enum XAPIExport {
    /// The statements of a document, in its event order, then its certificates.
    /// - Parameters:
    ///   - catalog: titles and the quiz versions to grade attempts under.
    ///   - homePage: the server's address (`http(s)://host[:port]`): the actor's account system
    ///     and the base of activity ids.
    package static func statements(of document: ExportDocument, catalog: Catalog, homePage: String) -> [XAPIStatement] {
        let builder = Builder(catalog: catalog, homePage: homePage, learner: document.learner.id)
        return document.events.map(builder.statement(for:)) + builder.certificates(of: document.progress)
    }

    /// ISO 8601 in UTC with milliseconds, from milliseconds since 1970.
    package static func timestamp(_ milliseconds: Int64) -> String {
        // Floor division, which no Int64 can overflow (unlike `milliseconds - ms`).
        let (quotient, remainder) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let ms = Int(remainder < 0 ? remainder + 1000 : remainder)
        let seconds = remainder < 0 ? quotient - 1 : quotient
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let secondOfDay = Int(seconds - Int64(days) * 86_400)
        // Days to a civil date (proleptic Gregorian), after Howard Hinnant's algorithm.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int, _ width: Int) -> String { String(value).leftPadded(width) }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):"
            + "\(pad(secondOfDay % 60, 2)).\(pad(ms, 3))Z"
    }

    /// A UUID (version 8, RFC 9562) derived from `name` with two FNV-1a hashes: stable, not secret.
    package static func uuid(name: String) -> String {
        func fnv(_ basis: UInt64) -> UInt64 {
            name.utf8.reduce(basis) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        }
        var high = fnv(0xcbf2_9ce4_8422_2325), low = fnv(0x8422_2325_cbf2_9ce4)
        high = (high & ~0xF000) | 0x8000  // version 8
        low = (low & ~(0xC << 60)) | (0x8 << 60)  // variant 10
        let hex = Array(String(high, radix: 16).leftPadded(16) + String(low, radix: 16).leftPadded(16))
        return "\(String(hex[0..<8]))-\(String(hex[8..<12]))-\(String(hex[12..<16]))-\(String(hex[16..<20]))-\(String(hex[20..<32]))"
    }

    private static let verbs = "http://adlnet.gov/expapi/verbs/"
    private static let activities = "http://adlnet.gov/expapi/activities/"

    /// Makes the statements of one learner, one at a time (a server streams an export's).
    package struct Builder: Sendable {
        let catalog: Catalog
        let home: String
        let learner: LearnerID

        package init(catalog: Catalog, homePage: String, learner: LearnerID) {
            self.catalog = catalog
            home = homePage.hasSuffix("/") ? String(homePage.dropLast()) : homePage
            self.learner = learner
        }

        /// The statement of one event.
        package func statement(for event: ProgressEvent) -> XAPIStatement {
            let course = catalog[event.course]
            var result: XAPIStatement.Result?
            let verb: String, object: XAPIStatement.Activity
            var extensions: [String: XAPIStatement.Extension] = [extensionIRI("event"): .string("\(event.id.replica)/\(event.id.seq)")]
            switch event.payload {
            case .lessonStarted(let lesson):
                (verb, object) = ("initialized", self.lesson(lesson, in: event.course))
            case .lessonCompleted(let lesson):
                (verb, object) = ("completed", self.lesson(lesson, in: event.course))
                result = XAPIStatement.Result(completion: true)
            case .quizAttempt(let quizID, let answers, let version):
                extensions[extensionIRI("course-version")] = .int(version)
                let quiz = catalog.course(event.course, version: version)?.quizzes.first { $0.id == quizID }
                object = activity(
                    "\(courseIRI(event.course))/quizzes/\(quizID)", type: "assessment",
                    title: quiz?.title ?? course?.quizzes.first { $0.id == quizID }?.title)
                if let quiz {
                    let score = quiz.score(answers), passed = quiz.passes(score: score)
                    verb = passed ? "passed" : "failed"
                    result = XAPIStatement.Result(
                        score: .init(scaled: Double(score) / Double(quiz.questions.count), raw: score, min: 0, max: quiz.questions.count),
                        success: passed, completion: true)
                } else {
                    verb = "attempted"
                }
            case .scenarioChoice(let scenario, let choice):
                verb = "answered"
                object = activity(
                    "\(courseIRI(event.course))/scenarios/\(scenario)", type: "interaction",
                    title: course?.scenarios.first { $0.id == scenario }?.title)
                result = XAPIStatement.Result(response: choice.rawValue)
            case .timeSpent(let lesson, let seconds):
                (verb, object) = ("experienced", self.lesson(lesson, in: event.course))
                result = XAPIStatement.Result(duration: "PT\(seconds)S")
            case .resumePosition(let lesson, let offset):
                (verb, object) = ("suspended", self.lesson(lesson, in: event.course))
                result = XAPIStatement.Result(extensions: [extensionIRI("offset"): .int(offset)])
            case .courseReset:
                (verb, object) = ("initialized", courseActivity(event.course))
                extensions[extensionIRI("retake")] = .int(1)
            }
            return XAPIStatement(
                id: uuid(name: "\(learner)|\(event.id.replica)|\(event.id.seq)"), actor: actor, verb: self.verb(verb), object: object,
                result: result, context: context(event.course, extensions: extensions),
                timestamp: timestamp(event.timestamp.physicalMilliseconds), version: "1.0.3")
        }

        /// One statement per certificate earned among `reports`.
        package func certificates(of reports: [CourseReport]) -> [XAPIStatement] {
            reports.compactMap { report in report.certificate.earnedAt.map { certificate(report.progress.course, earnedAt: $0) } }
        }

        /// The statement of a certificate earned.
        func certificate(_ course: CourseID, earnedAt: HLCTimestamp) -> XAPIStatement {
            XAPIStatement(
                id: uuid(name: "\(learner)|certificate|\(course)"), actor: actor, verb: verb("completed"), object: courseActivity(course),
                result: XAPIStatement.Result(success: true, completion: true),
                context: context(course, extensions: [extensionIRI("certificate"): .int(1)]),
                timestamp: timestamp(earnedAt.physicalMilliseconds), version: "1.0.3")
        }

        private var actor: XAPIStatement.Agent { .init(account: .init(homePage: home, name: learner.rawValue)) }

        private func verb(_ name: String) -> XAPIStatement.Verb { .init(id: verbs + name, display: ["en-US": name]) }

        private func courseIRI(_ course: CourseID) -> String { "\(home)/courses/\(course)" }

        private func extensionIRI(_ name: String) -> String { "\(home)/xapi/extensions/\(name)" }

        private func courseActivity(_ course: CourseID) -> XAPIStatement.Activity {
            activity(courseIRI(course), type: "course", title: catalog[course]?.title)
        }

        private func lesson(_ lesson: ItemID, in course: CourseID) -> XAPIStatement.Activity {
            activity("\(courseIRI(course))/lessons/\(lesson)", type: "lesson", title: catalog[course]?.lessons.first { $0.id == lesson }?.title)
        }

        private func activity(_ id: String, type: String, title: String?) -> XAPIStatement.Activity {
            let name = title.flatMap { $0.isEmpty ? nil : ["en-US": $0] }
            return .init(id: id, definition: .init(type: activities + type, name: name))
        }

        private func context(_ course: CourseID, extensions: [String: XAPIStatement.Extension]) -> XAPIStatement.Context {
            .init(contextActivities: .init(parent: [courseActivity(course)]), platform: "LearnSync", extensions: extensions)
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
