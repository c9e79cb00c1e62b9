public import Foundation

/// The courses a device or server knows, looked up by id and version.
///
/// A catalog may hold several versions of a course: ``courses`` and the subscript give the
/// newest, ``course(_:version:)`` any. Events of items the newest version lacks are kept but do
/// not count; a quiz attempt is graded against the version it names.
public struct Catalog: Sendable, Hashable {
    /// The newest version of each course, in the order the courses first appear.
    public let courses: [Course]
    /// Every version of every course, sorted by id and version.
    public let allVersions: [Course]
    private let index: [CourseID: Int]
    private let versions: [CourseID: [Int: Course]]
    /// Each course's certificate rules, one per version that has its own, newest first.
    private let rules: [CourseID: [CertificateRule]]

    /// Creates a catalog. A course id may appear once per version.
    public init(_ courses: [Course]) throws(ModelError) {
        var versions = [CourseID: [Int: Course]]()
        var order = [CourseID]()
        for course in courses {
            if versions[course.id] == nil { order.append(course.id) }
            guard versions[course.id, default: [:]].updateValue(course, forKey: course.version) == nil else {
                throw ModelError(.invalidCatalog, "course id \(course.id) version \(course.version) is used twice")
            }
        }
        self.versions = versions
        self.courses = order.map { id in versions[id]!.max { $0.key < $1.key }!.value }
        self.allVersions = versions.keys.sorted().flatMap { id in versions[id]!.keys.sorted().map { versions[id]![$0]! } }
        self.index = Dictionary(uniqueKeysWithValues: self.courses.enumerated().map { ($1.id, $0) })
        self.rules = versions.mapValues { byVersion in
            byVersion.keys.sorted(by: >).map { byVersion[$0]!.certificate }.reduce(into: [CertificateRule]()) { rules, rule in
                if !rules.contains(rule) { rules.append(rule) }
            }
        }
    }

    /// The certificate rules of every version of a course this catalog holds, newest first (each
    /// once): a certificate earned under any of them stays earned when a later version changes
    /// the rule.
    package func certificateRules(of id: CourseID) -> [CertificateRule] {
        rules[id] ?? []
    }

    /// The newest version of the course with this id, if any.
    public subscript(id: CourseID) -> Course? {
        index[id].map { courses[$0] }
    }

    /// Whether the catalog has a course with this id (`self[id] != nil` copies the course out:
    /// each of its arrays retained and released, per applied event).
    package func contains(_ id: CourseID) -> Bool {
        index[id] != nil
    }

    /// One version of a course, if this catalog has it.
    public func course(_ id: CourseID, version: Int) -> Course? {
        versions[id]?[version]
    }

    /// This catalog and `other` together: every version of both. Where both hold the same
    /// version of a course, this catalog's copy is kept.
    public func merging(_ other: Catalog) -> Catalog {
        var combined = allVersions
        for course in other.allVersions where self.course(course.id, version: course.version) == nil {
            combined.append(course)
        }
        // Versions are unique by construction.
        return try! Catalog(combined)
    }

    /// A short fingerprint of every version's content (FNV-1a over its canonical JSON): equal
    /// catalogs have equal fingerprints. Servers use it as the catalog's ETag.
    public var fingerprint: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for course in allVersions {
            // Encoding plain Codable values cannot fail.
            for byte in try! encoder.encode(course) {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
        }
        let text = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }

    /// Loads one course file or a folder of them. A file holds one ``Course`` (a JSON object) or
    /// several (a JSON array, as `learnsync courses --json` prints them); docs/COURSES.md
    /// describes the format.
    /// - Throws: ``ModelError`` `invalidCatalog` naming the file and the field at fault.
    public static func load(from url: URL) throws -> Catalog {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ModelError(.invalidCatalog, "no course file or folder at \(url.path)")
        }
        let files: [URL]
        if isDirectory.boolValue {
            files = try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "json" && !$0.lastPathComponent.hasPrefix(".") }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        } else {
            files = [url]
        }
        var courses = [Course]()
        for file in files { courses += try Self.courses(in: file) }
        guard !courses.isEmpty else { throw ModelError(.invalidCatalog, "\(url.path): no course (a folder's course files end in .json)") }
        do {
            return try Catalog(courses)
        } catch {
            throw ModelError(.invalidCatalog, "\(url.path): \(error.message)")
        }
    }

    /// The courses one file holds: an object is one course, an array several.
    private static func courses(in file: URL) throws(ModelError) -> [Course] {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw ModelError(.invalidCatalog, "\(file.path): cannot be read: \(error.localizedDescription)")
        }
        let decoder = JSONDecoder()
        do {
            if data.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "[") {
                return try decoder.decode([Course].self, from: data)
            }
            return [try decoder.decode(Course.self, from: data)]
        } catch let error as DecodingError {
            throw ModelError(.invalidCatalog, "\(file.path): \(error.summary)")
        } catch {
            throw ModelError(.invalidCatalog, "\(file.path): \(error)")
        }
    }

    /// Checks an event against the catalog: the course and every item it names must exist (in
    /// the newest version, or for a quiz attempt in the version it names), and a quiz attempt
    /// must answer each question with one of its options.
    public func validate(_ event: ProgressEvent) throws(ModelError) {
        try validate(event.payload, in: event.course)
    }

    /// Checks a payload against the course it is about (see ``validate(_:)``).
    public func validate(_ payload: EventPayload, in courseID: CourseID) throws(ModelError) {
        guard let course = self[courseID] else {
            throw ModelError(.unknownCourse, "unknown course \(courseID)")
        }
        if case .quizAttempt(_, _, let version) = payload, version != 0, version != course.version {
            guard let answered = self.course(courseID, version: version) else {
                throw ModelError(.unknownVersion, "unknown version \(version) of course \(courseID)")
            }
            try answered.validate(payload)
        } else {
            try course.validate(payload)
        }
    }
}

extension Course {
    /// Checks that a payload names items of this course and answers quizzes properly.
    public func validate(_ payload: EventPayload) throws(ModelError) {
        switch payload {
        case .lessonStarted(let lesson), .lessonCompleted(let lesson),
             .timeSpent(let lesson, _), .resumePosition(let lesson, _):
            guard self.lesson(lesson) != nil else { throw ModelError(.unknownItem, "unknown lesson \(lesson)") }
        case .quizAttempt(let quizID, let answers, _):
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
