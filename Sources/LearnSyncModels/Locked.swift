import Synchronization

/// A value behind a `Mutex`, which ThreadSanitizer understands.
///
/// The standard library's `Mutex` locks with raw futex calls on Linux, which ThreadSanitizer
/// cannot see: every value it guards is reported as a race (a two-thread counter shows it).
/// Built with `-DLEARNSYNC_TSAN` (`Tools/sanitize thread`), each critical section also tells
/// ThreadSanitizer that it acquires and releases the lock; otherwise this is the `Mutex` alone.
package struct Locked<Value: ~Copyable>: ~Copyable {
    private let mutex: Mutex<Value>
    #if LEARNSYNC_TSAN
    private let token = SanitizerToken()
    #endif

    package init(_ value: consuming sending Value) {
        mutex = Mutex(value)
    }

    /// Runs `body` with the value, holding the lock.
    package borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        #if LEARNSYNC_TSAN
        let address = UnsafeRawPointer(Unmanaged.passUnretained(token).toOpaque())
        return try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            tsanAcquire(address)
            defer { tsanRelease(address) }
            return try body(&value)
        }
        #else
        return try mutex.withLock(body)
        #endif
    }
}

extension Locked: Sendable where Value: ~Copyable {}

#if LEARNSYNC_TSAN
/// An address that stands for one lock in ThreadSanitizer's books.
private final class SanitizerToken: Sendable {}

@_silgen_name("__tsan_acquire") private func tsanAcquire(_ address: UnsafeRawPointer)
@_silgen_name("__tsan_release") private func tsanRelease(_ address: UnsafeRawPointer)
#endif
