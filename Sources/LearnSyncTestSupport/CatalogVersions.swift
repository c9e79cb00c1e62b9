public import LearnSyncModels

/// Later versions of a catalog's courses, as a course author would publish them: each version
/// adds a lesson, adds a question to the first quiz, and changes the answer key of its first
/// question. For tests and simulations of devices and servers on different catalog versions.
public enum CatalogVersions {
    /// `count` catalogs: the first is `base`, each next one holds every version of the one before
    /// plus one new version of every course.
    public static func make(from base: Catalog, count: Int) throws -> [Catalog] {
        var catalogs = [base]
        var latest = base.courses
        for step in 1..<max(1, count) {
            latest = try latest.map { try next(of: $0, step: step) }
            catalogs.append(try Catalog(catalogs[catalogs.count - 1].allVersions + latest))
        }
        return catalogs
    }

    private static func next(of course: Course, step: Int) throws -> Course {
        var lessons = course.lessons
        lessons.append(Lesson(id: try ItemID(validating: "added-lesson-\(step)"), title: "Added in version \(course.version + 1)", body: ["New material."]))
        var quizzes = course.quizzes
        if var quiz = quizzes.first {
            var questions = quiz.questions
            if var first = questions.first, first.options.count > 1 {
                let index = first.options.firstIndex { $0.id == first.answer } ?? 0
                first.answer = first.options[(index + 1) % first.options.count].id
                questions[0] = first
            }
            questions.append(Question(
                id: try ItemID(validating: "added-question-\(step)"), prompt: "Added in version \(course.version + 1)",
                options: [AnswerOption(id: "yes", text: "Yes"), AnswerOption(id: "no", text: "No")], answer: "yes"))
            quiz.questions = questions
            quizzes[0] = quiz
        }
        return try Course(
            id: course.id, version: course.version + 1, title: course.title, summary: course.summary, lessons: lessons,
            quizzes: quizzes, scenarios: course.scenarios, certificate: course.certificate)
    }
}
