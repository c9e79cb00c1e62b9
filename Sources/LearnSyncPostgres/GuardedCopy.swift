import NIOCore
import PostgresNIO

// postgres-nio (1.33) traps, ending the process, when a copy's writer writes, finishes
// (`CopyDone`) or fails (`CopyFail`) once its connection's state machine left the query: a
// precondition, "Copy mode is only supported for extended queries". A backend ended in the
// middle of a push (an administrator's `pg_terminate_backend`, a failover) or a statement
// deadline closing the connection gets there. Each of those three calls reaches the state
// machine synchronously when made on the connection's event loop; the state leaves the query
// in the same event-loop turn as the channel goes inactive (the close runs inside that turn on
// a connection without TLS). So the copy runs on the event loop (``EventLoopTaskExecutor``),
// and a guard looks at the connection in the same turn as each call: open, the call goes on;
// closed, the guard waits until the channel's close completed (its handlers are removed by
// then, and the writer's calls fail with `connectionClosed` instead of trapping).
//
// What this does not close: on a connection with TLS, a close the client starts (a statement
// deadline) waits for the TLS shutdown while the channel is still active; a write in that time
// still traps.

/// A Swift task executor that runs its jobs on a NIO event loop: a task that prefers it
/// (`withTaskExecutorPreference`) runs its non-isolated code there, so a postgres-nio call it
/// makes runs synchronously up to its first suspension, in the same loop turn as the code
/// before it.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// The writer a guarded copy's parts go through (``StoreConnection/copy(_:into:columns:logger:)``).
struct GuardedCopyWriter {
    let writer: PostgresCopyFromWriter
    let connection: PostgresConnection

    /// Sends `part` to the copy, after ``settle()``.
    func write(_ part: ByteBuffer) async throws {
        try await settle()
        try await writer.write(part)
    }

    /// Returns at once while the connection is open; otherwise waits until its close completed
    /// and throws ``ConnectionLost``. Made on the event loop, the look and the postgres-nio
    /// call after it share one loop turn.
    func settle() async throws {
        guard connection.isClosed else { return }
        try? await connection.closeFuture.get()
        throw ConnectionLost()
    }
}
