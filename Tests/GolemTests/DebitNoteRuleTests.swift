import Foundation
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
}
