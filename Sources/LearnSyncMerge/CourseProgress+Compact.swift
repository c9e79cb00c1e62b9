public import Foundation
public import LearnSyncModels

/// A compact, deterministic text form of ``CourseProgress`` for storage, about ten times faster
/// to write and read than JSON (it is written on every recorded event).
///
/// `v1|course|eventCount|reset|resume|lessons|quizzes|scenarios`, where a key is
/// `hlc.replica.seq`, lists are `;`-separated, fields `,`-separated, and entries sorted by id.
/// Identifiers never hold `|`, `;`, `,` or `:`, so no escaping is needed.
extension CourseProgress {
    /// The compact form.
    public func compactEncoded() -> Data {
        func key(_ key: EventKey?) -> String {
            key.map { "\($0.timestamp.rawValue):\($0.id.replica.rawValue):\($0.id.seq)" } ?? ""
        }
        var parts = ["v1", course.rawValue, String(eventCount), key(resetKey)]
        parts.append(resume.map { "\($0.lesson.rawValue),\($0.offset),\(key($0.key))" } ?? "")
        parts.append(lessons.sorted { $0.key < $1.key }
            .map { "\($0.key.rawValue),\($0.value.status.rawValue),\($0.value.secondsSpent)" }.joined(separator: ";"))
        parts.append(quizzes.sorted { $0.key < $1.key }
            .map { "\($0.key.rawValue),\($0.value.attempts),\($0.value.bestScore),\($0.value.questionCount),\($0.value.passed ? 1 : 0)" }
            .joined(separator: ";"))
        parts.append(scenarios.sorted { $0.key < $1.key }
            .map { "\($0.key.rawValue),\($0.value.choices),\($0.value.current.rawValue),\(key($0.value.currentKey))" }
            .joined(separator: ";"))
        return Data(parts.joined(separator: "|").utf8)
    }

    /// Reads the compact form.
    /// - Throws: ``ModelError`` `invalidEvent` when the data is not a valid compact form.
    public init(compact data: Data) throws(ModelError) {
        let invalid = ModelError(.invalidEvent, "stored progress is not in the compact form")
        let parts = String(decoding: data, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 8, parts[0] == "v1", let count = Int(parts[2]) else { throw invalid }
        func key(_ text: Substring) throws(ModelError) -> EventKey? {
            if text.isEmpty { return nil }
            let fields = text.split(separator: ":")
            guard fields.count == 3, let hlc = Int64(fields[0]), let seq = Int64(fields[2]) else { throw invalid }
            return EventKey(timestamp: HLCTimestamp(rawValue: hlc), id: EventID(replica: try ReplicaID(validating: String(fields[1])), seq: seq))
        }
        func entries(_ text: Substring, width: Int) throws(ModelError) -> [[Substring]] {
            var result = [[Substring]]()
            for entry in text.split(separator: ";") {
                let fields = entry.split(separator: ",", omittingEmptySubsequences: false)
                guard fields.count == width else { throw invalid }
                result.append(fields)
            }
            return result
        }
        func number(_ text: Substring) throws(ModelError) -> Int {
            guard let value = Int(text) else { throw invalid }
            return value
        }
        func item(_ text: Substring) throws(ModelError) -> ItemID { try ItemID(validating: String(text)) }

        self.init(course: try CourseID(validating: String(parts[1])), resetKey: try key(parts[3]))
        eventCount = count
        if !parts[4].isEmpty {
            let fields = parts[4].split(separator: ",", maxSplits: 2)
            guard fields.count == 3, let resumeKey = try key(fields[2]) else { throw invalid }
            resume = ResumePoint(lesson: try item(fields[0]), offset: try number(fields[1]), key: resumeKey)
        }
        for fields in try entries(parts[5], width: 3) {
            guard let status = LessonStatus(rawValue: try number(fields[1])) else { throw invalid }
            lessons[try item(fields[0])] = LessonProgress(status: status, secondsSpent: try number(fields[2]))
        }
        for fields in try entries(parts[6], width: 5) {
            quizzes[try item(fields[0])] = QuizProgress(
                attempts: try number(fields[1]), bestScore: try number(fields[2]), questionCount: try number(fields[3]),
                passed: fields[4] == "1")
        }
        for fields in try entries(parts[7], width: 4) {
            guard let currentKey = try key(fields[3]) else { throw invalid }
            scenarios[try item(fields[0])] = ScenarioProgress(choices: try number(fields[1]), current: try item(fields[2]), currentKey: currentKey)
        }
    }
}
