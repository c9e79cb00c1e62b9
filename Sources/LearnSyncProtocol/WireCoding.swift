public import Foundation

/// Encodes and decodes protocol messages, turning every decoding failure into a ``Problem``.
public enum WireCoding {
    /// Decodes a request body, judging its `protocol` version before its shape: a body of an
    /// unsupported version gets `unsupported-version` whatever else it holds.
    ///
    /// - Throws: a ``Problem`` `malformed-json` (not JSON, or not of the expected shape; the
    ///   detail names the field, never its value) or `unsupported-version`.
    public static func decodeRequest<T: Decodable>(_ type: T.Type, from data: Data) throws(Problem) -> T {
        guard let message = wireMessage(type) else {
            guard let version = envelopeVersion(data) else {
                throw Problem(code: .malformedJSON, detail: "the body must be a JSON object with a \"protocol\" number")
            }
            try checkSupported(version)
            return try decode(type, from: data)
        }
        // One pass for the sync messages: the version is checked after reading, and looked up
        // alone only when the body did not read.
        let value: any WireMessage
        do {
            value = try fastDecode(message, from: data)
        } catch {
            if let version = envelopeVersion(data) { try checkSupported(version) }
            throw error
        }
        try checkSupported(value.version)
        return value as! T
    }

    private static func checkSupported(_ version: Int) throws(Problem) {
        guard ProtocolVersion.supported.contains(version) else {
            throw Problem(
                code: .unsupportedVersion,
                detail: "protocol \(version) is not supported; this server speaks \(ProtocolVersion.supported.map(String.init).joined(separator: ", "))",
                supportedVersions: ProtocolVersion.supported)
        }
    }

    /// Decodes a message with no version check (answers, golden files).
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(Problem) -> T {
        if let message = wireMessage(type) {
            return try fastDecode(message, from: data) as! T
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw Problem(code: .malformedJSON, detail: describe(error, fallback: "the body is not valid JSON"))
        }
    }

    /// Encodes a message as compact JSON.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let message: (any WireMessage)? = (value as? SyncRequest) ?? (value as? SyncResponse)
        if let message {
            var writer = JSONWriter(capacity: 1024)
            message.write(to: &writer)
            return Data(writer.bytes)
        }
        return try JSONEncoder().encode(value)
    }

    /// The hand-written form of `type`, if it has one.
    private static func wireMessage<T>(_ type: T.Type) -> (any (WireMessage & Decodable).Type)? {
        if type == SyncRequest.self { return SyncRequest.self }
        if type == SyncResponse.self { return SyncResponse.self }
        return nil
    }

    private static func fastDecode(_ type: any (WireMessage & Decodable).Type, from data: Data) throws(Problem) -> any WireMessage {
        do {
            return try JSONReader.read(Array(data)) { reader throws(JSONReader.Failure) in try type.read(&reader) }
        } catch {
            throw Problem(code: .malformedJSON, detail: error.description)
        }
    }

    /// The body's `protocol` number, if it is a JSON object that has one.
    private static func envelopeVersion(_ data: Data) -> Int? {
        (try? JSONDecoder().decode(VersionEnvelope.self, from: data))?.version
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
