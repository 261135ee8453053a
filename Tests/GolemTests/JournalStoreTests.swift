import Foundation
import GolemTesting
import GolemTime
import Synchronization
import Testing
import YagnaAPI
import YagnaSimulator

/// A node that does not retain its journal (`serve`) still hands every exchange, once, to its
/// observer (`--journal` writes them), including streamed ones once their last frame is out —
/// and keeps none of them.
@Suite struct JournalStoreTests {
    final class Seen: Sendable {
        let entries = Mutex<[JournalEntry]>([])
        func add(_ e: JournalEntry) { entries.withLock { $0.append(e) } }
        var all: [JournalEntry] { entries.withLock { $0 } }
    }

    func session(retain: Bool) async throws -> (journal: [JournalEntry], observed: [JournalEntry], count: Int) {
        let scenario = try fastScenario()
        return try await Simulation().runDetached { clock in
            let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange(), retainJournal: retain)
            let seen = Seen()
            node.observeExchanges { seen.add($0) }
            let y = YagnaClient(transport: InProcessTransport(node: node))
            let activity = try await y.approvedActivity(clock: clock).activity
            let batch = try await y.activity.exec(activity, commands: [.deploy(DeployCommand()), .start(StartCommand()), .run(RunCommand(entryPoint: "/bin/echo", args: ["hi"]))])
            var frames = 0
            for try await _ in try await y.activity.streamResults(activity, batchId: batch) { frames += 1 }
            #expect(frames > 0)
            _ = try? await y.market.agreement("nope")  // an error answer is journalled too
            try await y.activity.destroy(activity)
            return (node.journal, seen.all, node.exchangeCount)
        }
    }

    /// A streamed answer whose client goes away after its first frame (a dropped `serve`
    /// connection) is completed when the stream is let go: observed once, with the frame it sent.
    @Test func aStreamLetGoMidBatchIsObservedOnce() async throws {
        let scenario = try fastScenario()
        let (observed, open) = try await Simulation().runDetached { clock in
            let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange(), retainJournal: false)
            let seen = Seen()
            node.observeExchanges { seen.add($0) }
            let y = YagnaClient(transport: InProcessTransport(node: node))
            let activity = try await y.approvedActivity(clock: clock).activity
            let batch = try await y.activity.exec(activity, commands: [
                .deploy(DeployCommand()), .start(StartCommand()), .run(RunCommand(entryPoint: "/bin/echo", args: ["hi"])),
            ])
            do {
                var frames = try await y.activity.streamResults(activity, batchId: batch).makeAsyncIterator()
                #expect(try await frames.next() != nil)
            }  // the stream is let go here, mid-batch
            let streamed = seen.all.filter { $0.target.contains("/exec/") && $0.method == "GET" }
            return (streamed, node.exchangeCount - seen.all.count)
        }
        #expect(observed.count == 1)
        #expect(observed.first?.frames.count == 1)
        #expect(open == 0)
    }

    @Test func everyExchangeIsObservedOnceWhetherRetainedOrNot() async throws {
        let retained = try await session(retain: true)
        let forgotten = try await session(retain: false)
        #expect(forgotten.journal.isEmpty)
        #expect(retained.journal.count == retained.count && forgotten.count == retained.count)
        for run in [retained, forgotten] {
            #expect(run.observed.map(\.sequence).sorted() == Array(0..<run.count))
        }
        // The same exchanges either way, the streamed one with its frames.
        #expect(forgotten.observed.sorted { $0.sequence < $1.sequence }.map(\.target) == retained.journal.map(\.target))
        let streamed = try #require(forgotten.observed.first { !$0.frames.isEmpty })
        #expect(streamed.status == 200 && streamed.target.contains("/exec/"))
        #expect(forgotten.observed.contains { $0.status == 404 || $0.status == 400 })
    }
}

/// In-process, bodies travel as values: the node's typed answer reaches a typed client as it is,
/// and the journal writes the bytes only when read — the same bytes, so the same trace hash.
@Suite struct InProcessBodyTests {
    /// The trace hashes of shipped scenarios at seed 7, as the code before bodies became values
    /// (86a0cfe) gave them: the journal's bytes are what they were, byte for byte. (A change
    /// that means to change the wire must change these on purpose.)
    @Test(arguments: [
        ("hello-task", "fe21a959008b60f2"), ("service-provider-dies", "b4e6ee540f5b1071"),
        ("tasks-one-bad-provider", "af4161c6bcce27b6"), ("file-service", "c201283a6d7e35e4"),
    ])
    func traceHashesAreWhatTheyWereWithBytes(scenario: String, hash: String) async throws {
        let report = try await SimulatedNetwork.runExample(scenario: try shipped(scenario), seed: 7)
        #expect(report.passed)
        #expect(report.traceHash == hash)
    }

