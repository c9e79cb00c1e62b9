/// A course: lessons to read, quizzes to pass, live scenarios to think through, and the rule
/// that earns its certificate.
///
/// A course carries a `version` (1 when left out). Publish a changed course (a new lesson or
/// question, a changed answer key) under a higher version and keep serving the old versions:
/// quiz attempts are graded against the version they were answered under.
public struct Course: Codable, Hashable, Sendable, Identifiable {
    public var id: CourseID
    /// The course's version, from 1; a catalog may hold several versions of one course.
    public var version: Int
    public var title: String
    public var summary: String
    public var lessons: [Lesson]
    public var quizzes: [Quiz]
    public var scenarios: [Scenario]
    public var certificate: CertificateRule

    public init(
        id: CourseID, version: Int = 1, title: String, summary: String = "", lessons: [Lesson], quizzes: [Quiz] = [],
        scenarios: [Scenario] = [], certificate: CertificateRule
    ) throws(ModelError) {
        self.id = id
        self.version = version
        self.title = title
        self.summary = summary
        self.lessons = lessons
        self.quizzes = quizzes
        self.scenarios = scenarios
        self.certificate = certificate
        try validate()
    }

    private enum CodingKeys: String, CodingKey {
        case id, version, title, summary, lessons, quizzes, scenarios, certificate
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(CourseID.self, forKey: .id)
        version = try c.decodeIfPresent(Int.self, forKey: .version) ?? 1
        title = try c.decode(String.self, forKey: .title)
        summary = try c.decodeIfPresent(String.self, forKey: .summary) ?? ""
        lessons = try c.decode([Lesson].self, forKey: .lessons)
        quizzes = try c.decodeIfPresent([Quiz].self, forKey: .quizzes) ?? []
        scenarios = try c.decodeIfPresent([Scenario].self, forKey: .scenarios) ?? []
        certificate = try c.decode(CertificateRule.self, forKey: .certificate)
        do {
            try validate()
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    /// The lesson with this id, if the course has one.
    public func lesson(_ id: ItemID) -> Lesson? { lessons.first { $0.id == id } }
    /// The quiz with this id, if the course has one.
    public func quiz(_ id: ItemID) -> Quiz? { quizzes.first { $0.id == id } }
    /// The scenario with this id, if the course has one.
    public func scenario(_ id: ItemID) -> Scenario? { scenarios.first { $0.id == id } }

    /// Checks that item ids are unique, answer keys name real options and the certificate rule
    /// names real lessons and quizzes.
    public func validate() throws(ModelError) {
        var seen = Set<ItemID>()
        func unique(_ id: ItemID) throws(ModelError) {
            guard seen.insert(id).inserted else {
                throw ModelError(.invalidCatalog, "course \(self.id): item id \(id) is used twice")
            }
        }
        guard version >= 1 else { throw ModelError(.invalidCatalog, "course \(id): version must be 1 or more") }
        guard !lessons.isEmpty else { throw ModelError(.invalidCatalog, "course \(id) has no lessons") }
        for lesson in lessons { try unique(lesson.id) }
        for quiz in quizzes {
            try unique(quiz.id)
            try quiz.validate()
        }
        for scenario in scenarios {
            try unique(scenario.id)
            guard !scenario.options.isEmpty else {
                throw ModelError(.invalidCatalog, "scenario \(scenario.id) has no options")
            }
            guard Set(scenario.options.map(\.id)).count == scenario.options.count else {
                throw ModelError(.invalidCatalog, "scenario \(scenario.id) repeats an option id")
            }
        }
        for required in certificate.requiredLessons where lesson(required) == nil {
            throw ModelError(.invalidCatalog, "certificate rule names unknown lesson \(required)")
        }
        for required in certificate.requiredQuizzes where quiz(required) == nil {
            throw ModelError(.invalidCatalog, "certificate rule names unknown quiz \(required)")
        }
    }
}

/// A lesson: text to read.
public struct Lesson: Codable, Hashable, Sendable, Identifiable {
    public var id: ItemID
    public var title: String
    /// Paragraphs of the lesson.
    public var body: [String]

