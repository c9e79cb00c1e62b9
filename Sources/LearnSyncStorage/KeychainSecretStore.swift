#if canImport(Security)
import Foundation
import Security

/// The token and the guest's secret in the Keychain, for iOS and macOS apps: generic-password
/// items under one service, one account per ``SecretName``, in the data-protection keychain.
///
/// Items are readable after the device's first unlock (background syncs work while it is
/// locked) and travel with encrypted backups, as the store's file does: a phone restored from a
/// backup still proves its guest. Pass one to `DeviceStore(path:catalog:clock:secrets:)` or
/// `LearnSyncClient(path:catalog:server:allowInsecureHTTP:secrets:retry:)`.
public struct KeychainSecretStore: SecretStore {
    /// The Keychain service the items are stored under: one per device store.
    public let service: String
    /// The Keychain access group shared with the app's extensions, if any.
    public let accessGroup: String?

    /// - Parameters:
    ///   - service: the items' service; give each device store of the app its own.
    ///   - accessGroup: a Keychain access group, to share the secrets with app extensions.
    public init(service: String = "LearnSync", accessGroup: String? = nil) {
        self.service = service
        self.accessGroup = accessGroup
    }

    public func secret(_ name: SecretName) throws -> String? {
        var query = query(for: name)
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &result)
        if status == errSecItemNotFound { return nil }
        guard status == errSecSuccess, let data = result as? Data, let value = String(data: data, encoding: .utf8) else {
            throw StorageError(.database, "the Keychain could not read the \(name.rawValue) (OSStatus \(status))")
        }
        return value
    }

    public func setSecret(_ value: String?, for name: SecretName) throws {
        let query = query(for: name)
        guard let value else {
            let status = SecItemDelete(query as CFDictionary)
            guard status == errSecSuccess || status == errSecItemNotFound else {
                throw StorageError(.database, "the Keychain could not remove the \(name.rawValue) (OSStatus \(status))")
            }
            return
        }
        let data = Data(value.utf8)
        var status = SecItemUpdate(query as CFDictionary, [kSecValueData as String: data] as CFDictionary)
        if status == errSecItemNotFound {
            var item = query
            item[kSecValueData as String] = data
            item[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlock
            status = SecItemAdd(item as CFDictionary, nil)
        }
        guard status == errSecSuccess else {
            throw StorageError(.database, "the Keychain could not store the \(name.rawValue) (OSStatus \(status))")
        }
    }

    private func query(for name: SecretName) -> [String: Any] {
        var query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: name.rawValue,
            kSecUseDataProtectionKeychain as String: true,
        ]
        if let accessGroup { query[kSecAttrAccessGroup as String] = accessGroup }
        return query
    }
}
#endif
