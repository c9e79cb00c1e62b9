import Foundation
import LearnSyncMerge
import Testing

/// A lesson's status is a string in JSON; the numbers older servers wrote are still read.
@Suite struct LessonStatusCodingTests {
    @Test func writesNamesAndReadsNamesAndOldNumbers() throws {
        #expect(String(decoding: try JSONEncoder().encode([LessonStatus.notStarted, .completed]), as: UTF8.self) == #"["not-started","completed"]"#)
        let read = try JSONDecoder().decode([LessonStatus].self, from: Data(#"["started", 2, 0]"#.utf8))
        #expect(read == [.started, .completed, .notStarted])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([LessonStatus].self, from: Data(#"["done"]"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([LessonStatus].self, from: Data("[7]".utf8)) }
        #expect(LessonStatus.notStarted.description == "not started")
    }
}
