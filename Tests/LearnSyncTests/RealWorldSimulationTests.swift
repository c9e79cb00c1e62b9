import Foundation
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting
import Testing

/// The simulator in the real world, every fault on: lost, duplicated and reordered requests,
/// devices offline, clocks off by up to a day both ways and changing, the server and the apps
/// upgrading through three catalog versions at different moments, phones cloned and restored
/// from older backups, and retakes; and the product's lifecycle: sign-out and sign-in again,
/// password changes, account erasure, app updates that bundle only the newest versions (or a
/// copy corrected without a new version), server publishes that drop old versions, change the
/// certificate rule or correct a key without a new version. Every seed must lose nothing, diverge
/// nowhere, never make progress go backwards, and agree with the reference model after every
/// step. The run's first seed is printed; `LEARNSYNC_SEED=<seed>` replays it.
@Suite(.serialized, .tags(.slow)) struct RealWorldSimulationTests {
    static let seeds = Int(ProcessInfo.processInfo.environment["LEARNSYNC_SIM_SEEDS"] ?? "") ?? 100

    @Test func everySeedLosesNothingDivergesNowhereAndNeverGoesBack() async throws {
        let catalog = try SampleCatalog.load()
        let first = SeededGenerator.seedFromEnvironment()
        print("RealWorldSimulationTests seed: \(first) (\(Self.seeds) seeds)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-realworld-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let clock = OffsetWallClock()
        let server = try await EmbeddedServer.start(
            databasePath: folder.appendingPathComponent("server.sqlite").path, catalog: catalog, passwordCost: 4, clock: clock)
        var totals = SimulationTotals()
        for seed in first..<(first + UInt64(Self.seeds)) {
            let options = SimulationOptions(
                devices: 3, learners: 2, ops: 60, seed: seed,
                faults: Faults(dropRequest: 0.05, dropAnswer: 0.05, duplicate: 0.05, reorder: 0.05), offline: 0.05,
                clockSkewSeconds: 86_400, catalogVersions: 3, clones: 2, resetRate: 0.05, lifecycle: true)
            let report = try await Simulation.run(
                options, catalog: catalog, server: SimulatedServer(url: server.url, clock: clock, publish: { try await server.publish($0) },
                    sweep: { try await server.sweep(guestRetention: $0) }))
            #expect(report.lostEvents == 0, "seed \(seed): \(report.lostDetails)")
            #expect(report.divergentDevices == 0, "seed \(seed): \(report.divergenceDetails)")
            #expect(report.regressions == 0, "seed \(seed): \(report.regressionDetails)")
            #expect(report.modelMismatches == 0, "seed \(seed): \(report.modelDetails)")
            totals.add(report)
        }
        await server.stop()
        print("RealWorldSimulationTests: \(totals)")
        #expect(totals.events > 0 && totals.faults > 0)
        // The faults and the lifecycle's steps really happened. A few seeds, as in a sanitizer
        // run, may miss any one of them, so only a full run asks for each.
        if Self.seeds >= 50 {
            #expect(totals.clockChanges > 0 && totals.catalogUpgrades > 0 && totals.clones > 0 && totals.restores > 0)
            #expect(totals.resets > 0 && totals.moved > 0)
            #expect(totals.signOuts > 0 && totals.passwordChanges > 0 && totals.erasures > 0)
            #expect(totals.narrowPublishes > 0 && totals.refusedCorrections > 0 && totals.guestExpiries > 0)
        }
    }

    /// The same world, and a server that goes back in time: its database restored from a
    /// backup taken at a random earlier moment, or losing its last commits. Accounts, guests,
    /// sessions and attachments made since are gone from it; every device still holds its work.
    @Test func aServerThatGoesBackInTimeLosesNothing() async throws {
        let catalog = try SampleCatalog.load()
        // A random first seed, printed; LEARNSYNC_SEED=<seed> replays it.
        let first = SeededGenerator.seedFromEnvironment()
        let seeds = Self.seeds
        print("RealWorldSimulationTests server restores seed: \(first) (\(seeds) seeds)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-restores-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let clock = OffsetWallClock()
        let server = try await RestorableServer.start(
            databasePath: folder.appendingPathComponent("server.sqlite").path, catalog: catalog, passwordCost: 4, clock: clock)
        var totals = SimulationTotals(), backups = 0, restores = 0, forgets = 0
        for seed in first..<(first + UInt64(seeds)) {
            let options = SimulationOptions(
                devices: 3, learners: 2, ops: 60, seed: seed,
                faults: Faults(dropRequest: 0.05, dropAnswer: 0.05, duplicate: 0.05, reorder: 0.05), offline: 0.05,
                clockSkewSeconds: 86_400, catalogVersions: 3, clones: 2, resetRate: 0.05, lifecycle: true, serverRestores: 1, serverForgets: 1)
            let report = try await Simulation.run(options, catalog: catalog, server: server.simulated(clock: clock))
            #expect(report.lostEvents == 0, "seed \(seed): \(report.lostDetails)")
            #expect(report.divergentDevices == 0, "seed \(seed): \(report.divergenceDetails)")
            #expect(report.regressions == 0, "seed \(seed): \(report.regressionDetails)")
            #expect(report.modelMismatches == 0, "seed \(seed): \(report.modelDetails)")
            totals.add(report)
            backups += report.serverBackups
            restores += report.serverRestores
            forgets += report.serverForgets
        }
        await server.stop()
        print("RealWorldSimulationTests server restores: \(totals), \(backups) backups, \(restores) restores, \(forgets) lost commits")
        #expect(restores > 0 && forgets > 0)
    }
}

struct SimulationTotals: CustomStringConvertible {
    var events = 0, clockChanges = 0, catalogUpgrades = 0, clones = 0, restores = 0, resets = 0, faults = 0, moved = 0, destroyed = 0
    var signOuts = 0, passwordChanges = 0, erasures = 0, narrowPublishes = 0, refusedCorrections = 0, guestExpiries = 0

    mutating func add(_ report: SimulationReport) {
        events += report.events
        clockChanges += report.clockChanges
        catalogUpgrades += report.catalogUpgrades
        clones += report.clonesMade
        restores += report.restores
        resets += report.resets
        faults += report.faultsInjected
        moved += report.movedEvents
        destroyed += report.destroyedByRestore
        signOuts += report.signOuts
        passwordChanges += report.passwordChanges
        erasures += report.erasures
        narrowPublishes += report.narrowPublishes
        refusedCorrections += report.refusedCorrections
        guestExpiries += report.guestExpiries
    }

    var description: String {
        "\(events) events, \(faults) network faults, \(clockChanges) clock changes, \(catalogUpgrades) catalog upgrades, "
            + "\(clones) clones, \(restores) restores, \(resets) resets, \(moved) events moved, \(destroyed) removed by restores, "
            + "\(signOuts) sign-outs, \(passwordChanges) password changes, \(erasures) erasures, "
            + "\(narrowPublishes) narrow publishes, \(refusedCorrections) corrections refused, \(guestExpiries) guest expiries"
    }
}
