/// Waits until `condition` holds, checking it every `interval`, for at most `timeout`: how a
/// test waits for something another task or process does (a sweep, a checkpoint, a log line)
/// without guessing how long it takes. A condition that never holds fails the test at the
/// deadline instead of hanging it.
///
/// ```swift
/// #expect(try await eventually { try await store.credentials(of: guest) == nil })
/// ```
/// - Returns: whether `condition` held before the deadline.
public func eventually(
    timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(10), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        guard ContinuousClock.now < deadline else { return false }
        try await Task.sleep(for: interval)
    }
}
