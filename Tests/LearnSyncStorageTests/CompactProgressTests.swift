import Foundation
import LearnSyncMerge
import LearnSyncModels
import LearnSyncStorage
import LearnSyncTestSupport
import Testing

/// The stored form of a course's progress (`compactEncoded()`, `init(compact:)`): every progress
/// the merge can reach reads back equal, and a damaged row is an error, never a wrong progress.
@Suite struct CompactProgressTests {
    @Test func everyReachableProgressReadsBackEqual() throws {
        let catalog = try CatalogVersions.make(from: SampleCatalog.load(), count: 3).last!
        let seed = SeededGenerator.seedFromEnvironment()
        print("CompactProgressTests seed: \(seed)")
        var seeds = SeededGenerator(seed: seed)
        for _ in 0..<1000 {
            let caseSeed = seeds.next()
            var generator = SeededGenerator(seed: caseSeed)
            var replica = ProgressReplica(catalog: catalog)
            try replica.attach(guest: "g-guest1", to: "a-account")
            let events = RandomStudy.events(
                count: Int.random(in: 0...40, using: &generator), catalog: catalog, learners: ["a-account", "g-guest1", "g-guest2"],
                replicas: ["replica-a", "replica-b", "replica-c"], skewed: true, using: &generator)
            for event in events { try replica.insert(event) }
            for (_, courses) in replica.allProgress {
                for progress in courses.values {
                    #expect(try CourseProgress(compact: progress.compactEncoded()) == progress, "case seed \(caseSeed)")
                }
            }
        }
        #expect(throws: ModelError.self) { try CourseProgress(compact: Data("v2|nonsense".utf8)) }
        #expect(throws: ModelError.self) { try CourseProgress(compact: Data("v2|c|1|r:1=x|||||".utf8)) }
        #expect(throws: ModelError.self) { try CourseProgress(compact: Data("v1|c|1||||x,9,0||".utf8)) }
    }
}
