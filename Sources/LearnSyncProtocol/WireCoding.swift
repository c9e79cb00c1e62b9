public import Foundation

/// Encodes and decodes protocol messages, turning every decoding failure into a ``Problem``.
public enum WireCoding {
    /// Decodes a request body with the one strict reader, judging its `protocol` version
    /// before its shape: a body of an unsupported version gets `unsupported-version` whatever
    /// else it holds. The version is checked after reading, and looked up alone only when the
    /// body did not read.
    ///
    /// - Throws: a ``Problem`` `malformed-json` (not JSON, a key given twice, a number that is not
    ///   an integer, or not of the expected shape; the detail names the field, never its value)
    ///   or `unsupported-version`.
    package static func decodeRequest<T: WireMessage>(_ type: T.Type, from data: Data) throws(Problem) -> T {
        let value: T
        do {
            value = try read(type, from: data)
        } catch {
            if let version = envelopeVersion(data) { try checkSupported(version) }
            throw error
        }
        try checkSupported(value.version)
        return value
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
        if let message = type as? any WireMessage.Type, let value = try read(message, from: data) as? T {
            return value
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw Problem(code: .malformedJSON, detail: describe(error, fallback: "the body is not valid JSON"))
        }
    }

    /// Encodes a message as compact JSON.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        if let message = value as? any WireMessage {
            var writer = JSONWriter(capacity: 1024)
            message.write(to: &writer)
            return Data(writer.bytes)
        }
        return try JSONEncoder().encode(value)
    }

    private static func read<M: WireMessage>(_ type: M.Type, from data: Data) throws(Problem) -> M {
        do {
            return try JSONReader.read(Array(data)) { reader throws(JSONReader.Failure) in try type.read(&reader) }
        } catch {
            throw Problem(code: .malformedJSON, detail: error.description)
        }
    }

    /// The body's `protocol` number, if it is a JSON object that has one.
    private static func envelopeVersion(_ data: Data) -> Int? {
        var version: Int?
        _ = try? JSONReader.read(Array(data)) { reader throws(JSONReader.Failure) in
            try reader.object { reader, key throws(JSONReader.Failure) in
                if key == "protocol" { version = try reader.int() } else { try reader.skip() }
            }
        }
        return version
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
