import LearnSyncModels
import Testing

@Suite struct IdentifierTests {
    @Test(arguments: ["", String(repeating: "a", count: 65), "has space", "semi;colon", "ünïcode", "a,b"])
    func rejectsInvalidIdentifiers(_ value: String) {
        #expect(throws: ModelError.self) { try ItemID(validating: value) }
        #expect(ItemID(rawValue: value) == nil)
    }

    @Test(arguments: ["a", "lesson-1", "q.2_b", String(repeating: "z", count: 64)])
    func acceptsValidIdentifiers(_ value: String) throws {
        #expect(try ItemID(validating: value).rawValue == value)
    }

    @Test func newIdsAreRandomAndTyped() {
        let a = LearnerID.newGuest(), b = LearnerID.newGuest()
        #expect(a != b)
        #expect(a.isGuest)
        #expect(!LearnerID.newAccount().isGuest)
        #expect(ReplicaID.random().rawValue.count == 26)
        #expect(LearnerID(rawValue: a.rawValue) == a)
    }

    @Test func decodingAnInvalidIdentifierFails() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([CourseID].self, from: Data(#"[""]"#.utf8)) }
    }
}

import Foundation
