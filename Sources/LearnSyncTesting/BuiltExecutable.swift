package import Foundation
import LearnSyncTestSupport

/// The `learnsync` executable built beside the tests, for the suites that run it as a user does.
package enum BuiltExecutable {
    struct Missing: Error, CustomStringConvertible {
        var description: String { "the learnsync executable is not built: swift build --traits Server --product learnsync" }
    }

    /// Its location: beside the test bundle, else in the package's `.build/debug`.
    /// - Throws: when neither holds an executable.
    package static func url() throws -> URL {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("learnsync")
        if FileManager.default.isExecutableFile(atPath: executable.path) { return executable }
        let built = Fixtures.repository.appendingPathComponent(".build/debug/learnsync")
        guard FileManager.default.isExecutableFile(atPath: built.path) else { throw Missing() }
        return built
    }
}
