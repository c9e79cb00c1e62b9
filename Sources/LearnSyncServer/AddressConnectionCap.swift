import LearnSyncModels
import NIOCore

/// The connections each client address holds at once, shared by one listener's connections.
///
/// The listener's connection slots (``ServerConfiguration/maxConnections``) are shared by every
/// address; without a cap per address, one client opening slow connections as fast as they are
/// cut would hold them all. A trusted proxy's connections are not capped: they carry many
/// clients.
final class ConnectionCounts: Sendable {
    let limit: Int
    let exempt: Set<String>
    private let counts = Locked<[String: Int]>([:])

    init(limit: Int, exempt: Set<String> = []) {
        self.limit = limit
        self.exempt = exempt
    }

    /// Counts a new connection from `address`; false, counting nothing, when it already holds
    /// `limit`.
    func open(_ address: String) -> Bool {
        guard !exempt.contains(address) else { return true }
        return counts.withLock { counts in
            let held = counts[address, default: 0]
            guard held < limit else { return false }
            counts[address] = held + 1
            return true
        }
    }

    /// Forgets a connection that ``open(_:)`` counted.
    func close(_ address: String) {
        guard !exempt.contains(address) else { return }
        counts.withLock { counts in
            let held = counts[address, default: 0]
            counts[address] = held > 1 ? held - 1 : nil
        }
    }

    /// The connections `address` holds now.
    func held(by address: String) -> Int {
        counts.withLock { $0[address, default: 0] }
    }
}

/// Closes a new connection at once when its address holds its cap of connections already
/// (``ConnectionCounts``). First in the connection's pipeline, so a refused one costs no parsing.
final class AddressConnectionCap: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let counts: ConnectionCounts
    /// The address this connection is counted under, once counted.
    private var counted: String?

    init(_ counts: ConnectionCounts) {
        self.counts = counts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    private func admit(_ context: ChannelHandlerContext) {
        guard counted == nil else { return }
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        if counts.open(address) {
            counted = address
        } else {
            context.close(promise: nil)
        }
    }

    private func release() {
        if let address = counted { counts.close(address) }
        counted = nil
    }
}
