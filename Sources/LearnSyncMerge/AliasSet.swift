package import LearnSyncModels

/// The grow-only set of guest → account edges. A learner's progress is derived from the events
/// of every id aliased to it, so attaching a guest is one idempotent write.
package struct AliasSet: Hashable, Sendable {
    private var accountOf: [LearnerID: LearnerID] = [:]

    package init() {}

    /// Every edge, sorted by guest id.
    package var edges: [(guest: LearnerID, account: LearnerID)] {
        accountOf.sorted { $0.key < $1.key }.map { (guest: $0.key, account: $0.value) }
    }

    /// Adds `guest → account`. Returns false when the edge was already there.
    ///
    /// - Throws: ``ModelError`` when `guest` is not a guest id, `account` is a guest id, or the
    ///   guest is already attached to another account (a guest attaches to one account only).
    @discardableResult
    package mutating func insert(guest: LearnerID, account: LearnerID) throws(ModelError) -> Bool {
        try Self.check(guest: guest, account: account, existing: accountOf[guest])
        return accountOf.updateValue(account, forKey: guest) == nil
    }

    /// Checks one edge against the rules without adding it.
    package static func check(guest: LearnerID, account: LearnerID, existing: LearnerID?) throws(ModelError) {
        guard guest.isGuest else { throw ModelError(.invalidEvent, "only a guest id can be attached to an account") }
        guard !account.isGuest else { throw ModelError(.invalidEvent, "a guest id cannot be attached to another guest") }
        if let existing, existing != account {
            throw ModelError(.invalidEvent, "this guest is already attached to another account")
        }
    }

    /// The learner whose progress an event of `learner` counts for: its account, or itself.
    package func root(of learner: LearnerID) -> LearnerID { accountOf[learner] ?? learner }

    /// The guests attached to `account`.
    package func guests(of account: LearnerID) -> [LearnerID] {
        accountOf.filter { $0.value == account }.map(\.key).sorted()
    }

    /// Every id whose events count for `root`: itself and its guests.
    package func members(of root: LearnerID) -> [LearnerID] { [root] + guests(of: root) }
}
