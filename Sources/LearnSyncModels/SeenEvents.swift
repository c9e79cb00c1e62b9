/// The events a device held when it made a course reset: per replica, ranges of counters.
///
/// A reset hides exactly these events (observed-remove), so work the device had not seen,
/// recorded offline elsewhere or earlier on a clock that runs behind, survives the reset.
/// A replica's events reach a device almost always as one run `1...n`, so the set stays small.
///
/// Its text form, used on the wire and in storage, lists replicas in order with their ranges:
/// `"k3v…:1-40;p9q…:1-12,15-15"`.
public struct SeenEvents: Hashable, Sendable, CustomStringConvertible {
    /// Most ranges one set may hold (a device with more gaps than this is not a real one).
    public static let maxRanges = 1000

    /// Sorted, disjoint, non-adjacent ranges of counters per replica.
    public private(set) var ranges: [ReplicaID: [ClosedRange<Int64>]] = [:]

    public init() {}

    /// The set of these event ids.
    public init(_ ids: some Sequence<EventID>) {
        for id in ids.sorted() { insert(id.replica, id.seq...id.seq) }
    }

    /// Whether the set names no event.
    public var isEmpty: Bool { ranges.isEmpty }

    /// Whether the device had seen `id`.
    public func contains(_ id: EventID) -> Bool {
        guard let list = ranges[id.replica] else { return false }
        return Self.contains(id.seq, in: list)
    }

    /// Whether one of the sorted, disjoint `list` holds `seq` (a binary search).
    private static func contains(_ seq: Int64, in list: [ClosedRange<Int64>]) -> Bool {
        var low = 0, high = list.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if list[middle].upperBound < seq {
                low = middle + 1
            } else if list[middle].lowerBound > seq {
                high = middle - 1
            } else {
                return true
            }
        }
        return false
    }

    /// Adds a run of counters of one replica (ranges must be added in increasing order per
    /// replica, as a scan of the log sorted by `(replica, seq)` yields them).
    public mutating func insert(_ replica: ReplicaID, _ range: ClosedRange<Int64>) {
        var list = ranges[replica] ?? []
        // Runs may reach either end of Int64 (the text form allows Int64.max): `&-` wraps only at
        // Int64.min, where the first test holds already.
        if let last = list.last, last.upperBound >= range.lowerBound || last.upperBound == range.lowerBound &- 1 {
            list[list.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
        } else {
            list.append(range)
        }
        ranges[replica] = list
    }

    /// Moves the counters `from...` of `replica` to `newReplica`, renumbered from `firstSeq`
    /// in the same order: after a device took a new replica id for events a server never stored
    /// under the old one. `moved` maps each old counter to its new one.
    public mutating func rename(_ replica: ReplicaID, movedTo newReplica: ReplicaID, moved: [Int64: Int64]) {
        guard let list = ranges[replica] else { return }
        // Work in the moved counters (the device's own events), never in a range's length: a
        // pulled reset may name a run as long as Int64 allows.
        var holes = [Int64]()
        var moves = [Int64]()
        for (from, to) in moved where Self.contains(from, in: list) {
            holes.append(from)
            moves.append(to)
        }
        var kept = SeenEvents()
        var next = holes.sorted().makeIterator()
        var hole = next.next()
        for range in list {
            // Each hole lies in one run, and runs and holes are sorted: the run's holes come next.
            var low: Int64? = range.lowerBound
            while let seq = hole, seq <= range.upperBound {
                if let start = low, seq > start { kept.insert(replica, start...(seq - 1)) }
                low = seq < range.upperBound ? seq + 1 : nil
                hole = next.next()
            }
            if let start = low { kept.insert(replica, start...range.upperBound) }
        }
        ranges[replica] = kept.ranges[replica]
        for seq in moves.sorted() { insert(newReplica, seq...seq) }
    }

    /// The text form.
    public var text: String {
        ranges.sorted { $0.key < $1.key }.map { replica, list in
            replica.rawValue + ":" + list.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
        }.joined(separator: ";")
    }

    public var description: String { text }

    /// Reads the text form: replicas separated by `;`, each `replica:runs` with runs
    /// `low-high` separated by `,`, counters from 1. Replicas and runs may come in any order and
    /// overlap; the set is what they name together (the text this type writes is sorted and
    /// merged). A run written high to low names the same counters.
    /// - Throws: ``ModelError`` `invalidEvent` when it is malformed or names counter 0, or
    ///   `outOfRange` when it holds more than ``maxRanges`` runs.
    public init(text: String) throws(ModelError) {
        let invalid = ModelError(.invalidEvent, "seen must be \"replica:from-to,…;…\" with counters from 1")
        guard !text.isEmpty else { return }
        var count = 0
        var runs = [ReplicaID: [ClosedRange<Int64>]]()
        for part in text.split(separator: ";", omittingEmptySubsequences: false) {
            let halves = part.split(separator: ":", omittingEmptySubsequences: false)
            guard halves.count == 2 else { throw invalid }
            let replica = try ReplicaID(validating: String(halves[0]))
            for pair in halves[1].split(separator: ",", omittingEmptySubsequences: false) {
                let bounds = pair.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count == 2, let first = Int64(bounds[0]), let second = Int64(bounds[1]), min(first, second) >= 1 else {
                    throw invalid
                }
                count += 1
                guard count <= Self.maxRanges else {
                    throw ModelError(.outOfRange, "seen may hold at most \(Self.maxRanges) ranges")
                }
                runs[replica, default: []].append(min(first, second)...max(first, second))
            }
        }
        for (replica, list) in runs {
            for range in list.sorted(by: { $0.lowerBound < $1.lowerBound }) { insert(replica, range) }
        }
    }
}

extension SeenEvents: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        do {
            try self.init(text: try container.decode(String.self))
        } catch let error as ModelError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
