import LearnSyncModels

/// A backup of the server's database, and what the learners had made by then: the accounts,
/// their passwords and usernames it knows.
struct ServerBackup {
    let number: Int
    let accountExists: Set<Int>
    let passwords: [Int: String]
    let epochs: [Int: Int]
}

extension World {
    /// The server's faults: backups now and then, and at random moments a restore from one of
    /// them (``SimulationOptions/serverRestores``) or from the latest, as a server that lost its
    /// last commits (``SimulationOptions/serverForgets``).
    mutating func injectServerFaults(remainingOps: Int) async throws {
        guard serverRestoresLeft + serverForgetsLeft > 0, let backup = server.backup, let restore = server.restore else { return }
        if serverBackups.isEmpty || Int.random(in: 0..<8, using: &generator) == 0 {
            serverBackups.append(ServerBackup(number: try await backup(), accountExists: accountExists, passwords: passwords, epochs: epochs))
            report.serverBackups += 1
        }
        let left = serverRestoresLeft + serverForgetsLeft
        guard Int.random(in: 0..<max(1, remainingOps / left), using: &generator) == 0 else { return }
        let forget = Int.random(in: 0..<left, using: &generator) < serverForgetsLeft
        let chosen = forget ? serverBackups[serverBackups.count - 1] : serverBackups.randomElement(using: &generator)!
        if forget {
            serverForgetsLeft -= 1
            report.serverForgets += 1
        } else {
            serverRestoresLeft -= 1
            report.serverRestores += 1
        }
        // What only the server held may be gone now: no device can send it again. Every settled
        // event counts (a clone may track the same id for an event of its own, so ids alone do
        // not tell whether a device still holds it); one that a device does hold still has to
        // reach every device, which the divergence check sees.
        for learner in 0..<report.learners {
            onlyOnServer[learner, default: []].formUnion(settled[learner, default: []])
        }
        try await restore(chosen.number, versions[serverVersion])
        forgetSince(chosen)
        // Backups taken after the one restored hold a history the server no longer has: an
        // operator does not restore those.
        serverBackups.removeAll { $0.number > chosen.number }
    }

    /// What the learners know of the server after it went back to `backup`: an account made
    /// since is gone (its devices sign up again under its username), and an account whose
    /// password changed since has its old one back (its learner remembers it). An account erased
    /// since stays erased (the server's erasure journal), and the one its learner made after it
    /// is gone.
    private mutating func forgetSince(_ backup: ServerBackup) {
        for learner in 0..<report.learners {
            if epochs[learner, default: 0] != backup.epochs[learner, default: 0] {
                accountExists.remove(learner)
                continue
            }
            // The password then (a sign-up whose answer was lost may have made the account
            // without the world knowing: its password is the one of that time too).
            passwords[learner] = backup.passwords[learner]
            if backup.accountExists.contains(learner) { accountExists.insert(learner) } else { accountExists.remove(learner) }
        }
    }
}
