import Foundation
import GolemExamples
import GolemRequestor
import GolemTesting
import GolemTime
import Testing
import YagnaAPI
import YagnaSimulator

@Suite struct TaskFaultTests {
    @Test func providerTerminatingMidTaskSendsTheTaskElsewhere() async throws {
        let scenario = try Scenario.parse(yaml: """
            name: dies-mid-task
            providers:
              - name: doomed
                offer-delay: 10ms
                command-duration: 5s
                faults:
                  - terminate-agreement: {at: 2s, reason: "power cut"}
              - name: steady
                offer-delay: 300ms
            """)
        let report = try await SimulatedNetwork.run(scenario: scenario) { golem in
            let results = try await golem.executeTasks(["t"], payload: Examples.image, maxWorkers: 1) { ctx, _ in
                let script = ctx.newScript()
                let out = script.run("/bin/sh", "-c", "echo ran")
                try await ctx.execute(script)
                return (try await out.value.stdout ?? "", ctx.provider)
            }
            #expect(results.count == 1)
            #expect(results.first?.value.1 == "steady")
            #expect(results.first?.attempts == 2)
        }
        #expect(report.failures.isEmpty, "\(report.failures)")
        let doomed = report.state.agreements.first { $0.providerName == "doomed" }
        #expect(doomed?.terminator == .provider)
    }

    /// One provider rejects the counter-proposal, another the agreement: the job falls back to
    /// the third and completes.
    @Test func rejectingProvidersAreSkipped() async throws {
        let scenario = try Scenario.parse(yaml: """
            name: rejections
            providers:
              - name: picky
                pricing: {per-cpu-second: 0.00001}
                faults:
                  - reject-proposal: {reason: "not interested"}
              - name: busy
                pricing: {per-cpu-second: 0.00002}
                faults:
                  - reject-agreement: {reason: "busy right now"}
              - name: willing
                offer-delay: 2s
                pricing: {per-cpu-second: 0.001}
            """)
        let events = EventLog()
        var configuration = GolemConfiguration(budget: 1)
        configuration.onEvent = { events.add($0) }
        let report = try await SimulatedNetwork.run(scenario: scenario, configuration: configuration) { golem in
            let results = try await golem.executeTasks([1, 2], payload: Examples.image, maxWorkers: 1, timeout: .seconds(300)) { ctx, task in
                let script = ctx.newScript()
                script.run("/bin/sh", "-c", "echo \(task.data)")
                try await ctx.execute(script)
                return ctx.provider
            }
            #expect(Set(results.map(\.value)) == ["willing"])
        }
        #expect(report.failures.isEmpty, "\(report.failures)")
        let agreements = Dictionary(grouping: report.state.agreements, by: \.providerName)
        #expect(agreements["picky"] == nil)
        #expect(agreements["busy"]?.allSatisfy { $0.state == .rejected } == true)
        #expect(agreements["willing"]?.count == 1)
        #expect(events.all.contains { if case .agreementRejected(let p, _, _) = $0 { return p == "busy" } else { return false } })
    }

    @Test func overBudgetInvoiceIsRejected() async throws {
        var configuration = GolemConfiguration(budget: Decimal(string: "0.000001")!)
        configuration.invoiceWait = .seconds(5)
        let report = try await SimulatedNetwork.run(scenario: try shipped("hello-task"), configuration: configuration) { golem in
            _ = try await Examples.helloTask(golem, print: { _ in })
        }
        // Only the scenario's own expectation (every invoice accepted) fails; no invariant does.
        #expect(report.failures.count == 1 && report.failures[0].hasPrefix("all-invoices-accepted"), "\(report.failures)")
        #expect(!report.state.invoices.isEmpty)
        #expect(report.state.invoices.allSatisfy { $0.status == .rejected })
        #expect(report.state.allocations.allSatisfy { $0.allocation.spentAmount == 0 && $0.released })
    }

    @Test func cancellingAJobCleansEverythingUp() async throws {
        let scenario = try Scenario.parse(yaml: """
            name: slow
            providers:
              - name: slow
                count: 2
                command-duration: 20s
            """)
        let report = try await SimulatedNetwork.run(scenario: scenario) { golem in
            let clock = golem.clock
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    _ = try? await golem.executeTasks(Array(0..<10), payload: Examples.image, maxWorkers: 2) { ctx, task in
                        let script = ctx.newScript()
                        script.run("/bin/sh", "-c", "echo \\(task.data)")
                        try await ctx.execute(script)
                        return task.data
                    }
                }
                group.addTask { try? await clock.sleep(for: .seconds(30)) }
                _ = await group.next()
                group.cancelAll()
            }
        }
        // Checked on the node: agreements ended, activities destroyed, allocation released.
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(!report.state.agreements.isEmpty)
        #expect(report.state.agreements.allSatisfy { $0.state == .terminated })
        #expect(report.state.activities.allSatisfy { $0.destroyed })
        #expect(report.state.allocations.allSatisfy { $0.released })
        #expect(report.virtualSeconds < 120)
    }
}

@Suite struct TaskStreamTests {
    @Test func resultsArriveAsAnAsyncSequence() async throws {
        let report = try await SimulatedNetwork.run(scenario: try shipped("tasks-one-bad-provider")) { golem in
            let ids = try await golem.executeTasks(Array(0..<9), payload: Examples.image, maxAttempts: 5, worker: { ctx, task in
                let script = ctx.newScript()
                script.run("/bin/sh", "-c", "echo \(task.data)")
                try await ctx.execute(script)
                return task.data
            }) { results in
                var seen: [Int] = []
                for try await result in results { seen.append(result.value) }
                return seen
            }
            // Every task exactly once, none lost, none twice.
            #expect(ids.sorted() == Array(0..<9))
        }
        #expect(report.failures.filter { !$0.hasPrefix("all-") }.isEmpty, "\(report.failures)")
    }
}

@Suite struct MarketFailureTests {
    @Test func aDemandThatCannotBeSubscribedFailsTheJobAtOnce() async throws {
        let scenario = try Scenario.parse(yaml: """
            name: no-market
            providers:
              - name: p
            daemon:
              faults:
                - {kind: gateway-timeout, match: "POST /market-api/v1/demands"}
            """)
        let report = try await SimulatedNetwork.run(scenario: scenario) { golem in
            _ = try await golem.executeTasks([1], payload: Examples.image) { _, task in task.data }
        }
        #expect(report.error?.contains("the market failed") == true, "\(report.error ?? "no error")")
        // Not after the 60 s offer timeout: at once, then the bounded shutdown.
        #expect(report.virtualSeconds < 10)
        #expect(report.state.allocations.allSatisfy { $0.released })
    }
}
