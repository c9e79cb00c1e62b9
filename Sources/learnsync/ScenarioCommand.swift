import ArgumentParser
import Foundation
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting

struct ScenarioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario", abstract: "Run declarative scenario scripts.", subcommands: [Run.self])

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run scenario files (JSON; see Fixtures/scenarios/) against an embedded server.",
            discussion: "Each scenario gets a fresh server and fresh devices. Exits non-zero if any expectation fails.")

        @Argument(help: "Scenario files or folders of them.") var files: [String]
        @OptionGroup var catalog: CatalogOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let runner = ScenarioRunner(catalog: try catalog.load())
            var results = [ScenarioResult]()
            for file in try expand(files) {
                let result = try await runner.run(file: file)
                results.append(result)
                if !output.json {
                    print("\(result.passed ? "PASS" : "FAIL")  \(result.name)  (\(file.lastPathComponent), \(result.steps) steps)")
                    for failure in result.failures { print("      \(failure)") }
                }
            }
            let failed = results.filter { !$0.passed }.count
            if output.json {
                try Output.printJSON(results)
            } else {
                print("\(results.count - failed) passed, \(failed) failed")
            }
            if failed > 0 { throw ExitCode.failure }
        }

        private func expand(_ paths: [String]) throws -> [URL] {
            try paths.flatMap { path -> [URL] in
                let url = URL(fileURLWithPath: path)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                    throw ValidationError("no such file or folder: \(path)")
                }
                guard isDirectory.boolValue else { return [url] }
                return try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
                    .filter { $0.pathExtension == "json" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
            }
        }
    }
}
