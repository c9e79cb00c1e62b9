import Foundation
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting

/// Workloads on the device store.
struct DeviceWorkloads {
    let catalog: Catalog
    let folder: URL
    let quick: Bool

    var course: Course { catalog[SampleCatalog.courseID]! }

    func entries(_ count: Int, seed: UInt64) -> [RecordEntry] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in RecordEntry(course: course.id, payload: RandomStudy.payload(in: course, resets: false, using: &generator)) }
    }

    /// Record many events in batches of 1,000 vs raw SQLite inserting the same rows.
    func batchRecord() async throws -> Row {
        let count = quick ? 20_000 : 100_000
        let store = try DeviceStore(path: folder.appendingPathComponent("batch.sqlite").path, catalog: catalog)
        let all = entries(count, seed: 1)
        var recorded = [ProgressEvent]()
        recorded.reserveCapacity(count)
        let ours = try await Measure.time {
            for start in stride(from: 0, to: count, by: 1000) {
                recorded += try await store.record(Array(all[start..<min(count, start + 1000)]))
            }
        }
        let raw = try RawSQLite(path: folder.appendingPathComponent("batch-raw.sqlite").path)
        let baseline = try await Measure.time {
            for start in stride(from: 0, to: count, by: 1000) { try raw.insert(recorded[start..<min(count, start + 1000)]) }
        }
        let rate = Double(count) / ours, baseRate = Double(count) / baseline
        return Row(
            workload: "record \(count) events in batches of 1,000", measure: "events/s",
            value: Measure.format(rate, "events/s"), baseline: Measure.format(baseRate, "events/s") + " (raw SQLite)",
            ratio: String(format: "%.2f×", rate / baseRate), target: "≥ 0.7×", met: rate / baseRate >= 0.7)
    }

    /// Record events one per transaction: median latency vs raw single-row commits, for the
    /// store's blocking call (the same kind of call as the baseline's) and for the async one.
    /// Three rounds on fresh files; the three kinds take turns at going first, so that none is
    /// favoured on this noisy machine; each file is warmed up with 100 records first.
    func singleRecord() async throws -> [Row] {
        let count = 1000, warmUp = 100
        let all = entries(count + warmUp, seed: 2)
        var blocking = [Double](), async = [Double](), baseline = [Double](), sameRows = [Double]()
        for round in 0..<3 {
            let file = { (name: String) in folder.appendingPathComponent("single-\(round)-\(name).sqlite").path }
            let store = try DeviceStore(path: file("blocking"), catalog: catalog)
            let asyncStore = try DeviceStore(path: file("async"), catalog: catalog)
            let raw = try RawSQLite(path: file("raw"))
            let rawWithProgress = try RawSQLite(path: file("raw-progress"))
            // The baseline inserts the same rows the stores make (a quiz attempt names the
            // course's version, as the store stamps it).
            let replica = ReplicaID.random(), learner = LearnerID.newGuest()
            let rows = try all.enumerated().map { index, entry in
                var payload = entry.payload
                if case .quizAttempt(let quiz, let answers, 0) = payload {
                    payload = .quizAttempt(quiz: quiz, answers: answers, version: course.version)
                }
                return try ProgressEvent(
                    id: EventID(replica: replica, seq: Int64(index) + 1), learner: learner,
                    timestamp: HLCTimestamp(physicalMilliseconds: 1_800_000_000_000 + Int64(index)), course: entry.course, payload: payload)
            }
            // The diagnostic baseline writes the progress bytes the store writes, encoded here
            // outside its timing.
            var progress = CourseProgress(course: course.id)
            for (index, entry) in all.enumerated() {
                progress.apply(rows[index], catalog: catalog)
                let state = progress.compactEncoded()
                var times = [0.0, 0.0, 0.0, 0.0]
                for turn in 0..<4 {
                    switch (turn + index + round) % 4 {
                    case 0: times[0] = try await Measure.time { _ = try store.record(entry.payload, in: entry.course) as ProgressEvent }
                    case 1: times[1] = try await Measure.time { try await asyncStore.record(entry.payload, in: entry.course) }
                    case 2: times[2] = try await Measure.time { try raw.insert(rows[index...index]) }
                    default: times[3] = try await Measure.time { try rawWithProgress.insert(rows[index...index], progress: state) }
                    }
                }
                guard index >= warmUp else { continue }
                blocking.append(times[0])
                async.append(times[1])
                baseline.append(times[2])
                sameRows.append(times[3])
            }
        }
        let base = Measure.median(baseline)
        func row(_ name: String, _ latencies: [Double], target: Bool) -> Row {
            let ours = Measure.median(latencies)
            return Row(
                workload: "record 1,000 events, one per transaction (\(name))", measure: "median latency",
                value: Measure.format(ours, "µs") + String(format: " (p99 %.0f µs)", Measure.percentile(latencies, 0.99) * 1e6),
                baseline: Measure.format(base, "µs") + " (raw single-row commit)",
                ratio: String(format: "%.2f×", ours / base), target: target ? "≤ 1.5×" : "-", met: target ? ours / base <= 1.5 : nil)
        }
        let ours = Measure.median(blocking), same = Measure.median(sameRows)
        let diagnostic = Row(
            workload: "diagnostic: the blocking call against raw SQLite writing the same two rows (the event, the same progress bytes)",
            measure: "median latency", value: Measure.format(ours, "µs"),
            baseline: Measure.format(same, "µs") + String(format: " (p99 %.0f µs)", Measure.percentile(sameRows, 0.99) * 1e6),
            ratio: String(format: "%.2f×", ours / same), target: "-", met: nil)
        return [row("blocking call", blocking, target: true), row("async call, two thread hops", async, target: false), diagnostic]
    }

    /// Reset a course with 100,000 events in the log: the reset names every event the device
    /// holds and the course's progress is rebuilt from the log (the rare write that reads it all).
    func resetCourse() async throws -> Row {
        let count = quick ? 20_000 : 100_000
        let store = try DeviceStore(path: folder.appendingPathComponent("reset.sqlite").path, catalog: catalog)
        let all = entries(count, seed: 5)
        for start in stride(from: 0, to: count, by: 1000) { try await store.record(Array(all[start..<start + 1000])) }
        var times = [Double]()
        for _ in 0..<5 {
            times.append(try await Measure.time { try await store.record(.courseReset(), in: course.id) })
        }
        return Row(
            workload: "reset a course with \(count) events in the log (the progress is rebuilt from the log)", measure: "median latency",
            value: Measure.format(Measure.median(times), "ms"), baseline: "-", ratio: "-", target: "-", met: nil)
    }

    /// Read one course's progress with 10,000 events in the log.
    func readProgress() async throws -> Row {
        let store = try DeviceStore(path: folder.appendingPathComponent("read.sqlite").path, catalog: catalog)
        let all = entries(10_000, seed: 3)
        for start in stride(from: 0, to: all.count, by: 1000) { try await store.record(Array(all[start..<start + 1000])) }
        var latencies = [Double]()
        for _ in 0..<1000 {
            latencies.append(try await Measure.time { _ = try await store.progress(in: course.id) })
        }
        let median = Measure.median(latencies)
        return Row(
            workload: "read a course's progress, 10,000 events in the log", measure: "median latency",
            value: Measure.format(median, "ms") + String(format: " (p99 %.3f ms)", Measure.percentile(latencies, 0.99) * 1000),
            baseline: "-", ratio: "-", target: "< 1 ms", met: median < 0.001)
    }
}

