import ArgumentParser
import LearnSync

struct CoursesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "courses", abstract: "List the course catalog with its lesson, quiz and scenario ids.")

    @OptionGroup var catalog: CatalogOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let catalog = try catalog.load()
        if output.json { return try Output.printJSON(catalog.courses) }
        for course in catalog.courses {
            print("\(course.title) [\(course.id)]")
            print(Output.table(["kind", "id", "title"],
                course.lessons.map { ["lesson", $0.id.rawValue, $0.title] }
                + course.quizzes.map { quiz in
                    ["quiz", quiz.id.rawValue, "\(quiz.title) (\(quiz.questions.count) questions, pass mark \(quiz.passMark)%)"]
                }
                + course.scenarios.map { ["scenario", $0.id.rawValue, $0.title] }))
            for quiz in course.quizzes {
                print("\nquiz \(quiz.id): answer with --answers, one option id per question, in order:")
                for question in quiz.questions {
                    print("  \(question.id): \(question.options.map(\.id.rawValue).joined(separator: "|"))  \(question.prompt)")
                }
            }
            for scenario in course.scenarios {
                print("\nscenario \(scenario.id) choices: \(scenario.options.map(\.id.rawValue).joined(separator: ", "))")
            }
        }
    }
}
