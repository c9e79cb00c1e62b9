package import Foundation
package import LearnSyncMerge
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
        out.list(lessons) { out, lesson in
            out.number(lesson.status.rawValue)
            out.separator(",")
            out.number(lesson.secondsSpent)
        }
        out.separator("|")
        out.list(quizzes) { out, quiz in
            out.number(quiz.attempts)
            out.separator(",")
            out.number(quiz.bestScore)
            out.separator(",")
            out.number(quiz.questionCount)
            out.separator(",")
            out.number(quiz.passed ? 1 : 0)
        }
        out.separator("|")
        out.list(scenarios) { out, scenario in
            out.number(scenario.choices)
            out.separator(",")
            out.text(scenario.current.rawValue)
            out.separator(",")
            out.key(scenario.currentKey)
        }
        out.separator("|")
        out.time(certificateEarnedAt)
        out.separator("|")
        out.list(firstDone) { out, time in out.number(time.rawValue) }
        return out.data
    }

    /// Reads the compact form.
    /// - Throws: ``ModelError`` `invalidEvent` when the data is not a valid compact form.
    package init(compact data: Data) throws(ModelError) {
        // Split as bytes: splitting the text as `Character`s (grapheme by grapheme) was nine
        // tenths of reading a row. Every separator is ASCII, so a byte split is the same split.
        let invalid = ModelError(.invalidEvent, "stored progress is not in the compact form")
        let bytes = [UInt8](data)[...]
        typealias Bytes = ArraySlice<UInt8>
        func split(_ text: Bytes, _ separator: Unicode.Scalar) -> [Bytes] {
            text.split(separator: UInt8(ascii: separator), omittingEmptySubsequences: false)
        }
        func string(_ text: Bytes) -> String { String(decoding: text, as: UTF8.self) }
        func integer(_ text: Bytes) throws(ModelError) -> Int64 {
            guard let value = CompactReader.integer(text) else { throw invalid }
            return value
        }
        func number(_ text: Bytes) throws(ModelError) -> Int { Int(try integer(text)) }
        func key(_ text: Bytes) throws(ModelError) -> EventKey? {
            if text.isEmpty { return nil }
            let fields = text.split(separator: UInt8(ascii: ":"))
            guard fields.count == 3 else { throw invalid }
            return EventKey(
                timestamp: HLCTimestamp(rawValue: try integer(fields[0])),
                id: EventID(replica: try ReplicaID(validating: string(fields[1])), seq: try integer(fields[2])))
        }
        func time(_ text: Bytes) throws(ModelError) -> HLCTimestamp? {
            text.isEmpty ? nil : HLCTimestamp(rawValue: try integer(text))
        }
        func entries(_ text: Bytes, width: Int) throws(ModelError) -> [[Bytes]] {
            var result = [[Bytes]]()
            for entry in text.split(separator: UInt8(ascii: ";")) {
                let fields = split(entry, ",")
                guard fields.count == width else { throw invalid }
                result.append(fields)
            }
            return result
        }
        func item(_ text: Bytes) throws(ModelError) -> ItemID { try ItemID(validating: string(text)) }

        let parts = split(bytes, "|")
        guard parts.count == 10, parts[0].elementsEqual("v2".utf8) else { throw invalid }
        self.init(course: try CourseID(validating: string(parts[1])))
        eventCount = try number(parts[2])
        for reset in parts[3].split(separator: UInt8(ascii: "/")) {
            let halves = split(reset, "=")
            let id = halves.first?.split(separator: UInt8(ascii: ":")) ?? []
            guard halves.count == 2, id.count == 2 else { throw invalid }
            resets.append(ResetMark(
                id: EventID(replica: try ReplicaID(validating: string(id[0])), seq: try integer(id[1])),
                seen: try SeenEvents(text: string(halves[1]))))
        }
        if !parts[4].isEmpty {
            let fields = parts[4].split(separator: UInt8(ascii: ","), maxSplits: 2)
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
                passed: fields[4].elementsEqual("1".utf8))
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

/// Reads the compact form's numbers from its bytes.
private enum CompactReader {
    /// A decimal integer with an optional leading `-`, as the writer writes it; nil for anything
    /// else (no digits, another byte, or a value outside `Int64`).
    static func integer(_ text: ArraySlice<UInt8>) -> Int64? {
        var digits = text
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty else { return nil }
        // Accumulated as a negative number, so Int64.min reads too.
        var value: Int64 = 0
        for byte in digits {
            let digit = Int64(byte) - Int64(UInt8(ascii: "0"))
            guard digit >= 0, digit <= 9 else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.subtractingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = next
        }
        if negative { return value }
        return value == .min ? nil : -value
    }
}

/// Writes the compact form's parts into one growing buffer. Array appends checked uniqueness
/// and capacity on each of the form's 150-odd parts (a fifth of encoding); this checks capacity
/// only.
private struct CompactWriter: ~Copyable {
    private var start: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int

    init() {
        capacity = 1024
        start = .allocate(capacity: capacity)
    }

    deinit {
        start.deallocate()
    }

    /// The bytes written.
    var data: Data { Data(bytes: start, count: count) }

    /// Room for `more` bytes after those written.
    private mutating func reserve(_ more: Int) {
        guard count + more > capacity else { return }
        capacity = max(2 * capacity, count + more)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        grown.initialize(from: start, count: count)
        start.deallocate()
        start = grown
    }

    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        reserve(bytes.count)
        if let base = bytes.baseAddress { (start + count).initialize(from: base, count: bytes.count) }
        count += bytes.count
    }

    /// The UTF-8 bytes, copied at once (appending the UTF-8 view byte by byte was a sixth of
    /// encoding).
    mutating func text(_ value: String) {
        var value = value
        value.withUTF8 { append($0) }
    }

    /// `id,fields;id,fields;…` in id order, so equal progress always has equal bytes. Sorts the
    /// dictionary's indices in a buffer on the stack: sorting a copy of the entries allocated an
    /// array and retained every id and value, a third of encoding.
    @inline(__always)
    mutating func list<Value>(_ entries: [ItemID: Value], _ fields: (inout CompactWriter, Value) -> Void) {
        withUnsafeTemporaryAllocation(of: Dictionary<ItemID, Value>.Index.self, capacity: entries.count) { buffer in
            var order = buffer
            _ = order.initialize(fromContentsOf: entries.indices)
            order.sort { entries[$0].key < entries[$1].key }
            for (position, index) in order.enumerated() {
                if position > 0 { separator(";") }
                text(entries[index].key.rawValue)
                separator(",")
                fields(&self, entries[index].value)
            }
            order.deinitialize()
        }
    }

    mutating func separator(_ character: Unicode.Scalar) {
        reserve(1)
        start[count] = UInt8(ascii: character)
        count += 1
    }

    mutating func number(_ value: Int) {
        number(Int64(value))
    }

    /// Decimal digits, written last to first in place, two a step: an HLC time has 18 digits,
    /// and one long division per digit was half of writing the `firstDone` list (splitting a
    /// pair is not on that chain).
    mutating func number(_ value: Int64) {
        reserve(20)
        if value < 0 {
            start[count] = UInt8(ascii: "-")
            count += 1
        }
        var magnitude = value.magnitude
        var digits = 1
        var power: UInt64 = 10
        while digits < 20, magnitude >= power {
            digits += 1
            if digits < 20 { power &*= 10 }
        }
        var end = count + digits
        count = end
        func digit(_ value: UInt64) -> UInt8 { UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value) }
        while magnitude >= 100 {
            let pair = magnitude % 100
            magnitude /= 100
            end -= 2
            start[end] = digit(pair / 10)
            start[end + 1] = digit(pair % 10)
        }
        if magnitude >= 10 {
            end -= 1
            start[end] = digit(magnitude % 10)
            magnitude /= 10
        }
        start[end - 1] = digit(magnitude)
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
