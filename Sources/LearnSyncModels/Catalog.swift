public import Foundation

/// The courses a device or server knows, looked up by id.
public struct Catalog: Sendable, Hashable {
    /// The courses in their catalog order.
    public let courses: [Course]
    private let index: [CourseID: Int]

    /// Creates a catalog; course ids must be unique.
    public init(_ courses: [Course]) throws(ModelError) {
        var index = [CourseID: Int]()
        for (position, course) in courses.enumerated() {
            guard index.updateValue(position, forKey: course.id) == nil else {
                throw ModelError(.invalidCatalog, "course id \(course.id) is used twice")
            }
        }
        self.courses = courses
        self.index = index
    }

    /// The course with this id, if any.
    public subscript(id: CourseID) -> Course? {
        index[id].map { courses[$0] }
    }

    /// Loads one course file (a JSON ``Course``) or a folder of them.
    public static func load(from url: URL) throws -> Catalog {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ModelError(.invalidCatalog, "no course file or folder at \(url.path)")
        }
        let files: [URL]
        if isDirectory.boolValue {
            files = try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "json" }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        } else {
            files = [url]
        }
        let decoder = JSONDecoder()
        return try Catalog(files.map { try decoder.decode(Course.self, from: Data(contentsOf: $0)) })
    }

    /// Checks an event against the catalog: the course and every item it names must exist, and
    /// a quiz attempt must answer each question with one of its options.
    public func validate(_ event: ProgressEvent) throws(ModelError) {
        guard let course = self[event.course] else {
            throw ModelError(.unknownCourse, "unknown course \(event.course)")
        }
        try course.validate(event.payload)
    }
}

extension Course {
    /// Checks that a payload names items of this course and answers quizzes properly.
    public func validate(_ payload: EventPayload) throws(ModelError) {
        switch payload {
        case .lessonStarted(let lesson), .lessonCompleted(let lesson),
             .timeSpent(let lesson, _), .resumePosition(let lesson, _):
            guard self.lesson(lesson) != nil else { throw ModelError(.unknownItem, "unknown lesson \(lesson)") }
        case .quizAttempt(let quizID, let answers):
            guard let quiz = quiz(quizID) else { throw ModelError(.unknownItem, "unknown quiz \(quizID)") }
            guard answers.count == quiz.questions.count else {
                throw ModelError(.invalidEvent, "quiz \(quizID) needs \(quiz.questions.count) answers, got \(answers.count)")
            }
            for (question, answer) in zip(quiz.questions, answers)
            where !question.options.contains(where: { $0.id == answer }) {
                throw ModelError(.unknownItem, "unknown option \(answer) for question \(question.id)")
            }
        case .scenarioChoice(let scenarioID, let choice):
            guard let scenario = scenario(scenarioID) else {
                throw ModelError(.unknownItem, "unknown scenario \(scenarioID)")
            }
            guard scenario.options.contains(where: { $0.id == choice }) else {
                throw ModelError(.unknownItem, "unknown choice \(choice) for scenario \(scenarioID)")
            }
        case .courseReset:
            break
        }
    }
}
