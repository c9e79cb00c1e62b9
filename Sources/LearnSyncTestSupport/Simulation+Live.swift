import Foundation
package import LearnSync
import LearnSyncModels

extension LiveSyncOptions {
    /// Live sync as simulated and scripted devices run it: quick to retry, since their network
    /// faults come and go in milliseconds.
    package static let simulated = LiveSyncOptions(
        pushDelay: .milliseconds(20), baseBackoff: .milliseconds(20), maxBackoff: .milliseconds(200), pollInterval: .seconds(1))
}

extension World {

    /// With every device online: records on one device of each account after another and
    /// times the event's arrival on each other device signed in to the account, which none of
    /// them syncs by hand. (A device whose live sync learned that its account was erased started
    /// over as a guest by itself, as an app's would: it is in no group.)
    mutating func measurePropagation() async throws {
        var latencies = [Double]()
        var accounts = [LearnerID: [Int]]()
        for index in devices.indices {
            let learner = try await devices[index].client.identity().learner
            if !learner.isGuest { accounts[learner, default: []].append(index) }
        }
        for (account, group) in accounts.sorted(by: { $0.key < $1.key }) {
            guard group.count > 1 else { continue }
            for round in 0..<5 {
                let index = group[round % group.count]
                let client = devices[index].client
                let course = client.catalog.courses.randomElement(using: &generator)!
                let start = ContinuousClock.now
                let event = try await client.record(RandomStudy.payload(in: course, resets: false, using: &generator), in: course.id)
                devices[index].tracked.insert(event.id)
                report.events += 1
                for other in group where other != index {
                    let receiver = devices[other].client
                    if try await eventually(timeout: .seconds(5), every: .milliseconds(2), {
                        try await receiver.events(in: course.id).contains { $0.id == event.id }
                    }) {
                        latencies.append((ContinuousClock.now - start) / .milliseconds(1))
                    } else {
                        report.propagationTimeouts += 1
                        report.lostDetails.append("\(event.id) did not reach a device of \(account) within 5 s of live sync")
                    }
                }
            }
        }
        report.propagationSamples = latencies.count
        guard !latencies.isEmpty else { return }
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int((Double(latencies.count - 1) * p).rounded()))] }
        report.propagationP50Milliseconds = percentile(0.5)
        report.propagationP99Milliseconds = percentile(0.99)
    }
}
