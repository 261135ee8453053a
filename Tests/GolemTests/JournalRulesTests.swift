import Foundation
import GolemExamples
import GolemTesting
import Testing
import YagnaSimulator
import GolemRequestor

@Suite struct JournalAssertionTests {
    static let rules = """
        assert:
          - eventually: {op: payment.acceptInvoice, status: 200}
            within: 60s
          - never: {status: 5xx}
          - always: {status: [200, 201, 204]}
            for: {api: payment, method: POST}
          - name: one agreement at most
            count: {op: market.createAgreement}
            at-most: 1
          - count: {op: activity.exec}
            at-least: 1
          - name: invoice within a millisecond
            eventually: {op: payment.acceptInvoice}
            within: 1ms
          - name: no exec after the start
            never: {op: activity.exec}
            from: 0s
          - name: every poll answered in time
            always: {status: 200}
            for: {op: market.collectDemandEvents}
            until: 0.01s
        """

    func helloWithRules() throws -> Scenario {
        let base = try String(contentsOf: Bundle.module.url(forResource: "Fixtures/hello-task", withExtension: "yaml")!, encoding: .utf8)
        let text = base.replacingOccurrences(of: "\nexpect:", with: "\n\(Self.rules)\nexpect:")
        #expect(text.contains("assert:"))
        return try Scenario.parse(yaml: text, file: "hello-with-rules.yaml")
    }

    @Test func rulesHoldOrNameTheTimeAndTheEntries() async throws {
        let scenario = try helloWithRules()
        #expect(scenario.assertions.count == 8)
        let report = try await SimulatedNetwork.runExample(scenario: scenario)
        let failed = report.failures.filter { $0.hasPrefix("assert ") }
        // The first five hold on a normal hello run; the last three are made to fail.
        #expect(failed.count == 2, "\(failed)")
        let late = try #require(failed.first { $0.hasPrefix("assert 'invoice within a millisecond'") })
        #expect(late.contains("nothing matched by 0.001s"))
        #expect(late.contains("the first match came late: #"))
        #expect(late.contains("/payment-api/v1/invoices/") && late.contains("/accept → 200"))
        let exec = try #require(failed.first { $0.hasPrefix("assert 'no exec after the start'") })
        #expect(exec.contains("exchange(s) matched, the first at "))
        #expect(exec.contains("POST /activity-api/v1/activity/") && exec.contains("/exec → 200"))
        // The "always" rule's window holds no poll, so it holds.
        #expect(!failed.contains { $0.contains("every poll answered in time") })
        // The same rules in Swift, on the report.
        let extra = report.failures(of: [
            JournalAssertion(.count(ExchangeMatcher(op: "market.createAgreement"), atLeast: 2, atMost: nil)),
            JournalAssertion(.never(ExchangeMatcher(status: ["5xx"]))),
        ])
        #expect(extra.count == 1)
        #expect(extra.first?.hasPrefix("assert 'count {op=market.createAgreement} at least 2': 1 matched, fewer than 2: #") == true, "\(extra)")
    }

    @Test func badRulesAreClearErrors() {
        let cases: [(String, String)] = [
            ("  - eventually: {op: payment.payEverything}\n", "unknown operation 'payment.payEverything'"),
            ("  - never: {status: 7xx}\n", "'7xx' is not a status"),
            ("  - never: {op: market.*}\n    always: {status: 200}\n", "exactly one of"),
            ("  - count: {api: market}\n", "say how many"),
            ("  - never: {api: market}\n    within: 2s\n", "does not apply to 'never'"),
            ("  - eventually: {colour: red}\n", "unknown key"),
        ]
        for (rule, message) in cases {
            let yaml = "name: x\nproviders:\n  - name: a\nassert:\n" + rule
            do {
                _ = try Scenario.parse(yaml: yaml, file: "rules.yaml")
                Issue.record("accepted: \(rule)")
            } catch {
                #expect(error.description.contains(message), "\(error.description)")
                #expect(error.line != nil, "\(error.description)")
            }
        }
    }
}

@Suite struct ShrinkTests {
    /// The shipped demo fails only when both providers fail every command; its three other
    /// faults are noise. The shrinker must find exactly the two.
    @Test func shrinkingFindsTheKnownMinimalSchedule() async throws {
        let scenario = try shipped("shrink-demo")
        #expect(scenario.faultSchedule.count == 5)
        let failing = try await SimulatedNetwork.runExample(scenario: scenario, seed: 3)
        #expect(!failing.passed)
        let shrunk = try #require(try await SimulatedNetwork.shrink(scenario: scenario, seed: 3, failing: failing))
        #expect(shrunk.rule == "app")
        #expect(shrunk.minimal == [.provider(0, fault: 1), .provider(1, fault: 1)])
        #expect(shrunk.schedule == [
            "provider a: fail-command: {match: \"\", exit-code: 1, stderr: \"segmentation fault\"}",
            "provider b: fail-command: {match: \"\", exit-code: 1, stderr: \"out of memory\"}",
        ])
        #expect(shrunk.scenario.faultSchedule.count == 2)
        #expect(shrunk.report.failures.contains { Shrinker.rule(of: $0) == "app" })
        // 1-minimal: without either fault left, the run passes.
        for dropped in shrunk.minimal {
            let fewer = scenario.keeping(only: shrunk.minimal.filter { $0 != dropped })
            let report = try await SimulatedNetwork.runExample(scenario: fewer, seed: 3)
            #expect(report.passed, "without \(scenario.describe(dropped)): \(report.failures)")
        }
    }

    @Test func aPassingRunHasNothingToShrink() async throws {
        let scenario = try shipped("tasks-one-bad-provider")
        let report = try await SimulatedNetwork.runExample(scenario: scenario)
        #expect(report.passed, "\(report.failures)")
        #expect(try await SimulatedNetwork.shrink(scenario: scenario, seed: scenario.seed, failing: report) == nil)
    }

    @Test func ruleNames() {
        #expect(Shrinker.rule(of: "app: the app failed: x") == "app")
        #expect(Shrinker.rule(of: "assert 'a: b': nothing matched") == "assert 'a: b'")
        #expect(Shrinker.rule(of: "every-activity-destroyed: activity x") == "every-activity-destroyed")
    }
}

