import Foundation
import Synchronization
import GolemExamples
import GolemRequestor
import GolemTesting
import Testing
import YagnaAPI
import YagnaSimulator

@Suite struct DebitNoteRuleTests {
    /// A provider that sends debit notes faster than negotiated: the extra note is left
    /// unaccepted, its agreement ended, and the task runs elsewhere.
    @Test func debitNotesFasterThanNegotiatedEndTheAgreement() async throws {
        let scenario = try Scenario.parse(yaml: """
            name: fast-notes
            providers:
              - name: greedy
                debit-note-interval: 20s
                command-duration: 30s
                pricing: {per-cpu-second: 0.00001}
                faults:
                  - debit-notes-too-fast: {interval: 2s}
              - name: fair
                debit-note-interval: 20s
                command-duration: 30s
                pricing: {per-cpu-second: 0.001}
            """)
        let events = EventLog()
        var configuration = GolemConfiguration(budget: 1)
        configuration.onEvent = { events.add($0) }
        let report = try await SimulatedNetwork.run(scenario: scenario, configuration: configuration) { golem in
            let results = try await golem.executeTasks([1], payload: Examples.image, maxWorkers: 1, timeout: .seconds(600)) { ctx, task in
                let script = ctx.newScript()
                script.run("/bin/sh", "-c", "echo \(task.data)")
                try await ctx.execute(script)
                return ctx.provider
            }
            #expect(results.map(\.value) == ["fair"])
        }
        #expect(report.passed, "\(report.failures)")
        let ignored = events.all.compactMap { e -> String? in
            if case .debitNoteIgnored(let provider, _, let reason) = e { return "\(provider): \(reason)" } else { return nil }
        }
        #expect(ignored.count == 1 && ignored[0].hasPrefix("greedy: too frequent: 2 s after the last, 20 s negotiated"), "\(ignored)")
        let greedy = report.state.agreements.filter { $0.providerName == "greedy" }
        #expect(greedy.count == 1 && greedy[0].state == .terminated && greedy[0].terminator == .requestor)
        // Ended once: the worker's own clean-up does not terminate it a second time (a 410).
        let terminations = report.journal.filter { $0.method == "POST" && $0.target.hasSuffix("/terminate") }
        #expect(terminations.allSatisfy { $0.status == 200 }, "\(terminations.map { "\($0.target) \($0.status)" })")
        let ended = events.all.compactMap { e -> String? in
            if case .agreementTerminated(let provider, _, false, let reason) = e, provider == "greedy" { return reason } else { return nil }
        }
        #expect(ended == ["Debit notes more frequent than negotiated"])
    }

    /// scenarios/provider-misbehaves.yaml: too-fast debit notes from one provider, result polls
    /// left unanswered by another; the app's task timeout moves the silent provider's task on.
    @Test func misbehavingProvidersAreRoutedAround() async throws {
        let scenario = try Scenario.load(file: repositoryRoot.appendingPathComponent("scenarios/provider-misbehaves.yaml").path)
        var silentMet = 0
        for seed: UInt64 in [1, 2, 3] {
            let report = try await SimulatedNetwork.runExample(scenario: scenario, seed: seed)
            #expect(report.passed, "seed \(seed): \(report.failures)")
            let agreements = report.state.agreements
            #expect(agreements.filter { $0.providerName == "chatty" }.allSatisfy { $0.terminator == .requestor })
            // A task the silent provider took was given up after the 10 s task timeout.
            if agreements.contains(where: { $0.providerName == "silent" }) {
                silentMet += 1
                #expect(report.virtualSeconds > 10, "seed \(seed)")
                #expect(!report.output.contains { $0.contains("done on silent") }, "seed \(seed)")
            }
        }
        #expect(silentMet > 0, "no seed met the silent provider")
    }
}

import Synchronization

final class EventLog: Sendable {
    private let m = Mutex<[GolemEvent]>([])
    func add(_ e: GolemEvent) { m.withLock { $0.append(e) } }
    var all: [GolemEvent] { m.withLock { $0 } }
}

@Suite struct EventStreamTests {
    /// The typed event stream sees the whole run in order and ends with the engine.
    @Test func eventsArriveAsAnAsyncSequenceThatEnds() async throws {
        let seen = EventLog()
        let report = try await SimulatedNetwork.run(scenario: try fastScenario()) { golem in
            let events = await golem.eventStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { for await e in events { seen.add(e) } }
                group.addTask {
                    _ = try await golem.executeTasks([1], payload: Examples.image, maxWorkers: 1, timeout: .seconds(60)) { ctx, _ in
                        let script = ctx.newScript()
                        script.run("/bin/sh", "-c", "echo 1")
                        try await ctx.execute(script)
                        return 1
                    }
                }
                try await group.next()
                // The consumer keeps running until withGolem ends and finishes the stream;
                // here it is cut short once the job is done.
                group.cancelAll()
            }
        }
        #expect(report.passed, "\(report.failures)")
        let kinds = seen.all.map { "\($0)".prefix(while: { $0 != "(" }) }
        #expect(kinds.contains("agreementCreated") && kinds.contains("taskAccepted"))
        #expect(kinds.firstIndex(of: "agreementCreated")! < kinds.firstIndex(of: "taskAccepted")!)
    }

    /// The kept events and an unread stream hold at most `eventBufferLimit`, the newest;
    /// `onEvent` and the summary still see everything.
    @Test func theEventBufferIsBounded() async throws {
        let all = EventLog()
        var configuration = GolemConfiguration(budget: 1)
        configuration.eventBufferLimit = 5
        configuration.onEvent = { all.add($0) }
        let unread = Mutex<AsyncStream<GolemEvent>?>(nil)
        let kept = Mutex<[String]>([])
        let report = try await SimulatedNetwork.run(scenario: try fastScenario(), configuration: configuration) { golem in
            let stream = await golem.eventStream()
            unread.withLock { $0 = stream }
            _ = try await golem.executeTasks(Array(0..<4), payload: Examples.image, maxWorkers: 1, timeout: .seconds(60)) { ctx, t in
                let script = ctx.newScript()
                script.run("/bin/sh", "-c", "echo \(t.data)")
                try await ctx.execute(script)
                return t.data
            }
            kept.withLock { $0 = [] }
            let events = await golem.events
            kept.withLock { $0 = events.map { "\($0)" } }
        }
        #expect(report.passed, "\(report.failures)")
        #expect(all.all.count > 20)
        let tail = all.all.map { "\($0)" }
        let keptEvents = kept.withLock { $0 }
        #expect(keptEvents.count == 5)
        // The newest five at the time they were read.
        let i = try #require(tail.firstIndex(of: keptEvents[0]))
        #expect(Array(tail[i..<(i + 5)]) == keptEvents)
        var buffered: [GolemEvent] = []
        if let stream = unread.withLock({ $0 }) { for await e in stream { buffered.append(e) } }
        #expect(buffered.count == 5)
        #expect(buffered.map { "\($0)" } == Array(tail.suffix(5)))
        #expect(report.summary?.acceptances.count == 4)
    }
}
