public import LearnSyncModels

/// Later versions of a catalog's courses, as a course author would publish them: each version
/// adds a lesson, adds a question to the first quiz, and changes the answer key of its first
/// question. For tests and simulations of devices and servers on different catalog versions.
public enum CatalogVersions {
    /// `count` catalogs: the first is `base`, each next one holds every version of the one before
    /// plus one new version of every course. With `changingRules`, the certificate rule changes
    /// too: odd steps require the added lesson, even steps drop a required lesson.
    public static func make(from base: Catalog, count: Int, changingRules: Bool = false) throws -> [Catalog] {
        var catalogs = [base]
        var latest = base.courses
        for step in 1..<max(1, count) {
            latest = try latest.map { course in
                var next = try next(of: course, step: step)
                if changingRules {
                    if step % 2 == 1 {
                        next.certificate.requiredLessons.append(next.lessons[next.lessons.count - 1].id)
                    } else if next.certificate.requiredLessons.count > 1 {
                        next.certificate.requiredLessons.removeFirst()
                    }
                }
                return next
            }
            catalogs.append(try Catalog(catalogs[catalogs.count - 1].allVersions + latest))
        }
        return catalogs
    }

    /// The same version of `course` with the first quiz's first answer key changed: a correction
    /// published without a new version number, which servers refuse.
    public static func corrected(_ course: Course) -> Course {
        var course = course
        guard var quiz = course.quizzes.first, var question = quiz.questions.first, question.options.count > 1 else { return course }
        let index = question.options.firstIndex { $0.id == question.answer } ?? 0
        question.answer = question.options[(index + 1) % question.options.count].id
        quiz.questions[0] = question
        course.quizzes[0] = quiz
        return course
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
