package import LearnSyncModels

/// `GET /v1/live`'s `feed` event: the learner's feed grew. A device whose cursor is behind
/// `feedEnd` pulls (`POST /v1/sync`); the event carries no learner data, only where the feed ends
/// and which replica's push made it grow, so the pushing device need not pull its own events.
package struct FeedChanged: Codable, WireCodable, Hashable, Sendable {
    package var version: Int
    /// The feed's last position (a cursor value).
    package var feedEnd: Int64
    /// The replica whose push grew the feed; nil in the event sent when the stream opens.
    package var replica: ReplicaID?

    package init(feedEnd: Int64, replica: ReplicaID?, version: Int = ProtocolVersion.current) {
        self.version = version
        self.feedEnd = feedEnd
        self.replica = replica
    }

    private enum CodingKeys: String, CodingKey { case version = "protocol", feedEnd, replica }
}

/// The live stream's limits and timing.
package enum LiveStreamLimits {
    /// How often the server sends a heartbeat comment on an idle stream, in seconds: a device
    /// that hears nothing for three of them takes the stream for dead and opens another.
    package static let heartbeatSeconds = 15
    /// The longest line a device reads from the stream; a longer one ends the stream as malformed.
    package static let maxLineBytes = 16 * 1024
}
