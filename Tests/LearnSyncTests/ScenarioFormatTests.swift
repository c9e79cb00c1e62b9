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
        let status = try ScenarioScript.read(Data(
            #"{"name": "t", "steps": [{"action": "record", "device": "phone", "lesson": "keep-secure", "status": "complete"}]}"#.utf8))
        let result = try await ScenarioRunner(catalog: try SampleCatalog.load()).run(status)
        #expect(result.failures.count == 1 && result.failures[0].contains("\"started\" or \"completed\""))
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

    @Test func theReferenceNamesEveryField() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/SCENARIOS.md"), encoding: .utf8)
        let step = try JSONDecoder().decode(ScenarioStep.self, from: Data(#"{"action": ""}"#.utf8))
        let expectation = try JSONDecoder().decode(Expectation.self, from: Data("{}".utf8))
        for field in (Array(Mirror(reflecting: step).children) + Array(Mirror(reflecting: expectation).children)).compactMap(\.label) {
            #expect(text.contains("`\(field)`"), "docs/SCENARIOS.md does not name `\(field)`")
        }
    }
}
