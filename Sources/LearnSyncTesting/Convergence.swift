public import LearnSync
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
