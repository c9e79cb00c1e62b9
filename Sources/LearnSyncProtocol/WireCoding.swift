package import Foundation

/// How a protocol message is read and written. Each message has exactly one codec: a
/// ``WireMessage`` (every request, and the sync answer) is read by the strict ``JSONReader`` and
/// written by ``JSONWriter``; the other answers are `Codable`. A type that were both would make
/// these defaults ambiguous, so the compiler keeps it to one.
package protocol WireCodable {
    /// Reads the message from a JSON body.
    /// - Throws: a ``Problem`` `malformed-json` naming the field, never its value.
    static func wireDecoded(from data: Data) throws(Problem) -> Self
    /// Writes the message as compact JSON.
    func wireEncoded() throws -> Data
}

extension WireCodable where Self: WireMessage {
    package static func wireDecoded(from data: Data) throws(Problem) -> Self {
        do {
            return try JSONReader.read(data) { reader throws(JSONReader.Failure) in try Self.read(&reader) }
        } catch {
            throw Problem(code: .malformedJSON, detail: error.description)
        }
    }

    package func wireEncoded() throws -> Data {
        var writer = JSONWriter(capacity: 1024)
        write(to: &writer)
        return Data(writer.bytes)
    }
}

extension WireCodable where Self: Decodable {
    package static func wireDecoded(from data: Data) throws(Problem) -> Self {
        do {
            return try JSONDecoder().decode(Self.self, from: data)
        } catch {
            throw Problem(code: .malformedJSON, detail: WireCoding.describe(error, fallback: "the body is not valid JSON"))
        }
    }
}

extension WireCodable where Self: Encodable {
    package func wireEncoded() throws -> Data { try JSONEncoder().encode(self) }
}

/// Encodes and decodes protocol messages, turning every decoding failure into a ``Problem``.
package enum WireCoding {
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
            value = try T.wireDecoded(from: data)
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
    package static func decode<T: WireCodable>(_ type: T.Type, from data: Data) throws(Problem) -> T {
        try T.wireDecoded(from: data)
    }

    /// Encodes a message as compact JSON.
    package static func encode<T: WireCodable>(_ value: T) throws -> Data {
        try value.wireEncoded()
    }

    /// The body's `protocol` number, if it is a JSON object that has one.
    private static func envelopeVersion(_ data: Data) -> Int? {
        var version: Int?
        _ = try? JSONReader.read(data) { reader throws(JSONReader.Failure) in
            try reader.object { reader, key throws(JSONReader.Failure) in
                if case "protocol" = key { version = try reader.int() } else { try reader.skip() }
            }
        }
        return version
    }

    /// A decoding error as a detail naming the field, never its value.
    static func describe(_ error: any Error, fallback: String) -> String {
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
