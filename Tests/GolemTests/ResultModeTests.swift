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
