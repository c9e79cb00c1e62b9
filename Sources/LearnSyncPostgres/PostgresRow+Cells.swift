import LearnSyncModels
import LearnSyncServer
import PostgresNIO

extension PostgresRow.Iterator {
    /// The next cell, decoded as `type`.
    mutating func next<Value: PostgresDecodable>(_ type: Value.Type) throws -> Value {
        guard let cell = next() else { throw ServerError("PostgreSQL sent a row with fewer columns than the query selects") }
        return try cell.decode(Value.self)
    }
}

extension EventColumns {
    /// The event columns (``EventColumns/names``) in the next cells of a row.
    init(_ cells: inout PostgresRow.Iterator) throws {
        // Arguments are evaluated in order: the order of `names`.
        self.init(
            replica: try cells.next(String.self), seq: try cells.next(Int64.self), learner: try cells.next(String.self),
            hlc: try cells.next(Int64.self), course: try cells.next(String.self), type: try cells.next(String.self),
            item: try cells.next(String?.self), answers: try cells.next(String?.self), seen: try cells.next(String?.self),
            choice: try cells.next(String?.self), seconds: try cells.next(Int64?.self).map { Int($0) },
            position: try cells.next(Int64?.self).map { Int($0) }, version: try cells.next(Int64?.self).map { Int($0) })
    }
}
