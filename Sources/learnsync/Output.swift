import Foundation
import LearnSync

/// Renders progress for people (tables) and scripts (JSON).
enum Output {
    static func printJSON<T: Encodable>(_ value: T) throws {
        print(String(decoding: try json(value), as: UTF8.self))
    }

    /// JSON for people and scripts alike: indented, keys sorted, slashes as they are.
    static func json<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// A plain text table with a header row.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        // A table of names and values has no header.
        let head = header.allSatisfy(\.isEmpty) ? [] : [line(header), line(widths.map { String(repeating: "-", count: $0) })]
        return (head + rows.map(line)).joined(separator: "\n")
    }

    /// A course's merged progress as lines of text.
    static func describe(_ progress: CourseProgress, course: Course) -> String {
        var lines = ["\(course.title) [\(course.id)]"]
        lines.append(table(["lesson", "status", "time"], course.lessons.map { lesson in
            let seconds = progress.lessons[lesson.id]?.secondsSpent ?? 0
            return [lesson.id.rawValue, progress.status(of: lesson.id).description, seconds > 0 ? "\(seconds)s" : ""]
        }))
        for quiz in course.quizzes {
            let q = progress.quizzes[quiz.id]
            lines.append("quiz \(quiz.id): \(q?.attempts ?? 0) attempt(s), best \(q?.bestScore ?? 0)/\(quiz.questions.count), \(q?.passed == true ? "passed" : "not passed") (pass mark \(quiz.passMark)%)")
        }
        for scenario in course.scenarios {
            if let s = progress.scenarios[scenario.id] {
                lines.append("scenario \(scenario.id): current choice \(s.current) (\(s.choices) choice(s) made)")
            } else {
                lines.append("scenario \(scenario.id): no choice yet")
            }
        }
        if let resume = progress.resume { lines.append("resume: \(resume.lesson) at \(resume.offset)") }
        lines.append("time spent: \(progress.secondsSpent)s")
        let certificate = progress.certificate(for: course)
        if let earnedAt = certificate.earnedAt {
            let date = Date(timeIntervalSince1970: Double(earnedAt.physicalMilliseconds) / 1000)
            lines.append("certificate: EARNED \(ISO8601DateFormatter().string(from: date))")
        }
        if !certificate.isEligible {
            let missing = certificate.missingLessons.map(\.rawValue) + certificate.missingQuizzes.map { "quiz \($0)" }
            let attempt = certificate.isEarned ? "this attempt" : "certificate"
            lines.append("\(attempt): not yet (missing: \(missing.joined(separator: ", ")))")
        }
        return lines.joined(separator: "\n")
    }
}

/// Progress as JSON for scripts: the merged state plus the certificate verdict.
struct ProgressReport: Encodable {
    var course: CourseID
    var progress: CourseProgress
    var certificate: CertificateStatus
    var certificateEligible: Bool
    var certificateEarned: Bool
    var secondsSpent: Int

    init(_ progress: CourseProgress, course: Course) {
        self.course = course.id
        self.progress = progress
        certificate = progress.certificate(for: course)
        certificateEligible = certificate.isEligible
        certificateEarned = certificate.isEarned
        secondsSpent = progress.secondsSpent
    }
}
