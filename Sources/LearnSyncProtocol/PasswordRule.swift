import Foundation

/// The one rule for passwords, which holds byte for byte wherever a password is taken (sign-up,
/// sign-in, erasure, a password change):
///
/// - A password is compared and hashed in Unicode NFC, so the same characters typed as composed
///   or decomposed (`é` as one scalar or as `e` and a combining accent) are the same password.
/// - Its NFC form is 8 to 72 UTF-8 bytes. bcrypt reads 72 bytes; a longer password is refused,
///   never cut short without a word.
/// - It holds no control character (U+0000–U+001F, U+007F): bcrypt's C string would end at NUL,
///   and the rest would be ignored.
public enum PasswordRule {
    /// Bytes of a password's NFC form.
    public static let bytes = 8...72

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
        guard bytes.contains(normalized(password).utf8.count) else {
            throw Problem(code: .invalidRequest, detail: "\(field) must be \(bytes.lowerBound) to \(bytes.upperBound) bytes of UTF-8 (in NFC)")
        }
    }
}
