public import Foundation
public import LearnSyncModels

/// The sample course (a POPIA customer-privacy course), built into the binary
/// (`Resources/customer-privacy.json`, embedded in code), so a `learnsync` copied anywhere has it.
public enum SampleCatalog {
    /// The sample course's JSON, as shipped.
    public static var courseJSON: Data { Data(PackageResources.customer_privacy_json) }

    /// The catalog of the sample course.
    /// - Throws: `DecodingError` or ``ModelError`` only if the embedded file were broken.
    public static func load() throws -> Catalog {
        try Catalog([JSONDecoder().decode(Course.self, from: courseJSON)])
    }

    /// The id of the sample course.
    public static let courseID: CourseID = "customer-privacy"
}

/// The repository's `Fixtures` folder (protocol golden files, scenarios), for tests that run in
/// the source tree.
public enum Fixtures {
    /// The `Fixtures` folder of this source tree.
    public static var directory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures")
    }

    /// The root of this source tree.
    public static var repository: URL { directory.deletingLastPathComponent() }
}
