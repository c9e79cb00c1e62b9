import Crypto
import Foundation
import LearnSyncModels

/// The server's attestation that it attached a guest to an account: HMAC-SHA256, under a key
/// its database keeps (every backup holds the same one), of the two ids; the first 16 bytes, in
/// base64url (22 characters). Devices keep the attestations of the aliases they pulled and send
/// them back with the guest's events, so that a server restored from a backup taken before the
/// attachment makes it again, even when no device holds the guest's secret any more.
enum AliasProof {
    static func make(guest: LearnerID, account: LearnerID, key: SymmetricKey) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("alias \(guest.rawValue) \(account.rawValue)".utf8), using: key)
        return Data(code.prefix(16)).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Whether `proof` is the server's attestation of `guest` → `account` (compared in constant time).
    static func holds(_ proof: String, guest: LearnerID, account: LearnerID, key: SymmetricKey) -> Bool {
        constantTimeEquals(proof, make(guest: guest, account: account, key: key))
    }
}

/// The store's attestation key, read once.
final class AttestationKey: Sendable {
    private let bytes = Locked<Data?>(nil)

    func get(from store: any ServerStore) async throws -> SymmetricKey {
        if let bytes = bytes.withLock({ $0 }) { return SymmetricKey(data: bytes) }
        let loaded = try await store.attestationKey()
        bytes.withLock { $0 = loaded }
        return SymmetricKey(data: loaded)
    }
}
