import Foundation

/// The convergence report of a simulation.
public struct SimulationReport: Sendable, Encodable {
    public var seed: UInt64
    public var devices: Int
    public var learners: Int
    public var ops: Int
    public var events: Int
    public var syncs: Int
    public var failedSyncs: Int
    public var signIns: Int
    public var faultsInjected: Int
    public var droppedRequests: Int
    public var droppedAnswers: Int
    public var duplicated: Int
    public var reordered: Int
    /// Clock changes of devices and the server.
    public var clockChanges: Int
    /// Catalog upgrades of devices and the server.
    public var catalogUpgrades: Int
    /// Devices cloned to a new phone.
    public var clonesMade: Int
    /// Devices restored from an earlier backup.
    public var restores: Int
    /// Backups of the server's database taken, restores from a random one of them, and losses
    /// of the last commits (a restore from the latest).
    public var serverBackups: Int = 0
    public var serverRestores: Int = 0
    public var serverForgets: Int = 0
    /// Recorded events that only the server held (their devices signed out, or were restored
    /// from an older backup) when the server went back to a backup without them: no device can
    /// send them again, so they are not expected anywhere.
    public var forgottenByServer: Int = 0
    /// Course resets recorded.
    public var resets: Int
    /// Sign-outs done, and those the device refused because events existed on it only.
    public var signOuts: Int = 0
    public var refusedSignOuts: Int = 0
    /// Password changes, and account erasures.
    public var passwordChanges: Int = 0
    public var erasures: Int = 0
    /// Recorded events an account erasure removed (expected nowhere afterwards).
    public var destroyedByErasure: Int = 0
    /// Catalogs published on the server with only the newest version of each course (the
    /// server keeps serving the versions it served before).
    public var narrowPublishes: Int = 0
    /// Retention sweeps that expired every unattached guest on the server (their devices keep
    /// everything and register again).
    public var guestExpiries: Int = 0
    /// Answer-key corrections published without a new version number, refused by the server;
    /// and any it accepted (a broken promise, counted in ``lostEvents``' stead as divergence).
    public var refusedCorrections: Int = 0
    /// Events a device moved to a new replica id (after a clone or a restore).
    public var movedEvents: Int
    /// Events that existed only on a phone when it was restored from an older backup: the
    /// restore, not sync, removed them, so they are not expected anywhere.
    public var destroyedByRestore: Int
    /// Devices whose final progress differs from another device of the same learner, or from
    /// the server's own grading.
    public var divergentDevices: Int
    /// How each divergent device differs, to start an investigation.
    public var divergenceDetails: [String] = []
    /// Recorded events missing from a device of the learner at the end, or not acknowledged by
    /// the server.
    public var lostEvents: Int
    /// What each lost event is and where it is missing, to start an investigation.
    public var lostDetails: [String] = []
    /// A completion, passed quiz or earned certificate visible before a sync and gone after it,
    /// with no new reset that saw it.
    public var regressions: Int
    /// What each regression was, to start an investigation.
    public var regressionDetails: [String] = []
    /// Checks, after a step, where a device's progress (or at the end the server's grading)
    /// differed from the reference model fed with the same events and catalog.
    public var modelMismatches: Int = 0
    /// What each mismatch was.
    public var modelDetails: [String] = []
    /// With live sync: how long a recorded event took to reach each other device of its learner
    /// (every device online and signed in, at the end), in milliseconds; nil without.
    public var propagationP50Milliseconds: Double?
    public var propagationP99Milliseconds: Double?
    /// Arrivals measured for those, and those that did not arrive within 5 s.
    public var propagationSamples: Int = 0
    public var propagationTimeouts: Int = 0
    public var seconds: Double

    /// Whether every device converged, no event was lost, no progress went backwards and every
    /// device and the server agreed with the reference model.
    public var converged: Bool {
        divergentDevices == 0 && lostEvents == 0 && regressions == 0 && modelMismatches == 0 && propagationTimeouts == 0
    }
}