    public init(id: ItemID, title: String, body: [String]) {
        self.id = id
        self.title = title
        self.body = body
    }
}

/// A graded quiz: one chosen option per question, passed at `passMark` percent.
public struct Quiz: Codable, Hashable, Sendable, Identifiable {
    public var id: ItemID
    public var title: String
    /// The lowest score, in percent of the questions, that passes.
    public var passMark: Int
    public var questions: [Question]

    public init(id: ItemID, title: String, passMark: Int, questions: [Question]) {
        self.id = id
        self.title = title
        self.passMark = passMark
        self.questions = questions
    }

    /// Checks the pass mark, the questions and their answer keys.
    public func validate() throws(ModelError) {
        guard (0...100).contains(passMark) else {
            throw ModelError(.invalidCatalog, "quiz \(id): pass mark must be 0 to 100")
        }
        guard !questions.isEmpty else { throw ModelError(.invalidCatalog, "quiz \(id) has no questions") }
        guard Set(questions.map(\.id)).count == questions.count else {
            throw ModelError(.invalidCatalog, "quiz \(id) repeats a question id")
        }
        for question in questions {
            guard Set(question.options.map(\.id)).count == question.options.count else {
                throw ModelError(.invalidCatalog, "question \(question.id) repeats an option id")
            }
            guard question.options.contains(where: { $0.id == question.answer }) else {
                throw ModelError(.invalidCatalog, "question \(question.id): the answer is not one of its options")
            }
        }
    }

    /// The number of correct answers. `answers` holds one option id per question, in order.
    public func score(_ answers: [ItemID]) -> Int {
        zip(questions, answers).reduce(0) { $0 + ($1.0.answer == $1.1 ? 1 : 0) }
    }

    /// Whether `score` correct answers reach the pass mark.
    public func passes(score: Int) -> Bool {
        score * 100 >= passMark * questions.count
    }
}

/// A multiple-choice question with its answer key.
public struct Question: Codable, Hashable, Sendable, Identifiable {
    public var id: ItemID
    public var prompt: String
    public var options: [AnswerOption]
    /// The id of the correct option.
    public var answer: ItemID

    public init(id: ItemID, prompt: String, options: [AnswerOption], answer: ItemID) {
        self.id = id
        self.prompt = prompt
        self.options = options
        self.answer = answer
    }
}

/// One option of a question or a scenario.
public struct AnswerOption: Codable, Hashable, Sendable, Identifiable {
    public var id: ItemID
    public var text: String
    /// For scenario options: what follows from this choice. Empty for quiz options.
    public var feedback: String

    public init(id: ItemID, text: String, feedback: String = "") {
        self.id = id
        self.text = text
        self.feedback = feedback
    }

    private enum CodingKeys: String, CodingKey { case id, text, feedback }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(ItemID.self, forKey: .id)
        text = try c.decode(String.self, forKey: .text)
        feedback = try c.decodeIfPresent(String.self, forKey: .feedback) ?? ""
    }
}

/// A live scenario: a situation with several reasonable choices and no single right answer.
public struct Scenario: Codable, Hashable, Sendable, Identifiable {
    public var id: ItemID
    public var title: String
    public var situation: String
    public var options: [AnswerOption]

    public init(id: ItemID, title: String, situation: String, options: [AnswerOption]) {
        self.id = id
        self.title = title
        self.situation = situation
        self.options = options
    }
}

/// What earns a course's certificate: every listed lesson completed and every listed quiz passed.
public struct CertificateRule: Codable, Hashable, Sendable {
    public var requiredLessons: [ItemID]
    public var requiredQuizzes: [ItemID]

    public init(requiredLessons: [ItemID], requiredQuizzes: [ItemID]) {
        self.requiredLessons = requiredLessons
        self.requiredQuizzes = requiredQuizzes
    }
}
