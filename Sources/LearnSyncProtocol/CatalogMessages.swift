public import LearnSyncMerge
public import LearnSyncModels

/// `GET /v1/catalog`: every version of every course the server knows. The answer carries an
/// `ETag` (the catalog's ``Catalog/fingerprint``); a request with `If-None-Match` naming it gets
/// 304 with no body.
package struct CatalogResponse: Codable, WireCodable, Hashable, Sendable {
    package var version: Int
    /// The catalog's fingerprint, as in the ETag and in every sync answer's `catalog`.
    package var fingerprint: String
    /// Every version of every course, sorted by id and version.
    package var courses: [Course]

    package init(catalog: Catalog, version: Int = ProtocolVersion.current) {
        self.version = version
        fingerprint = catalog.fingerprint
        courses = catalog.allVersions
    }

    private enum CodingKeys: String, CodingKey { case version = "protocol", fingerprint, courses }

    /// The catalog this answer holds.
    /// - Throws: ``Problem`` `malformed-json` when the courses do not form a valid catalog.
    package func catalog() throws(Problem) -> Catalog {
        do {
            return try Catalog(courses)
        } catch {
            throw Problem(code: .malformedJSON, detail: "courses: \(error.message)")
        }
    }
}

/// `GET /v1/progress`: the caller's progress as the server derives it from the events it holds
/// and its own catalog, course by course: the same rules the device applies, so a device that
/// holds the same events and catalog shows the same.
public struct ProgressResponse: Codable, WireCodable, Hashable, Sendable {
    public var version: Int
    /// The learner whose progress this is (the account, for an attached guest).
    public var learner: LearnerID
    /// The fingerprint of the catalog the server graded with.
    public var catalog: String
    /// One entry per course of the server's catalog that holds any of the learner's events.
    public var courses: [CourseReport]

    public init(learner: LearnerID, catalog: String, courses: [CourseReport], version: Int = ProtocolVersion.current) {
        self.version = version
        self.learner = learner
        self.catalog = catalog
        self.courses = courses
    }

    private enum CodingKeys: String, CodingKey { case version = "protocol", learner, catalog, courses }
}

/// One course's merged progress and certificate status, as the server grades them.
public struct CourseReport: Codable, Hashable, Sendable {
    public var progress: CourseProgress
    public var certificate: CertificateStatus

    public init(progress: CourseProgress, certificate: CertificateStatus) {
        self.progress = progress
        self.certificate = certificate
    }
}

extension CourseReport {
    /// Grades a learner's events course by course under `catalog`, with the device's rules: one
    /// report per course of the catalog that holds any of the events, in catalog order.
    public static func grade(_ events: [ProgressEvent], catalog: Catalog) -> [CourseReport] {
        var byCourse = [CourseID: [ProgressEvent]]()
        for event in events { byCourse[event.course, default: []].append(event) }
        return reports(byCourse.mapValues { CourseProgress.rebuild(course: $0[0].course, catalog: catalog, from: $0) }, catalog: catalog)
    }

    /// The reports of progress graded already (a server keeps it between calls): one per course
    /// of the catalog that has progress, in catalog order.
    package static func reports(_ courses: [CourseID: CourseProgress], catalog: Catalog) -> [CourseReport] {
        catalog.courses.compactMap { course in
            courses[course.id].map { CourseReport(progress: $0, certificate: $0.certificate(for: course)) }
        }
    }
}