    @Test func answersTravelAsValuesAndTheJournalWritesTheSameBytes() async throws {
        try await Self.withClient { _, transport, y, me, _ in
            let allocation = try await y.payment.createAllocation(NewAllocation(totalAmount: 1, address: me.identity))
            let answer = try await transport.send(
                YagnaRequest(operation: "payment.getAllocation", service: .payment, method: .GET, path: "/allocations/\(allocation.allocationId)"))
            #expect(answer.content.typed as? Allocation == allocation)
            #expect(answer.json != nil)
            #expect(try await y.payment.allocation(allocation.allocationId) == allocation)
        }

        // The journal: values kept (no typed answers), their bytes the writer's.
        let journal = try await Simulation().runDetached { clock in
            let node = SimulatedNode(scenario: try fastScenario(), seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
            let y = YagnaClient(transport: InProcessTransport(node: node))
            _ = try await y.approvedActivity(clock: clock)
            return node.journal
        }
        let valued = journal.filter { $0.responseJSON != nil }
        #expect(valued.count >= 5)
        #expect(journal.contains { $0.requestJSON != nil })
        for entry in journal {
            #expect(entry.response.typed == nil && entry.request.typed == nil)
            if let json = entry.responseJSON { #expect(entry.responseBody == JSONWriter.bytes(json)) }
            if let json = entry.requestJSON { #expect(entry.requestBody == JSONWriter.bytes(json)) }
        }
        let asBytes = journal.map { e in
            JournalEntry(
                sequence: e.sequence, startOffset: e.startOffset, endOffset: e.endOffset, method: e.method, target: e.target,
                requestBody: e.requestBody, status: e.status, responseBody: e.responseBody, frames: e.frames)
        }
        #expect(asBytes.allSatisfy { $0.requestJSON == nil && $0.responseJSON == nil })
        #expect(traceHash(asBytes) == traceHash(journal))
        #expect(asBytes == journal)
    }

    /// Runs `body` in a simulation with a node of the fast scenario, the transport into it, a
    /// typed client on it and the requestor's identity.
    static func withClient(
        _ body: @escaping @Sendable (SimulatedNode, InProcessTransport, YagnaClient, Identity, any GolemClock) async throws -> Void
    ) async throws {
        let scenario = try fastScenario()
        try await Simulation().runDetached { clock in
            let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
            let transport = InProcessTransport(node: node)
            let y = YagnaClient(transport: transport)
            try await body(node, transport, y, try await y.identity.me(), clock)
        }
    }

    /// A transport into the node that hands over a different value than its request's JSON says.
    struct Tampering: Transport {
        let inner: InProcessTransport
        let change: @Sendable (any Sendable) -> any Sendable
        func send(_ request: YagnaRequest) async throws -> YagnaResponse {
            var r = request
            if let typed = r.content?.typed { r.content?.typed = change(typed) }
            return try await inner.send(r)
        }
        func openEventStream(_ request: YagnaRequest) async throws -> EventStreamResponse { try await inner.openEventStream(request) }
    }

    /// An exec's script of known commands reaches the in-process node as its commands; a debug
    /// build (the tests) reads the text as well and refuses a script that differs from it, naming
    /// the type. Every other body is read from its JSON, as over HTTP: what the daemon refuses is
    /// refused, and an amount is kept as the daemon reads it.
    @Test func anExecScriptTravelsAsItsCommandsAndOtherBodiesAreRead() async throws {
        try await Self.withClient { node, inner, y, me, clock in
            let (_, activity) = try await y.approvedActivity(clock: clock)
            let batch = try await y.activity.exec(activity, commands: [.deploy(DeployCommand()), .start(StartCommand())])
            #expect(!batch.isEmpty)
            // `1.500` is read as the daemon reads it: `1.5`.
            let allocation = try await y.payment.createAllocation(NewAllocation(totalAmount: Decimal(sign: .plus, exponent: -3, significand: 1500), address: me.identity))
            #expect(allocation.totalAmount.wireString == "1.5")
            let created = try #require(node.journal.last { $0.path.hasSuffix("/allocations") && $0.method == "POST" })
            #expect(String(decoding: created.responseBody, as: UTF8.self).contains(#""totalAmount":"1.5""#))
            // A command this client does not model is read from the text: an unknown one is refused.
            let unknown = await #expect(throws: YagnaError.self) { _ = try await y.activity.exec(activity, commands: [.other(name: "foo", body: [:])]) }
            #expect(unknown?.status == 400 && unknown?.message?.contains("unknown variant `foo`") == true, "\(String(describing: unknown))")

            let tampered = YagnaClient(transport: Tampering(inner: inner) { value in
                guard let script = value as? ExeScriptRequest.Prepared else { return value }
                return (try? ExeScriptRequest.prepared(script.commands + [.start(StartCommand())])) ?? script
            })
            #if DEBUG
            let refused = await #expect(throws: YagnaError.self) { _ = try await tampered.activity.exec(activity, commands: [.deploy(DeployCommand())]) }
            #expect(refused?.status == 500)
            #expect(refused?.message?.contains("the ExeScriptRequest handed over in-process differs") == true, "\(String(describing: refused))")
            #else
            // A release build takes the script handed over as it is: both commands run.
            let taken = try await tampered.activity.exec(activity, commands: [.deploy(DeployCommand())])
            #expect(try await y.activity.results(activity, batchId: taken, timeout: .seconds(5)).count == 2)
            #endif
        }
    }
}