extension DeviceWorkloads {
    /// How long the materialized progress takes to encode and decode (a part of every record).
    func progressCodec() async throws -> Row {
        var progress = CourseProgress(course: course.id)
        var generator = SeededGenerator(seed: 4)
        for event in RandomStudy.events(count: 200, catalog: catalog, learners: ["g-x"], replicas: ["r"], resets: false, using: &generator) {
            progress.apply(event, catalog: catalog)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(progress)
        let compact = progress.compactEncoded()
        var encodes = [Double](), decodes = [Double](), jsonEncodes = [Double](), jsonDecodes = [Double]()
        for _ in 0..<1000 {
            encodes.append(await Measure.time { _ = progress.compactEncoded() })
            decodes.append(try await Measure.time { _ = try CourseProgress(compact: compact) })
            jsonEncodes.append(try await Measure.time { _ = try encoder.encode(progress) })
            jsonDecodes.append(try await Measure.time { _ = try JSONDecoder().decode(CourseProgress.self, from: data) })
        }
        func pair(_ a: [Double], _ b: [Double]) -> String {
            Measure.format(Measure.median(a), "µs") + " / " + Measure.format(Measure.median(b), "µs")
        }
        return Row(
            workload: "encode / decode one course's stored progress (\(compact.count) bytes)", measure: "median latency",
            value: pair(encodes, decodes), baseline: pair(jsonEncodes, jsonDecodes) + " (JSON, \(data.count) bytes)",
            ratio: String(format: "%.2f×", (Measure.median(encodes) + Measure.median(decodes)) / (Measure.median(jsonEncodes) + Measure.median(jsonDecodes))),
            target: "-", met: nil)
    }
}
