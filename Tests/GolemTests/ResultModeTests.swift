import Foundation
import GolemExamples
import GolemRequestor
import GolemTesting
import Testing
import YagnaAPI
import YagnaSimulator

@Suite struct ResultModeTests {
    /// The same job with results read from the SSE stream: same outputs, no result polls.
    @Test func streamedResultsMatchPolledOnes() async throws {
        func run(_ mode: ResultMode) async throws -> (outputs: [String], report: SimulationReport) {
            var configuration = GolemConfiguration(budget: 1)
            configuration.resultMode = mode
            let box = Outputs()
            let report = try await SimulatedNetwork.run(scenario: try fastScenario(), configuration: configuration) { golem in
                let results = try await golem.executeTasks([1, 2, 3], payload: Examples.image, maxWorkers: 1, timeout: .seconds(120)) { ctx, task in
                    let script = ctx.newScript()
                    let out = script.run("/bin/sh", "-c", "echo task \(task.data); date")
                    try await ctx.execute(script)
                    return try await out.value.stdout ?? ""
                }
                box.set(results.sorted { $0.id < $1.id }.map(\.value))
            }
            return (box.value, report)
        }
        let polled = try await run(.poll)
        let streamed = try await run(.stream)
        #expect(polled.report.passed && streamed.report.passed, "\(polled.report.failures) \(streamed.report.failures)")
        #expect(streamed.outputs.count == 3)
        #expect(streamed.outputs.map { $0.split(separator: "\n").first.map(String.init) } == ["task 1", "task 2", "task 3"])
        #expect(polled.outputs.map { $0.split(separator: "\n").first.map(String.init) } == ["task 1", "task 2", "task 3"])
        // Streamed: every batch read through an event stream, none through result polls.
        let batchReads = streamed.report.journal.filter { $0.method == "GET" && $0.path.contains("/exec/") }
        #expect(!batchReads.isEmpty && batchReads.allSatisfy { !$0.frames.isEmpty })
        #expect(polled.report.journal.filter { $0.method == "GET" && $0.path.contains("/exec/") }.allSatisfy { $0.frames.isEmpty })
    }

    /// A result poll is answered the moment the batch finishes, not at the poll's timeout
    /// (golem-core saw a 1.2 s batch answered at the end of a 10 s poll).
    @Test func aResultPollIsAnsweredWhenTheBatchFinishes() async throws {
        let report = try await SimulatedNetwork.run(scenario: try fastScenario()) { golem in
            _ = try await golem.executeTasks([1], payload: Examples.image, maxWorkers: 1, timeout: .seconds(60)) { ctx, _ in
                let script = ctx.newScript()
                script.run("/bin/sh", "-c", "sleep 1.2")
                try await ctx.execute(script)
                return 0
            }
        }
        #expect(report.passed, "\(report.failures)")
        let exec = try #require(report.journal.last { $0.method == "POST" && $0.path.hasSuffix("/exec") && String(decoding: $0.requestBody, as: UTF8.self).contains("sleep 1.2") })
        let polls = report.journal.filter { $0.method == "GET" && $0.path.contains("/exec/") && $0.sequence > exec.sequence && $0.status == 200 }
        let answered = try #require(polls.first { String(decoding: $0.responseBody, as: UTF8.self).contains("\"isBatchFinished\":true") })
        // The command takes 1.2 s of virtual time from the exec; the poll's timeout is 5 s.
        let waited = Double(answered.endOffset - exec.endOffset) / 1e9
        #expect(waited >= 1.2 && waited < 1.3, "answered \(waited) s after the exec")
    }

    @Test func aFailedCommandOnTheStreamIsATypedError() async throws {
        let report = try await SimulatedNetwork.run(scenario: try fastScenario()) { golem in
            let results = try await golem.executeTasks([1], payload: Examples.image, maxWorkers: 1, timeout: .seconds(60)) { ctx, _ in
                let script = ctx.newScript(resultMode: .stream)
                script.run("/bin/sh", "-c", "echo before; exit 3")
                do {
                    try await ctx.execute(script)
                    return "no error"
                } catch let e as CommandError {
                    return "\(e.index): \(e.stdout ?? "")"
                }
            }
            #expect(results.first?.value == "0: before\n")
        }
        #expect(report.passed, "\(report.failures)")
    }
}

import Synchronization

final class Outputs: Sendable {
    private let m = Mutex<[String]>([])
    func set(_ v: [String]) { m.withLock { $0 = v } }
    var value: [String] { m.withLock { $0 } }
}
