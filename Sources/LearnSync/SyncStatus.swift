public import Foundation

/// What the device knows of its sync, for a status line or a settings screen
/// (``LearnSyncClient/syncStatus()``).
public struct SyncStatus: Hashable, Sendable {
    /// The server this device syncs with, or nil before one was set.
    public var server: URL?
    /// Whether the device is signed in to an account (a guest is not).
    public var isSignedIn: Bool
    /// When a sync with ``server`` last finished a round, or nil if none ever did.
    public var lastSyncAt: Date?
    /// Events recorded or pulled that the server has not acknowledged yet.
    public var pendingCount: Int

    public init(server: URL?, isSignedIn: Bool, lastSyncAt: Date?, pendingCount: Int) {
        self.server = server
        self.isSignedIn = isSignedIn
        self.lastSyncAt = lastSyncAt
        self.pendingCount = pendingCount
    }
}

extension SyncStatus {
    /// Whether `server` is the one this device syncs with (`https://host/` is `https://host`):
    /// another one gets none of its token, cursor or acknowledgements.
    public func syncsWith(_ server: URL) -> Bool { self.server?.isSameServer(as: server) ?? false }
}

extension LearnSyncClient {
    /// The device's sync status: its server, whether it is signed in, its last sync and what
    /// waits to be pushed. Reads the device only; never calls the server.
    public func syncStatus() async throws -> SyncStatus {
        let state = try await store.syncState()
        let identity = try await store.identity()
        return SyncStatus(
            server: state.server, isSignedIn: state.token != nil && !identity.learner.isGuest, lastSyncAt: state.lastSyncAt,
            pendingCount: try await store.pendingCount())
    }
}
