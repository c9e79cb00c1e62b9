import Foundation
import LearnSyncModels
import LearnSyncTesting
import Testing

/// The scenario format: typos fail, and docs/SCENARIOS.md names every field.
@Suite struct ScenarioFormatTests {
    @Test func anUnknownKeyOrStatusFailsTheScenario() async throws {
        let typo = #"{"name": "t", "steps": [{"action": "expect", "device": "phone", "expect": {"quizzPassed": true}}]}"#
        #expect(throws: ScenarioFormatError.self) { try ScenarioScript.read(Data(typo.utf8)) }
        let stepTypo = #"{"name": "t", "steps": [{"action": "record", "device": "phone", "lesson": "keep-secure", "staus": "started"}]}"#
        #expect(throws: ScenarioFormatError.self) { try ScenarioScript.read(Data(stepTypo.utf8)) }
        // Unknown words fail before anything runs, naming the step and the word meant.
        for (bad, message) in [
            (#"{"action": "record", "device": "phone", "lesson": "keep-secure", "status": "complete"}"#,
             #"step 1 (record): a lesson's `status` is "started" or "completed", not "complete" (did you mean "completed"?)"#),
            (#"{"action": "sycn", "device": "phone"}"#, #"step 1 (sycn): unknown action "sycn" (did you mean "sync"?)"#),
            (#"{"action": "expect", "device": "phone", "expect": {"quizzPassed": true}}"#,
             #"step 1: unknown expectation "quizzPassed" (did you mean "quizPassed"?)"#),
            (#"{"action": "expect", "device": "phone", "expect": {"lessons": {"keep-secure": "done"}}}"#,
             #"step 1 (expect): lesson keep-secure is expected "not started", "started" or "completed", not "done""#),
            (#"{"action": "record", "device": "phone", "lesson": "keep-secure"}"#,
             #"step 1 (record): a lesson needs `status` ("started" or "completed") or `seconds`"#),
            (#"{"action": "sync", "device": "phone", "offsetMinutes": 600}"#,
             #"step 1 (sync): `offsetMinutes` does not belong to this action, which takes `device`"#),
            (#"{"action": "server-catalog", "device": "phone", "version": 2}"#,
             #"step 1 (server-catalog): `device` does not belong to this action, which takes `corrected`, `newestOnly`, `version`"#),
            (#"{"action": "expect", "device": "phone", "expect": {"scenarioChoice": null}}"#,
             #"step 1: `scenarioChoice` is null; leave a field out to leave it unchecked"#),
            (#"{"action": "expect", "device": "phone", "expect": {}}"#, #"step 1 (expect): it checks nothing"#),
            (#"{"action": "sync", "device": "phone "}"#,
             #"step 1 (sync): a device's name is not empty and has no spaces around it: "phone ""#),
        ] {
            #expect(throws: ScenarioFormatError.self, "\(bad)") {
                do {
                    _ = try ScenarioScript.read(Data(#"{"name": "t", "steps": [\#(bad)]}"#.utf8))
                } catch let error as ScenarioFormatError {
                    #expect(error.description == message)
                    throw error
                }
            }
        }
        for bad in [
            #"{"name": "t", "steps": [{"action": "clock", "device": "phone", "offsetMinutes": 1000000000000000}]}"#,
            #"{"name": "t", "steps": [{"action": "clock", "device": "phone"}]}"#,
            #"{"name": "t", "steps": [{"action": "sync", "device": "phone", "expect": {"pending": 0}}]}"#,
            #"{"name": "t", "steps": [{"action": "record", "device": "phone", "lesson": "keep-secure", "status": "completed", "reset": true}]}"#,
            #"{"name": "t", "steps": []}"#,
            #"{"steps": [{"action": "sync", "device": "phone"}]}"#,
        ] {
            #expect(throws: ScenarioFormatError.self, "\(bad)") { try ScenarioScript.read(Data(bad.utf8)) }
        }
        let unknownDevice = try ScenarioScript.read(Data(
            #"{"name": "t", "steps": [{"action": "expect", "device": "phnoe", "expect": {"lessons": {"keep-secur": "not started"}}}]}"#.utf8))
        #expect(try await ScenarioRunner(catalog: try SampleCatalog.load()).run(unknownDevice).failures.count == 1)
    }

    @Test func theBinaryHoldsEveryShippedScenario() throws {
        let folder = Fixtures.repository.appendingPathComponent("Sources/LearnSyncTesting/Scenarios")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(BuiltinScenarios.all.map(\.file) == files)
        for scenario in BuiltinScenarios.all {
            #expect(scenario.data == (try Data(contentsOf: folder.appendingPathComponent(scenario.file))), "\(scenario.file)")
            #expect(throws: Never.self, "\(scenario.file)") { _ = try ScenarioScript.read(scenario.data) }
        }
    }

    @Test func theReferenceNamesEveryField() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/SCENARIOS.md"), encoding: .utf8)
        let step = try JSONDecoder().decode(ScenarioStep.self, from: Data(#"{"action": ""}"#.utf8))
        let expectation = try JSONDecoder().decode(Expectation.self, from: Data("{}".utf8))
        for field in (Array(Mirror(reflecting: step).children) + Array(Mirror(reflecting: expectation).children)).compactMap(\.label) {
            #expect(text.contains("`\(field)`"), "docs/SCENARIOS.md does not name `\(field)`")
        }
        for action in ScenarioStep.actions {
            #expect(text.contains("`\(action)`"), "docs/SCENARIOS.md does not name the action `\(action)`")
        }
    }
}
