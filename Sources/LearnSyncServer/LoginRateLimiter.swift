import Synchronization

/// Counts failed sign-ins per key (a username, an address) in a sliding window, so that
/// guessing passwords is slow. In memory: each server process limits on its own.
final class LoginRateLimiter: Sendable {
    private struct Window {
        var start: Int64
        var failures: Int
    }

    let limit: Int
    let windowMilliseconds: Int64
    private let windows = Mutex<[String: Window]>([:])

    init(limit: Int, windowMilliseconds: Int64) {
        self.limit = limit
        self.windowMilliseconds = windowMilliseconds
    }

    /// Seconds to wait before another try under `key`, or nil if a try is allowed now.
    func retryAfter(_ key: String, now: Int64) -> Int? {
        windows.withLock { windows in
            guard let window = windows[key], now - window.start < windowMilliseconds else { return nil }
            guard window.failures >= limit else { return nil }
            return Int((window.start + windowMilliseconds - now + 999) / 1000)
        }
    }

    /// Records a failed try under `key`.
    func fail(_ key: String, now: Int64) {
        windows.withLock { windows in
            if var window = windows[key], now - window.start < windowMilliseconds {
                window.failures += 1
                windows[key] = window
            } else {
                windows[key] = Window(start: now, failures: 1)
            }
            if windows.count > 100_000 {
                windows = windows.filter { now - $0.value.start < windowMilliseconds }
            }
        }
    }

    /// Forgets `key`'s failures (after a successful sign-in).
    func reset(_ key: String) {
        _ = windows.withLock { $0.removeValue(forKey: key) }
    }
}
