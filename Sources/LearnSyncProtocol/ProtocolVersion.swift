import LearnSyncModels

/// Versions of the sync protocol. Every request names one in its `protocol` field.
public enum ProtocolVersion {
    /// The version this package speaks.
    public static let current = 1
    /// Every version a server of this package accepts.
    public static let supported = [1]
}

/// The limits of protocol v1, enforced by the server before it does any work and documented in
/// `docs/PROTOCOL.md`.
public enum ProtocolLimits {
    /// Largest request body, in bytes (1 MiB).
    public static let maxBodyBytes = 1 << 20
    /// Largest answer body a device takes once decoded (gzip), in bytes (64 MiB; a page of 2,000
    /// events is about 340 KB): a small compressed body cannot fill the device's memory.
    public static let maxAnswerBytes = 64 << 20
    /// Most events pushed in one sync request. Chosen by measurement (docs/PERFORMANCE.md):
    /// a full sync of 100,000 events took 4.16 s in rounds of 500, 3.58 s of 1,000, 3.07 s of
    /// 2,000 and 2.92 s of 4,000; 2,000 events of the sample course are about 340 KB of JSON
    /// (30 KB gzip), well inside ``maxBodyBytes``, and keep the server's writer busy for
    /// about 25 ms. A device cuts a batch of unusually large events to fit ``maxBodyBytes``.
    public static let maxEventsPerRequest = 2000
    /// Events per pulled page when the request does not ask for fewer (as for pushes).
    public static let defaultPageSize = 2000
    /// Most events per pulled page a request may ask for. The client library asks for it when it
    /// pushes nothing: a pull is read beside the server's writer.
    public static let maxPageSize = 5000
    /// Most alias attestations in one sync request.
    public static let maxAttestations = 100
    /// How far ahead of the server's clock an event's time may be before the server stores it
    /// at the server's time (`retimed`), in milliseconds: one minute. No event is refused for
    /// its time.
    public static let maxClockAheadMilliseconds: Int64 = HybridLogicalClock.maxAheadMilliseconds
    /// Usernames: 3 to 64 characters from `[a-z0-9._-]` (nothing else is asked of a learner).
    public static let usernameLength = 3...64
    /// A guest's device secret: 16 to 128 characters.
    public static let secretLength = 16...128
}
