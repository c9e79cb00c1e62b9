public import Foundation
public import LearnSyncModels

/// The sample course catalog shipped in the repository's `Fixtures/courses/`.
public enum SampleCatalog {
    /// The `Fixtures` folder of this source tree.
    public static var fixturesDirectory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures")
    }

    /// The catalog of `Fixtures/courses/`.
    public static func load() throws -> Catalog {
        try Catalog.load(from: fixturesDirectory.appendingPathComponent("courses"))
    }

    /// The id of the sample course.
    public static let courseID: CourseID = "customer-privacy"
}
