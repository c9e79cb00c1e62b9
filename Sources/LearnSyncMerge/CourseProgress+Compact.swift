package import Foundation
package import LearnSyncModels

/// A compact, deterministic text form of ``CourseProgress`` for storage, about ten times faster
/// to write and read than JSON (it is written on every recorded event).
///
/// `v2|course|eventCount|resets|resume|lessons|quizzes|scenarios|earnedAt|firstDone`, where a key is
/// `hlc:replica:seq`, a reset is `replica:seq=seen` (``SeenEvents`` text) and resets are
/// `/`-separated, other lists are `;`-separated, fields `,`-separated, entries sorted by id, and
/// a missing time is empty. Identifiers never hold `|`, `/`, `=`, `;`, `,` or `:`, so no
/// escaping is needed.
extension CourseProgress {
    /// The compact form (written straight into bytes: it is encoded on every recorded event).
    package func compactEncoded() -> Data {
        var out = CompactWriter()
        out.text("v2")
        out.separator("|")
        out.text(course.rawValue)
        out.separator("|")
        out.number(eventCount)
        out.separator("|")
        for (index, reset) in resets.enumerated() {
            if index > 0 { out.separator("/") }
            out.text(reset.id.replica.rawValue)
            out.separator(":")
            out.number(reset.id.seq)
            out.separator("=")
            out.text(reset.seen.text)
        }
        out.separator("|")
        if let resume {
            out.text(resume.lesson.rawValue)
            out.separator(",")
            out.number(resume.offset)
            out.separator(",")
            out.key(resume.key)
        }
        out.separator("|")
        for (index, entry) in lessons.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { out.separator(";") }
            out.text(entry.key.rawValue)
            out.separator(",")
            out.number(entry.value.status.rawValue)
            out.separator(",")
            out.number(entry.value.secondsSpent)
        }
        out.separator("|")
        for (index, entry) in quizzes.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { out.separator(";") }
            out.text(entry.key.rawValue)
            out.separator(",")
            out.number(entry.value.attempts)
            out.separator(",")
            out.number(entry.value.bestScore)
            out.separator(",")
            out.number(entry.value.questionCount)
            out.separator(",")
            out.number(entry.value.passed ? 1 : 0)
        }
        out.separator("|")
        for (index, entry) in scenarios.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { out.separator(";") }
            out.text(entry.key.rawValue)
            out.separator(",")
            out.number(entry.value.choices)
            out.separator(",")
            out.text(entry.value.current.rawValue)
            out.separator(",")
            out.key(entry.value.currentKey)
        }
        out.separator("|")
        out.time(certificateEarnedAt)
        out.separator("|")
        for (index, entry) in firstDone.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { out.separator(";") }
            out.text(entry.key.rawValue)
            out.separator(",")
            out.number(entry.value.rawValue)
        }
        return Data(out.bytes)
    }

    /// Reads the compact form.
    /// - Throws: ``ModelError`` `invalidEvent` when the data is not a valid compact form.
    package init(compact data: Data) throws(ModelError) {
        let invalid = ModelError(.invalidEvent, "stored progress is not in the compact form")
        let parts = String(decoding: data, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 10, parts[0] == "v2", let count = Int(parts[2]) else { throw invalid }
        func key(_ text: Substring) throws(ModelError) -> EventKey? {
            if text.isEmpty { return nil }
            let fields = text.split(separator: ":")
            guard fields.count == 3, let hlc = Int64(fields[0]), let seq = Int64(fields[2]) else { throw invalid }
            return EventKey(timestamp: HLCTimestamp(rawValue: hlc), id: EventID(replica: try ReplicaID(validating: String(fields[1])), seq: seq))
        }
        func time(_ text: Substring) throws(ModelError) -> HLCTimestamp? {
            if text.isEmpty { return nil }
            guard let value = Int64(text) else { throw invalid }
            return HLCTimestamp(rawValue: value)
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

        self.init(course: try CourseID(validating: String(parts[1])))
        eventCount = count
        for reset in parts[3].split(separator: "/") {
            let halves = reset.split(separator: "=", omittingEmptySubsequences: false)
            let id = halves.first?.split(separator: ":") ?? []
            guard halves.count == 2, id.count == 2, let seq = Int64(id[1]) else { throw invalid }
            resets.append(ResetMark(
                id: EventID(replica: try ReplicaID(validating: String(id[0])), seq: seq), seen: try SeenEvents(text: String(halves[1]))))
        }
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
        certificateEarnedAt = try time(parts[8])
        for fields in try entries(parts[9], width: 2) {
            guard let at = try time(fields[1]) else { throw invalid }
            firstDone[try item(fields[0])] = at
        }
    }
}

/// Appends the compact form's parts to a byte buffer.
private struct CompactWriter {
    var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(512)
    }

    mutating func text(_ value: String) {
        bytes.append(contentsOf: value.utf8)
    }

    mutating func separator(_ character: Unicode.Scalar) {
        bytes.append(UInt8(ascii: character))
    }

    mutating func number(_ value: Int) {
        number(Int64(value))
    }

    /// Decimal digits, written last to first into a buffer on the stack and appended at once.
    mutating func number(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// A time, or nothing.
    mutating func time(_ time: HLCTimestamp?) {
        if let time { number(time.rawValue) }
    }

    /// `hlc:replica:seq`, or nothing.
    mutating func key(_ key: EventKey?) {
        guard let key else { return }
        number(key.timestamp.rawValue)
        separator(":")
        text(key.id.replica.rawValue)
        separator(":")
        number(key.id.seq)
    }
}
