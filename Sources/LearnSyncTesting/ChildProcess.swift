import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A program run by a test, with its output in files: started with `posix_spawn` and reaped
/// with `waitpid` (Foundation's `Process.waitUntilExit` can miss the exit of a child started
/// from a concurrency thread and wait forever), and killable, as a crash would.
package final class ChildProcess: Sendable {
    package let pid: Int32
    /// Where the child's standard output and error go.
    package let outputPath: String, errorPath: String

    /// Starts `arguments[0]` (found on `PATH`) with `environment` added to this process's. Its
    /// standard input is the file at `inputPath`, or empty.
    package init(
        _ arguments: [String], environment: [String: String] = [:], inputPath: String? = nil, outputPath: String, errorPath: String
    ) throws {
        self.outputPath = outputPath
        self.errorPath = errorPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inputPath ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // Nothing else of this process's: a descriptor opened without close-on-exec (SwiftNIO
        // accepts connections that way on Linux) would otherwise stay open in the child, and a
        // connection the server closed would stay open as long as the child runs.
        _ = Self.closeFrom?(&actions, 3)
        let variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0)=\($1)" }
        var argv = arguments.map { strdup($0) } + [nil]
        var envp = variables.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        // A fresh process's signals: none blocked, none ignored. This process's threads block
        // some (SIGALRM among them) and ignore SIGPIPE, and a spawned child inherits both:
        // pgbench's `-T` timer never fired and it ran for ever.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var unblocked = sigset_t(), defaults = sigset_t()
        sigemptyset(&unblocked)
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGALRM, SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: Int32 = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, &attributes, &argv, &envp)
        guard spawned == 0 else { throw ChildProcessError(description: "cannot run \(arguments[0]): \(String(cString: strerror(spawned)))") }
        self.pid = pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc
    /// module does not declare.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? =
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self) }

    /// Kills the child with SIGKILL: no chance to clean up, as a crash or an OOM kill would.
    package func kill() {
        _ = Glibc.kill(pid, SIGKILL)
    }

    /// Asks the child to stop (SIGTERM), as a service manager would.
    package func terminate() {
        _ = Glibc.kill(pid, SIGTERM)
    }

    /// Waits for the child to end and returns its wait status (0: exited with 0).
    @discardableResult
    package func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        return status
    }

    /// What the child wrote to its standard output and error so far.
    package var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    package var errors: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// Runs a command to its end and returns what it printed; a failure throws with its errors.
    @discardableResult
    package static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let child = try ChildProcess(
            arguments, environment: environment, outputPath: folder.appendingPathComponent("out").path,
            errorPath: folder.appendingPathComponent("err").path)
        let status = child.wait()
        guard status == 0 else {
            throw ChildProcessError(description: "\(arguments.prefix(2).joined(separator: " ")) failed (status \(status)): \(child.errors)")
        }
        return child.output
    }
}

extension ChildProcess {
    /// Waits for the child to end, off the concurrency pool (``onOwnThread(_:)``), and returns
    /// its exit code: 128 plus the signal's number when a signal ended it, as a shell reports it.
    package func exitCode() async throws -> Int32 {
        let status = try await onOwnThread { self.wait() }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// ``run(_:environment:)`` off the concurrency pool (``onOwnThread(_:)``).
    package static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        try await onOwnThread { try run(arguments, environment: environment) }
    }
}

/// Runs blocking work (waiting for a child process, a blocking read) on a thread of its own, so
/// that it blocks no thread of Swift's concurrency pool (two on a two-core machine) and starves
/// nothing running beside it.
package func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// A child process that could not start or failed.
package struct ChildProcessError: Error, CustomStringConvertible {
    package var description: String

    package init(description: String) {
        self.description = description
    }
}
