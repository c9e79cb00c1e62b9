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
            abstract: "Run scenario files (JSON) against an embedded server.",
            discussion: Self.discussion)

        /// The help's discussion: paragraphs as single lines, which ArgumentParser wraps.
        static let discussion = [
            "Each scenario gets a fresh server and fresh devices; after every step each device is compared with the reference model. "
                + "Exits 1 if any expectation fails. A file with an unknown action, key, expectation or value fails naming the step "
                + "(and the word meant). --builtin runs the scenarios built into this binary. The format, with an example of each "
                + "action and expectation, is in docs/SCENARIOS.md.",
            "",
            #"A scenario: {"name": "...", "course": "customer-privacy" (optional), "steps": [...]}"#,
            #"Step actions (each step {"action": ..., "device": ..., fields}):"#,
            "  record          lesson + status (started|completed) or seconds;",
            "                  quiz + answers (correct|wrong|[ids]);",
            "                  scenario + choice; reset: true",
            "  sync, offline, online, backup, restore    device",
            "  live-start, live-stop    device (its live sync runs between the steps)",
            "  signup, login   username, password",
            "  logout          force, everywhere",
            "  delete-account  password",
            "  clone           from (the device copied)",
            "  clock           offsetMinutes (the device's)",
            "  app-catalog     version (1-3), newestOnly, corrected",
            "  server-catalog  version (1-3), newestOnly, corrected (no device)",
            "  server-clock    offsetMinutes (no device)",
            "  restart-server, sweep, backup-server, restore-server    (no field)",
            "  expect          device, expect, within (ms to wait for it to hold, 1-60000)",
            "Any step but expect may carry expectError: a SyncError code, a problem code or catalog-conflict.",
            "",
            "Expectations: lessons (id -> not started|started|completed), completedLessons, quizAttempts, quizPassed, bestScore, "
                + "scenarioChoice, secondsSpent, eventCount, certificate, certificateEarned, pending, rejected, guest, catalogConflicts, "
                + "sameAs (another device).",
        ].joined(separator: "\n")

        @Argument(help: "Scenario files or folders of them.") var files: [String] = []
        @Flag(help: "Run the scenarios built into this binary (the shipped ones).") var builtin = false
        @OptionGroup var catalog: CatalogOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if files.isEmpty, !builtin { throw ValidationError("name scenario files or folders, or pass --builtin") }
        }

        func run() async throws {
            let runner = ScenarioRunner(catalog: try catalog.load())
            var scenarios = try expand(files).map { file in (file.lastPathComponent, { try Data(contentsOf: file) }) as (String, () throws -> Data) }
            if builtin { scenarios += BuiltinScenarios.all.map { scenario in (scenario.file, { scenario.data }) } }
            var results = [ScenarioResult]()
            for (file, data) in scenarios {
                let result = try await runner.run(named: file, data: data)
                results.append(result)
                if !output.json {
                    print("\(result.passed ? "PASS" : "FAIL")  \(result.name)  (\(file), \(result.steps) steps)")
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
