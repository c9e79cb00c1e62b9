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

    /// Syncs every device in turn, twice, so everything each pushed reaches all the others.
    public static func syncUntilQuiet(_ devices: [LearnSyncClient]) async throws {
        for _ in 0..<2 {
            for device in devices { try await device.sync() }
        }
    }
}
