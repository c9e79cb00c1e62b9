import LearnSyncModels
import LearnSyncTestSupport
import Testing

@Suite struct SeenEventsTests {
    @Test func runsOfCountersRoundTripThroughText() throws {
        let ids = [1, 2, 3, 7, 8, 10].map { EventID(replica: "b", seq: $0) } + [EventID(replica: "a", seq: 5)]
        let seen = SeenEvents(ids)
        #expect(seen.text == "a:5-5;b:1-3,7-8,10-10")
        #expect(try SeenEvents(text: seen.text) == seen)
        for id in ids { #expect(seen.contains(id)) }
        for missing in [EventID(replica: "b", seq: 4), EventID(replica: "b", seq: 9), EventID(replica: "b", seq: 11), EventID(replica: "c", seq: 1)] {
            #expect(!seen.contains(missing))
        }
        #expect(try SeenEvents(text: "").isEmpty)
    }

    @Test(arguments: ["a", "a:", "a:0-1", "a:1-", "a:1-2-3", "a b:1-1", "a:x-1", ":1-1", "a:1-1;"])
    func malformedTextIsRefused(_ text: String) {
        #expect(throws: ModelError.self) { try SeenEvents(text: text) }
    }

    @Test(arguments: [
        ("a:3-2", "a:2-3"), ("a:1-2,2-3", "a:1-3"), ("a:1-2,3-4", "a:1-4"), ("b:1-1;a:1-1", "a:1-1;b:1-1"),
        ("a:1-1;a:2-2", "a:1-2"), ("a:7-9,1-2,2-4", "a:1-4,7-9"),
    ])
    func anyOrderAndOverlapNameTheSameSet(_ text: String, _ canonical: String) throws {
        #expect(try SeenEvents(text: text).text == canonical)
    }

    @Test func aThousandRangesAtMost() throws {
        let many = (0..<1001).map { "\($0 * 2 + 1)-\($0 * 2 + 1)" }.joined(separator: ",")
        #expect(throws: ModelError.self) { try SeenEvents(text: "a:" + many) }
    }

    @Test func movedCountersFollowTheirEvents() throws {
        var seen = try SeenEvents(text: "old:1-5")
        seen.rename("old", movedTo: "new", moved: [4: 1, 5: 2])
        #expect(seen.text == "new:1-2;old:1-3")
    }

    @Test func randomSetsAgreeWithASetOfIds() throws {
        let seed = SeededGenerator.seedFromEnvironment()
        print("SeenEventsTests seed: \(seed)")
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<1000 {
            let ids = Set((0..<Int.random(in: 0...40, using: &generator)).map { _ in
                EventID(replica: ["r1", "r2", "r3"].randomElement(using: &generator)!, seq: Int64.random(in: 1...30, using: &generator))
            })
            let seen = SeenEvents(ids)
            #expect(try SeenEvents(text: seen.text) == seen, "seed \(seed)")
            for replica: ReplicaID in ["r1", "r2", "r3"] {
                for seq in Int64(1)...31 {
                    let id = EventID(replica: replica, seq: seq)
                    #expect(seen.contains(id) == ids.contains(id), "seed \(seed)")
                }
            }
        }
    }
}
