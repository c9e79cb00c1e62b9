import ArgumentParser
import LearnSync

struct ProgressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "progress", abstract: "Show the learner's merged progress per course and certificate status.")

    @OptionGroup var device: DeviceOptions
    @Option(help: "Only this course.", transform: courseID) var course: CourseID?
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let client = try await device.client()
        var courses = client.catalog.courses
        if let course {
            guard let found = client.catalog[course] else { throw ValidationError("unknown course \(course); see `learnsync courses`") }
            courses = [found]
        }
        var reports = [ProgressReport]()
        for course in courses { reports.append(ProgressReport(try await client.progress(in: course.id), course: course)) }
        if output.json { return try Output.printJSON(reports) }
        for (report, course) in zip(reports, courses) { print(Output.describe(report.progress, course: course)) }
    }
}
