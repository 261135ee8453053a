import Foundation
import GolemExamples
import GolemRequestor
import GolemTesting
import GolemTime
import Testing
import YagnaAPI
import YagnaSimulator

/// Cancellation reaches the daemon: cleanup after a cancelled or timed-out job is shielded
/// from the cancellation that caused it, over HTTP as well as in-process, and the node's
/// journal shows every activity destroyed, every agreement ended, invoices accepted and the
/// allocation released.
@Suite struct CancellationTests {
    static let slow = """
        name: slow
        providers:
          - name: p
            offer-delay: 10ms
            response-delay: 10ms
            deploy-duration: 50ms
            invoice-delay: 10ms
            debit-note-interval: none
            commands:
              - {match: crunch, duration: 60s}
        """

    /// What the journal shows about cleanup, by kind of request.
    struct Cleanup {
        var created: [String] = []
        var destroyed: [(id: String, at: Double)] = []
        var agreements: Set<String> = []
        var terminated: Set<String> = []
        var invoicesAccepted = 0
        var released = false
        var execs: [Double] = []

        init(_ journal: [JournalEntry]) {
            for e in journal {
                let parts = e.path.split(separator: "/").map(String.init)
                let body = String(decoding: e.responseBody, as: UTF8.self)
                let at = Double(e.startOffset) / 1e9
                switch (e.method, parts.count) {
                case ("POST", 3) where e.path == "/activity-api/v1/activity" && e.status == 201:
                    created.append(body.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
                case ("DELETE", 4) where parts[1] == "v1" && parts[2] == "activity": destroyed.append((parts[3], at))
                case ("POST", 5) where parts[4] == "confirm": agreements.insert(parts[3])
                case ("POST", 5) where parts[4] == "terminate" && (200..<300).contains(e.status): terminated.insert(parts[3])
                case ("POST", 5) where parts[2] == "invoices" && parts[4] == "accept" && e.status == 200: invoicesAccepted += 1
                case ("DELETE", 4) where parts[2] == "allocations" && e.status == 200: released = true
                case ("POST", 5) where parts[4] == "exec" && String(decoding: e.requestBody, as: UTF8.self).contains("crunch"): execs.append(at)
                default: break
                }
            }
        }
    }

    /// A job's timeout stops its running workers (before, they ran on after the job failed):
    /// the activity is destroyed at the timeout, in virtual time, not when its command ends.
    @Test func aJobTimeoutCancelsItsRunningWorkers() async throws {
        let seen = EventLog()
        let report = try await SimulatedNetwork.run(scenario: try Scenario.parse(yaml: Self.slow)) { golem in
            let error = await #expect(throws: TaskJobError.self) {
                try await golem.executeTasks(["x"], payload: Examples.image, timeout: .seconds(10)) { ctx, _ in
                    let script = ctx.newScript()
                    script.run("/bin/sh", "-c", "crunch")
                    try await ctx.execute(script)
                    return 1
                }
            }
            for e in await golem.events { seen.add(e) }
            guard case .timedOut(let after, _, 1)? = error else { Issue.record("expected a timeout, got \(String(describing: error))"); return }
            #expect(after == .seconds(10))
        }
        #expect(report.passed, "\(report.failures)")
        let cleanup = Cleanup(report.journal)
        #expect(cleanup.destroyed.count == 1 && cleanup.destroyed[0].at < 12, "destroyed at \(cleanup.destroyed.map(\.at)), \(cleanup.agreements) \(cleanup.terminated)")
        #expect(cleanup.terminated == cleanup.agreements && cleanup.released)
        #expect(seen.all.contains { if case .taskCancelled = $0 { true } else { false } })
    }

    /// The same over HTTP, in real time: `withGolem`'s body is cancelled while a command runs;
    /// the cleanup's requests still reach the node (the journal shows them), within its bounds.
    @Test func cancellingOverHTTPStillCleansUpOnTheNode() async throws {
        try await bounded(60) {
            try await FrontEnd.withHTTPNode(try Scenario.parse(yaml: Self.slow)) { node, transport, clock in
                let started = ChangeSignal()
                let configuration = { var c = GolemConfiguration(budget: 1); c.invoiceWait = .seconds(5); return c }()
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        _ = try? await Golem.withGolem(transport: transport, configuration: configuration, clock: clock, storage: nil) { golem in
                            _ = try await golem.executeTasks(["x"], payload: Examples.image, timeout: .seconds(300)) { ctx, _ in
                                let script = ctx.newScript()
                                script.run("/bin/sh", "-c", "crunch")
                                started.fire()
                                try await ctx.execute(script)
                                return 1
                            }
                        }
                        started.fire()  // a job that ends before its command starts fails the checks below, not the bound
                    }
                    await started.wait()
                    group.cancelAll()
                    await group.waitForAll()
                }
                let cleanup = Cleanup(node.journal)
                #expect(cleanup.destroyed.count == 1, "\(cleanup.destroyed)")
                #expect(!cleanup.agreements.isEmpty && cleanup.terminated == cleanup.agreements)
                #expect(cleanup.invoicesAccepted == cleanup.agreements.count)
                #expect(cleanup.released)
                // Cut short: the 60 s command never ran to its end.
                #expect(cleanup.destroyed.allSatisfy { $0.at < 30 })
            }
        }
    }
}
