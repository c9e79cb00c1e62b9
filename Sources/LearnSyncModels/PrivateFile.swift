package import Foundation

/// Files that hold learner data or credentials are readable by their owner only.
package enum PrivateFile {
    /// A path that names something other than a database file; nothing was changed.
    package struct NotADatabase: Error, CustomStringConvertible {
        package var path: String
        package var reason: String
        package var description: String { "\(path) cannot be a database file: \(reason)" }
    }

    /// Makes `path` (created empty if missing) and its SQLite companions (`-wal`, `-shm`, which
    /// SQLite creates with the database's mode) mode 0600, and a folder created for it 0700.
    /// - Throws: ``NotADatabase`` for a folder, or a file that is neither empty nor SQLite's,
    ///   left as it was (a mistyped path must not lose its owner's access).
    package static func prepare(_ path: String) throws {
        let manager = FileManager.default
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !manager.fileExists(atPath: folder) {
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        var isFolder: ObjCBool = false
        if manager.fileExists(atPath: path, isDirectory: &isFolder) {
            if isFolder.boolValue { throw NotADatabase(path: path, reason: "it is a folder") }
            let head = FileHandle(forReadingAtPath: path).flatMap { handle in
                defer { try? handle.close() }
                return try? handle.read(upToCount: 16)
            } ?? Data()
            guard head.isEmpty || head.elementsEqual("SQLite format 3\0".utf8) else {
                throw NotADatabase(path: path, reason: "it is not a SQLite database")
            }
        } else {
            guard manager.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteNoPermission)
            }
        }
        for file in [path, path + "-wal", path + "-shm"] where manager.fileExists(atPath: file) {
            try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
    }

    /// Creates a folder (and its missing parents) mode 0700. A folder that is the device's own
    /// (`owned`: the CLI's `--device`, which holds nothing else) is made 0700 when it exists too;
    /// another folder that exists (the app's, the current one) keeps its mode.
    package static func folder(_ path: String, owned: Bool = false) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if owned { try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path) }
    }

    /// Replaces the file at `path` with `data` atomically: written to a new file that is 0600 from
    /// its creation (never readable by others, even for a moment), flushed, then renamed over it.
    package static func replace(_ path: String, with data: Data) throws {
        let temporary = path + ".new"
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure(errno) }
        var written = 0
        var code: Int32 = 0
        let complete = data.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let count = write(descriptor, raw.baseAddress! + written, raw.count - written)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else {
                    code = count < 0 ? errno : ENOSPC
                    return false
                }
                written += count
            }
            return true
        }
        if complete, fsync(descriptor) != 0 { code = errno }
        close(descriptor)
        guard complete, code == 0, rename(temporary, path) == 0 else {
            if code == 0 { code = errno }
            unlink(temporary)
            throw failure(code)
        }
    }

    /// The error for a failed write: ENOSPC as a full disk, the rest by their errno.
    private static func failure(_ code: Int32) -> POSIXError {
        POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
    }

    /// Whether `error` says the disk is full.
    package static func isDiskFull(_ error: any Error) -> Bool {
        (error as? POSIXError)?.code == .ENOSPC
    }
}
