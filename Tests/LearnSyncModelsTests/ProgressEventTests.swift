import Foundation
import LearnSyncModels
import Testing

@Suite struct ProgressEventTests {
    let id = EventID(replica: "r1", seq: 1)
    let learner: LearnerID = "g-abc"
    let time = HLCTimestamp(physicalMilliseconds: 1_767_225_600_000)

    @Test(arguments: [
        EventPayload.lessonStarted(lesson: "l1"), .lessonCompleted(lesson: "l1"),
        .quizAttempt(quiz: "q", answers: ["a", "b"], version: 2), .scenarioChoice(scenario: "s", choice: "x"),
        .timeSpent(lesson: "l1", seconds: 30), .resumePosition(lesson: "l1", offset: 0), .courseReset(), .courseReset(seen: SeenEvents([EventID(replica: "r2", seq: 3)])),
    ])
    func roundTripsThroughJSON(_ payload: EventPayload) throws {
        let event = try ProgressEvent(id: id, learner: learner, timestamp: time, course: "c", payload: payload)
        let data = try JSONEncoder().encode(event)
        #expect(try JSONDecoder().decode(ProgressEvent.self, from: data) == event)
        #expect(data.count < 200)
    }

    @Test(arguments: [
        EventPayload.timeSpent(lesson: "l1", seconds: 0), .timeSpent(lesson: "l1", seconds: 86_401),
        .resumePosition(lesson: "l1", offset: -1), .quizAttempt(quiz: "q", answers: []),
    ])
    func rejectsOutOfRangeValues(_ payload: EventPayload) {
        #expect(throws: ModelError.self) {
            try ProgressEvent(id: id, learner: learner, timestamp: time, course: "c", payload: payload)
        }
    }

    @Test func rejectsZeroSeqAndTimestamp() {
        #expect(throws: ModelError.self) {
            try ProgressEvent(id: EventID(replica: "r", seq: 0), learner: learner, timestamp: time, course: "c", payload: .courseReset())
        }
        #expect(throws: ModelError.self) {
            try ProgressEvent(id: id, learner: learner, timestamp: HLCTimestamp(rawValue: 0), course: "c", payload: .courseReset())
        }
    }

    @Test(arguments: [
        #"{"replica":"r","seq":1,"learner":"g-a","hlc":5,"course":"c","type":"bogus"}"#,
        #"{"replica":"r","seq":1,"learner":"g-a","hlc":5,"course":"c","type":"lesson.started"}"#,
        #"{"replica":"r","seq":"1","learner":"g-a","hlc":5,"course":"c","type":"course.reset"}"#,
        #"{"replica":"","seq":1,"learner":"g-a","hlc":5,"course":"c","type":"course.reset"}"#,
        #"{"replica":"r","seq":1,"learner":"g-a","hlc":5,"course":"c","type":"time.spent","item":"l","seconds":-4}"#,
    ])
    func rejectsMalformedJSON(_ json: String) {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ProgressEvent.self, from: Data(json.utf8)) }
    }
}
