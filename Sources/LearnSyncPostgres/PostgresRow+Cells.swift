import LearnSyncModels
import LearnSyncServer
import PostgresNIO

extension PostgresRow.Iterator {
    /// The next cell, decoded as `type`.
    mutating func next<Value: PostgresDecodable>(_ type: Value.Type) throws -> Value {
        try nextCell().decode(Value.self)
    }

    // A feed page decodes 15 cells a row; postgres-nio's generic decoding of each (its
    // decoding context, its error bookkeeping) cost about a quarter of the server's CPU in a
    // long pull. Text and BIGINT cells, all a feed row holds, are read from their bytes here;
    // any other type goes through postgres-nio.

    /// The next cell, a TEXT (or VARCHAR) cell read as it is, or nil for NULL.
    mutating func next(_ type: String?.Type) throws -> String? {
        let cell = try nextCell()
        guard var bytes = cell.bytes else { return nil }
        guard cell.dataType == .text || cell.dataType == .varchar else { return try cell.decode(String.self) }
        return bytes.readString(length: bytes.readableBytes)
    }

    /// The next cell, a TEXT (or VARCHAR) cell read as it is.
    mutating func next(_ type: String.Type) throws -> String {
        guard let text = try next(String?.self) else { throw ServerError("PostgreSQL sent NULL where the query selects text") }
        return text
    }

    /// The next cell, a BIGINT in the binary format read as it is, or nil for NULL.
    mutating func next(_ type: Int64?.Type) throws -> Int64? {
        let cell = try nextCell()
        guard var bytes = cell.bytes else { return nil }
        guard cell.dataType == .int8, cell.format == .binary, bytes.readableBytes == 8, let value = bytes.readInteger(as: Int64.self) else {
            return try cell.decode(Int64.self)
        }
        return value
    }

    /// The next cell, a BIGINT in the binary format read as it is.
    mutating func next(_ type: Int64.Type) throws -> Int64 {
        guard let value = try next(Int64?.self) else { throw ServerError("PostgreSQL sent NULL where the query selects a number") }
        return value
    }

    private mutating func nextCell() throws -> PostgresCell {
        guard let cell = next() else { throw ServerError("PostgreSQL sent a row with fewer columns than the query selects") }
        return cell
    }
}

extension PostgresRow.Iterator {
    /// The next cell, a TEXT cell, as `previous` when it holds the same text: a feed read a row
    /// at a time makes the text that repeats from one row to the next (the learner, the
    /// replica, the course) into a string once.
    mutating func next(_ type: String.Type, reusing previous: String?) throws -> String {
        guard var previous else { return try next(String.self) }
        let cell = try nextCell()
        guard let bytes = cell.bytes, cell.dataType == .text else { return try cell.decode(String.self) }
        let same = previous.withUTF8 { text in
            text.count == bytes.readableBytes && bytes.withUnsafeReadableBytes { $0.elementsEqual(UnsafeRawBufferPointer(text)) }
        }
        if same { return previous }
        var rest = bytes
        return rest.readString(length: rest.readableBytes) ?? ""
    }
}

extension EventColumns {
    /// The event columns (``EventColumns/names``) in the next cells of a row; text equal to the
    /// `previous` row's is shared with it.
    init(_ cells: inout PostgresRow.Iterator, previous: EventColumns? = nil) throws {
        // Arguments are evaluated in order: the order of `names`.
        self.init(
            replica: try cells.next(String.self, reusing: previous?.replica), seq: try cells.next(Int64.self),
            learner: try cells.next(String.self, reusing: previous?.learner), hlc: try cells.next(Int64.self),
            course: try cells.next(String.self, reusing: previous?.course), type: try cells.next(String.self, reusing: previous?.type),
            item: try cells.next(String?.self), answers: try cells.next(String?.self), seen: try cells.next(String?.self),
            choice: try cells.next(String?.self), seconds: try cells.next(Int64?.self).map { Int($0) },
            position: try cells.next(Int64?.self).map { Int($0) }, version: try cells.next(Int64?.self).map { Int($0) })
    }
}
