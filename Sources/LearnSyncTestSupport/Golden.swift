public import Foundation

/// The protocol's golden files in `Fixtures/protocol/`, shared by client and server tests.
public enum Golden {
    /// The folder of golden files.
    public static var directory: URL { Fixtures.directory.appendingPathComponent("protocol") }

    /// The bytes of a golden file, e.g. `sync-request.json`.
    public static func data(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }

    /// Every file of `malformed/`, with the problem code its name promises
    /// (`<code>--<what>.json`).
    public static func malformed() throws -> [(name: String, expectedCode: String, body: Data)] {
        let folder = directory.appendingPathComponent("malformed")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map { name in
            let code = name.components(separatedBy: "--")[0]
            return (name, code, try Data(contentsOf: folder.appendingPathComponent(name)))
        }
    }

    /// Whether two JSON documents hold the same values (key order and spacing aside).
    public static func sameJSON(_ a: Data, _ b: Data) throws -> Bool {
        let x = try JSONSerialization.jsonObject(with: a) as? NSObject
        let y = try JSONSerialization.jsonObject(with: b) as? NSObject
        return x != nil && x == y
    }
}
