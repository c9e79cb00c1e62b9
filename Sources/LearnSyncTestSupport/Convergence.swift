public import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage

/// Checks that devices converged: each shows the same progress in every course of the catalog.
public enum Convergence {
    /// The devices whose progress differs from the first device's, by index.
    public static func divergentDevices(_ devices: [LearnSyncClient]) async throws -> [Int] {
        guard let first = devices.first else { return [] }
        let reference = try await first.store.allProgress()
        var divergent = [Int]()
        for (index, device) in devices.enumerated().dropFirst() where try await device.store.allProgress() != reference {
            divergent.append(index)
        }
        return divergent
    }

    /// The first difference between two devices' progress, in words.
    public static func difference(_ a: LearnSyncClient, _ b: LearnSyncClient) async throws -> String {
        let (x, y) = (try await a.store.allProgress(), try await b.store.allProgress())
        let (idA, idB) = (try await a.identity(), try await b.identity())
        for (p, q) in zip(x, y) where p != q {
            var fields = [String]()
            if p.lessons != q.lessons { fields.append("lessons") }
            if p.quizzes != q.quizzes { fields.append("quizzes") }
            if p.scenarios != q.scenarios { fields.append("scenarios") }
            if p.resume != q.resume { fields.append("resume") }
            if p.resets != q.resets { fields.append("resets \(p.resets.count) vs \(q.resets.count)") }
            if p.eventCount != q.eventCount { fields.append("event count \(p.eventCount) vs \(q.eventCount)") }
            if p.firstDone != q.firstDone { fields.append("first done") }
            if p.certificateEarnedAt != q.certificateEarnedAt { fields.append("certificate \(String(describing: p.certificateEarnedAt)) vs \(String(describing: q.certificateEarnedAt))") }
            return "\(idB.replica) differs from \(idA.replica) in \(p.course): \(fields.joined(separator: ", "))"
        }
        return "\(idB.replica) differs from \(idA.replica)"
    }

    /// Whether the server's own grading (`GET /v1/progress`) differs from the device's progress
    /// in any course.
    public static func disagreesWithServer(_ device: LearnSyncClient) async throws -> Bool {
        let graded = try await device.serverProgress()
        for report in graded.courses where try await device.progress(in: report.progress.course) != report.progress {
            return true
        }
        return false
    }

    /// Syncs every device in turn, twice, so everything each pushed reaches all the others.
    public static func syncUntilQuiet(_ devices: [LearnSyncClient]) async throws {
        for _ in 0..<2 {
            for device in devices { try await device.sync() }
        }
    }
}
