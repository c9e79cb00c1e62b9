/// One event of a `text/event-stream` (Server-Sent Events, as the WHATWG HTML standard defines
/// them), the form of `GET /v1/live`.
package struct ServerSentEvent: Hashable, Sendable {
    /// The `event:` field (`message` when the event named none).
    package var event: String
    /// The `data:` lines, joined by line feeds.
    package var data: String
    /// The `id:` field, if given.
    package var id: String?

    package init(event: String = "message", data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }

    /// The event as the stream sends it: each field a line, a blank line after.
    package var encoded: String {
        var text = event == "message" ? "" : "event: \(event)\n"
        if let id { text += "id: \(id)\n" }
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(line)\n" }
        return text + "\n"
    }

    /// A comment line, which every reader ignores: the stream's heartbeat.
    package static let heartbeat = ": heartbeat\n\n"
}

/// Reads a `text/event-stream` as its bytes arrive, in chunks cut anywhere. Lines end with LF,
/// CR LF or CR; comment lines and unknown fields are ignored, as the standard says.
package struct ServerSentEventParser: Sendable {
    /// A line longer than ``maxLineBytes``: the stream is not one this reader will hold.
    package struct LineTooLong: Error, Hashable, Sendable {}

    /// The longest line read, in bytes.
    package let maxLineBytes: Int
    private var line: [UInt8] = []
    private var afterCR = false
    private var event = ""
    private var data: [String] = []
    private var id: String?
    private var hasData = false

    package init(maxLineBytes: Int = LiveStreamLimits.maxLineBytes) {
        self.maxLineBytes = maxLineBytes
    }

    /// Reads `bytes` and returns the events they complete.
    /// - Throws: ``LineTooLong``; the parser is then of no further use.
    package mutating func read(_ bytes: some Sequence<UInt8>) throws(LineTooLong) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if afterCR {
                afterCR = false
                if byte == 0x0A { continue }
            }
            switch byte {
            case 0x0A, 0x0D:
                afterCR = byte == 0x0D
                if let event = endLine() { events.append(event) }
            default:
                guard line.count < maxLineBytes else { throw LineTooLong() }
                line.append(byte)
            }
        }
        return events
    }

    /// Ends the line read so far; a blank line ends the event.
    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        guard !line.isEmpty else {
            defer { event = ""; data = []; hasData = false }
            guard hasData else { return nil }
            return ServerSentEvent(event: event.isEmpty ? "message" : event, data: data.joined(separator: "\n"), id: id)
        }
        guard line[0] != 0x3A else { return nil }  // a comment
        let colon = line.firstIndex(of: 0x3A) ?? line.endIndex
        let name = String(decoding: line[..<colon], as: UTF8.self)
        var value = colon < line.endIndex ? line[(colon + 1)...] : []
        if value.first == 0x20 { value = value.dropFirst() }
        let text = String(decoding: value, as: UTF8.self)
        switch name {
        case "event": event = text
        case "data":
            data.append(text)
            hasData = true
        case "id" where !value.contains(0): id = text
        default: break
        }
        return nil
    }
}
