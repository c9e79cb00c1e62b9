import Foundation

/// The one rule for passwords, which holds wherever a password is taken (sign-up, sign-in,
/// erasure, a password change), counted as JSON Schema counts string lengths:
///
/// - 8 to 128 Unicode scalars (code points);
/// - no control character (U+0000–U+001F, U+007F): C code would end at NUL and ignore the rest;
/// - compared in Unicode NFC, so the same characters typed composed or decomposed (`é` as one
///   scalar or as `e` and a combining accent) are the same password.
///
/// The server hashes SHA-256 of the NFC form with bcrypt, so every scalar counts: nothing is cut
/// at bcrypt's 72 bytes.
public enum PasswordRule {
    /// Unicode scalars in a password.
    public static let length = 8...128

    /// The form a password is hashed and checked in.
    public static func normalized(_ password: String) -> String {
        password.precomposedStringWithCanonicalMapping
    }

    /// Checks the rule.
    /// - Throws: ``Problem`` `invalid-request` naming the field and the rule, never the value.
    public static func check(_ password: String, field: String) throws(Problem) {
        guard !password.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw Problem(code: .invalidRequest, detail: "\(field) must not hold control characters")
        }
        guard length.contains(password.unicodeScalars.count) else {
            throw Problem(code: .invalidRequest, detail: "\(field) must be \(length.lowerBound) to \(length.upperBound) characters")
        }
    }
}
