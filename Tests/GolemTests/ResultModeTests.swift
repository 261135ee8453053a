import Foundation
import GolemExamples
import GolemRequestor
import GolemTesting
import GolemTime
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

    /// A batch-result stream that cannot be opened, or that ends before the batch does, hands
    /// over to polling: every command's result still arrives, read by result polls.
    @Test(arguments: [BreakingStreams.Break.refuse, .cutAfterFirstFrame])
    func aBrokenStreamFallsBackToPolling(_ mode: BreakingStreams.Break) async throws {
        let scenario = try fastScenario()
        let (outputs, journal, opened) = try await Simulation().runDetached { clock in
            let exchange = InMemoryFileExchange()
            let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "sim-key", files: exchange)
            let transport = BreakingStreams(inner: InProcessTransport(node: node), mode: mode)
            var configuration = GolemConfiguration(budget: 1)
            configuration.resultMode = .stream
            let outputs = try await Golem.withGolem(transport: transport, configuration: configuration, clock: clock, storage: SimulatedStorage(exchange)) { golem in
                try await golem.executeTasks([1, 2], payload: Examples.image, maxWorkers: 1, timeout: .seconds(120)) { ctx, task in
                    let script = ctx.newScript()
                    let first = script.run("/bin/sh", "-c", "echo first \(task.data)")
                    let second = script.run("/bin/sh", "-c", "sleep 2; echo second \(task.data)")
                    try await ctx.execute(script)
                    return [try await first.value.stdout ?? "", try await second.value.stdout ?? ""].joined()
                }.sorted { $0.id < $1.id }.map(\.value)
            }
            return (outputs, node.journal, transport.opened.withLock { $0 })
        }
        #expect(outputs == ["first 1\nsecond 1\n", "first 2\nsecond 2\n"])
        // Every batch (the deploy and start, then one per task) asked for a stream first…
        let batches = journal.filter { $0.method == "POST" && $0.path.hasSuffix("/exec") }.count
        #expect(batches == 3 && opened == batches, "\(opened) streams for \(batches) batches")
        // …and had its results read by polls once the stream broke.
        let polls = journal.filter { $0.method == "GET" && $0.path.contains("/exec/") && $0.frames.isEmpty && $0.status == 200 }
        #expect(polls.filter { String(decoding: $0.responseBody, as: UTF8.self).contains("\"isBatchFinished\":true") }.count == batches)
        let streams = journal.filter { !$0.frames.isEmpty }
        #expect(mode == .refuse ? streams.isEmpty : streams.count == batches)
    }
}

/// A transport whose batch-result streams break: refused with a 500, or cut after their first
/// frame (a proxy that drops the connection).
final class BreakingStreams: Transport {
    enum Break: Sendable, CustomTestStringConvertible {
        case refuse, cutAfterFirstFrame
        var testDescription: String { self == .refuse ? "refused" : "cut after one frame" }
    }
    let inner: InProcessTransport
    let mode: Break
    let opened = Mutex(0)

    init(inner: InProcessTransport, mode: Break) {
        self.inner = inner
        self.mode = mode
    }

    func send(_ request: YagnaRequest) async throws -> YagnaResponse { try await inner.send(request) }

    func openEventStream(_ request: YagnaRequest) async throws -> EventStreamResponse {
        opened.withLock { $0 += 1 }
        switch mode {
        case .refuse:
            return .response(YagnaResponse(status: 500, headers: [Header("Content-Type", "application/json")], body: Array(#"{"message":"stream broke"}"#.utf8)))
        case .cutAfterFirstFrame:
            guard case .stream(let frames) = try await inner.openEventStream(request) else { return try await inner.openEventStream(request) }
            let iterator = FirstOnly(frames.makeAsyncIterator())
            return .stream(AsyncThrowingStream { try await iterator.next() })
        }
    }

    /// Hands out the first frame, then ends.
    final class FirstOnly: @unchecked Sendable {
        var iterator: AsyncThrowingStream<ServerSentEvent, any Error>.AsyncIterator
        var given = false
        init(_ iterator: AsyncThrowingStream<ServerSentEvent, any Error>.AsyncIterator) { self.iterator = iterator }
        func next() async throws -> ServerSentEvent? {
            guard !given else { return nil }
            given = true
            return try await iterator.next()
        }
    }
}

import Synchronization

final class Outputs: Sendable {
    private let m = Mutex<[String]>([])
    func set(_ v: [String]) { m.withLock { $0 = v } }
    var value: [String] { m.withLock { $0 } }
}
