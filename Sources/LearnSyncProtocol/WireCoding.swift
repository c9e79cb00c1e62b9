public import Foundation

/// Encodes and decodes protocol messages, turning every decoding failure into a ``Problem``.
public enum WireCoding {
    /// Decodes a request body: first its `protocol` version, then the whole message.
    ///
    /// - Throws: a ``Problem`` `malformed-json` (not JSON, or not of the expected shape; the
    ///   detail names the field, never its value) or `unsupported-version`.
    public static func decodeRequest<T: Decodable>(_ type: T.Type, from data: Data) throws(Problem) -> T {
        let decoder = JSONDecoder()
        let envelope: VersionEnvelope
        do {
            envelope = try decoder.decode(VersionEnvelope.self, from: data)
        } catch {
            throw Problem(code: .malformedJSON, detail: describe(error, fallback: "the body must be a JSON object with a \"protocol\" number"))
        }
        guard ProtocolVersion.supported.contains(envelope.version) else {
            throw Problem(
                code: .unsupportedVersion,
                detail: "protocol \(envelope.version) is not supported; this server speaks \(ProtocolVersion.supported.map(String.init).joined(separator: ", "))",
                supportedVersions: ProtocolVersion.supported)
        }
        return try decode(type, from: data)
    }

    /// Decodes a message with no version check (answers, golden files).
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(Problem) -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw Problem(code: .malformedJSON, detail: describe(error, fallback: "the body is not valid JSON"))
        }
    }

    /// Encodes a message as compact JSON.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        try JSONEncoder().encode(value)
    }

    private static func describe(_ error: any Error, fallback: String) -> String {
        guard let error = error as? DecodingError else { return fallback }
        func path(_ context: DecodingError.Context) -> String {
            let joined = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return joined.isEmpty ? "the body" : joined
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context)): expected \(type)"
        case .valueNotFound(_, let context):
            return "\(path(context)): value missing"
        case .keyNotFound(let key, let context):
            let at = context.codingPath.isEmpty ? "" : " in \(path(context))"
            return "missing field \"\(key.stringValue)\"\(at)"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return fallback }
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return fallback
        }
    }
}