@Suite struct TaskInvariantTests {
    @Test func aTaskReturnedTwiceOrLostIsNamed() {
        var summary = RunSummary()
        for e: GolemEvent in [
            .jobStarted(job: 1, tasks: 4),
            .taskStarted(job: 1, taskId: 1, provider: "a"), .taskAccepted(job: 1, taskId: 1, provider: "a"),
            .taskStarted(job: 1, taskId: 2, provider: "a"), .taskAccepted(job: 1, taskId: 2, provider: "a"), .taskAccepted(job: 1, taskId: 2, provider: "b"),
            .taskStarted(job: 1, taskId: 3, provider: "b"), .taskRejected(job: 1, taskId: 3, provider: "b", reason: "x", retry: true),
            .taskStarted(job: 1, taskId: 4, provider: "b"), .taskRejected(job: 1, taskId: 4, provider: "b", reason: "bad input", retry: false),
        ] { summary.record(e) }
        let failures = Invariants.check(tasks: summary, end: .seconds(12))
        #expect(failures == [
            "no-task-returned-twice: task 2 was accepted 2 times (by the run's end, 12.000s)",
            "no-task-lost: task 3 started but was neither accepted nor given up by the run's end (12.000s)",
        ])
    }

    @Test func eventsOfJobsAtOnceStayApartAndAFailedJobGivesUpItsTasks() {
        var summary = RunSummary()
        for e: GolemEvent in [
            .jobStarted(job: 1, tasks: 1), .jobStarted(job: 2, tasks: 2),
            .taskStarted(job: 1, taskId: 0, provider: "a"), .taskStarted(job: 2, taskId: 0, provider: "b"),
            .taskAccepted(job: 2, taskId: 0, provider: "b"), .taskAccepted(job: 1, taskId: 0, provider: "a"),
            .taskStarted(job: 2, taskId: 1, provider: "b"), .taskRejected(job: 2, taskId: 1, provider: "b", reason: "x", retry: true),
            .jobFinished(job: 1, failure: nil), .jobFinished(job: 2, failure: "the job timed out"),
        ] { summary.record(e) }
        #expect(Invariants.check(tasks: summary, end: .seconds(1)).isEmpty)
        #expect(summary.acceptances == [.init(job: 1, task: 0): 1, .init(job: 2, task: 0): 1])
        #expect(summary.tasksGivenUp == [.init(job: 2, task: 1)])
    }

    @Test func twoJobsAtOnceOnOneEngine() async throws {
        let scenario = try Scenario.parse(yaml: "name: two-jobs\nproviders:\n  - name: p\n    count: 4\n")
        let events = EventLog()
        var configuration = GolemConfiguration(budget: 1)
        configuration.onEvent = { events.add($0) }
        let report = try await SimulatedNetwork.run(scenario: scenario, configuration: configuration) { golem in
            async let a = golem.executeTasks(Array(0..<3), payload: Examples.image, maxWorkers: 2, timeout: .seconds(300)) { ctx, t in
                let s = ctx.newScript()
                s.run("/bin/sh", "-c", "echo a\(t.data)")
                try await ctx.execute(s)
                return "a\(t.data)"
            }
            async let b = golem.executeTasks(Array(0..<3), payload: Examples.image, maxWorkers: 2, timeout: .seconds(300)) { ctx, t in
                let s = ctx.newScript()
                s.run("/bin/sh", "-c", "echo b\(t.data)")
                try await ctx.execute(s)
                return "b\(t.data)"
            }
            let (ra, rb) = try await (a, b)
            #expect(Set(ra.map(\.value)) == ["a0", "a1", "a2"] && Set(rb.map(\.value)) == ["b0", "b1", "b2"])
        }
        #expect(report.passed, "\(report.failures)")
        let summary = try #require(report.summary)
        #expect(summary.acceptances.count == 6 && summary.acceptances.values.allSatisfy { $0 == 1 })
        #expect(Set(summary.acceptances.keys.map(\.job)) == [1, 2])
        #expect(summary.jobsFinished.count == 2 && summary.jobsFinished.values.allSatisfy { $0 == nil })
    }

    @Test func aHealthyRunKeepsEveryTask() async throws {
        let report = try await SimulatedNetwork.runExample(scenario: try shipped("tasks-one-bad-provider"))
        let summary = try #require(report.summary)
        #expect(summary.tasksStarted == Set((0..<9).map { RunSummary.TaskKey(job: 1, task: $0) }))
        #expect(summary.acceptances.values.allSatisfy { $0 == 1 } && summary.acceptances.count == 9)
        #expect(Invariants.check(tasks: summary, end: .zero).isEmpty)
    }
}
