/// A version of a course that two catalogs hold with different content: an answer key, an item
/// or a certificate rule changed without a new version number. Attempts answered under that
/// version would be graded differently by each, so a change must be published as a new version.
public struct CatalogConflict: Hashable, Sendable, CustomStringConvertible {
    public var course: CourseID
    public var version: Int

    public init(course: CourseID, version: Int) {
        self.course = course
        self.version = version
    }

    public var description: String {
        "course \(course) version \(version) differs between the server and the app: publish a change as a new version"
    }

    /// The versions `server` and `app` both hold with different content.
    public static func between(server: Catalog, app: Catalog) -> [CatalogConflict] {
        server.allVersions.compactMap { course in
            guard let other = app.course(course.id, version: course.version), other != course else { return nil }
            return CatalogConflict(course: course.id, version: course.version)
        }
    }
}
