#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client is too slow: a request's head must arrive within
/// `headTimeout` of the connection being ready for it (opened, or the previous answer sent),
/// and its body within `bodyTimeout` of the head. Idle timeouts alone cannot do this: a client
/// sending one byte every few seconds is never idle, and thousands of them would hold every
/// file descriptor. Sits after the HTTP decoder, before the request handling.
///
/// An answer has a deadline too, while it cannot be written: once the connection's outbound
/// buffer is full (NIO's writability), the client must take some of it within each
/// `bodyTimeout` (the bytes NIO holds for it must shrink).
/// A client that stopped reading would otherwise hold its connection, and a live stream's
/// writer, for ever, and a graceful shutdown would wait for it. The kernel keeps at most
/// ``unsentLimit`` bytes of an answer unsent (`TCP_NOTSENT_LOWAT`): the socket is writable
/// again as soon as a reader took that much, not only once it emptied a third of a send buffer
/// autotuned to megabytes, which took a steady reader of 400 KB/s longer than 2 s. Linux wakes
/// a writer once the unsent bytes fall below half the limit, so a reader must take 32 KiB per
/// timeout to count as taking.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let headTimeout: TimeAmount
    private let bodyTimeout: TimeAmount
    /// When the connection is closed unless disarmed first; nil while a request is answered.
    private var deadline: NIODeadline?
    /// Whether an answer is being written: between a request's end and its answer's.
    private var answering = false
    /// While an answer cannot be written: the bytes NIO held for the client when its deadline
    /// was last set.
    private var heldAtDeadline: Int?
    /// The one timer, and when it fires. Arming only moves `deadline`, and a timer that fires
    /// early schedules itself again: scheduling and cancelling a task for every request and
    /// every answer was an eighth of the event-loop and concurrency-pool threads' samples in
    /// small syncs.
    private var timer: (task: Scheduled<Void>, at: NIODeadline)?

    init(headTimeout: TimeAmount, bodyTimeout: TimeAmount) {
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
    }

    /// The most unsent bytes of an answer the kernel holds for a connection.
    static let unsentLimit: Int32 = 64 << 10

    func handlerAdded(context: ChannelHandlerContext) {
        #if os(Linux)
        // Not every channel is a TCP socket (tests run over embedded ones).
        try? context.channel.syncOptions?.setOption(
            ChannelOptions.tcpOption(NIOBSDSocket.Option(rawValue: CInt(TCP_NOTSENT_LOWAT))), value: Int(Self.unsentLimit))
        #endif
        if context.channel.isActive { arm(headTimeout, context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(headTimeout, context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(bodyTimeout, context)
        case .body: break
        case .end:
            answering = true
            // The answer may take its time, unless the client is not taking it.
            deadline = nil
            if !context.channel.isWritable { armWhileHeld(context) }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            answering = false
            heldAtDeadline = nil
            arm(headTimeout, context)
        }
        context.write(data, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if answering {
            if context.channel.isWritable {
                deadline = nil
                heldAtDeadline = nil
            } else if deadline == nil {
                armWhileHeld(context)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    /// Sets the body timeout's deadline for an answer the client must take some of.
    private func armWhileHeld(_ context: ChannelHandlerContext) {
        heldAtDeadline = Self.held(context)
        arm(bodyTimeout, context)
    }

    /// The bytes NIO holds for the client, not yet taken by the kernel.
    private static func held(_ context: ChannelHandlerContext) -> Int {
        (try? context.channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 0
    }

    private func arm(_ timeout: TimeAmount, _ context: ChannelHandlerContext) {
        let at = NIODeadline.now() + timeout
        deadline = at
        if let timer {
            guard at < timer.at else { return }  // the timer fires first and moves on
            timer.task.cancel()
        }
        schedule(at, context)
    }

    private func schedule(_ at: NIODeadline, _ context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = (context.eventLoop.scheduleTask(deadline: at) { loopBound.value.0.fire(loopBound.value.1) }, at)
    }

    private func fire(_ context: ChannelHandlerContext) {
        timer = nil
        guard let deadline else { return }  // disarmed: armed again by the next answer
        if deadline <= .now() {
            // A client that took some of its answer since the deadline was set has another.
            if let held = heldAtDeadline, Self.held(context) < held {
                armWhileHeld(context)
            } else {
                context.close(promise: nil)
            }
        } else {
            schedule(deadline, context)
        }
    }

    private func stop() {
        deadline = nil
        heldAtDeadline = nil
        timer?.task.cancel()
        timer = nil
    }
}
