import Foundation
import LearnSyncModels

/// The credentials a device keeps apart from its learning data.
public enum SecretName: String, CaseIterable, Sendable {
    /// The bearer token of the server the device syncs with.
    case token
    /// The random secret that proves the device's guest.
    case deviceSecret
}

/// Where a device keeps its bearer token and guest secret, apart from the event log: a file
/// readable by its owner only by default (``FileSecretStore``); on Apple platforms the Keychain
/// (`KeychainSecretStore`), or a type of the app's own.
///
/// Calls are synchronous and short; a store that cannot keep a secret throws, and the device
/// store's operation fails with it.
public protocol SecretStore: Sendable {
    /// The stored value of `name`, or nil.
    func secret(_ name: SecretName) throws -> String?
    /// Stores `value` under `name`, or removes it when nil.
    func setSecret(_ value: String?, for name: SecretName) throws
}

/// Secrets in a JSON file of mode 0600, replaced atomically (written beside, then renamed).
/// The file is read once and kept in memory (a sync round reads the token), and every change is
/// written through: one process owns a device's files.
public final class FileSecretStore: SecretStore {
    public let path: String
    /// The file's contents once read; writers of this process are serialized by the lock.
    private let cache = Locked<[String: String]?>(nil)

    public init(path: String) throws {
        self.path = path
        try PrivateFile.folder((path as NSString).deletingLastPathComponent)
    }

    public func secret(_ name: SecretName) throws -> String? {
        try cache.withLock { cache in try Self.loaded(&cache, path)[name.rawValue] }
    }

    public func setSecret(_ value: String?, for name: SecretName) throws {
        try cache.withLock { cache in
            var secrets = try Self.loaded(&cache, path)
            guard secrets[name.rawValue] != value else { return }
            secrets[name.rawValue] = value
            let data = try JSONEncoder().encode(secrets)
            do {
                try PrivateFile.replace(path, with: data)
            } catch where PrivateFile.isDiskFull(error) {
                throw StorageError(.diskFull, "cannot write the secret store: the device's disk is full", cause: error)
            } catch {
                throw StorageError(.database, "cannot write the secret store: \(error.localizedDescription)", cause: error)
            }
            cache = secrets
        }
    }

    private static func loaded(_ cache: inout [String: String]?, _ path: String) throws -> [String: String] {
        if let cache { return cache }
        var secrets = [String: String]()
        if let data = FileManager.default.contents(atPath: path) {
            do {
                secrets = try JSONDecoder().decode([String: String].self, from: data)
            } catch {
                throw StorageError(.database, "the secret store is unreadable", cause: error)
            }
        }
        cache = secrets
        return secrets
    }
}

/// Secrets in memory, for in-memory stores, snapshots and tests.
public final class MemorySecretStore: SecretStore {
    private let secrets = Locked<[SecretName: String]>([:])

    public init() {}

    public func secret(_ name: SecretName) throws -> String? { secrets.withLock { $0[name] } }

    public func setSecret(_ value: String?, for name: SecretName) throws { secrets.withLock { $0[name] = value } }
}
