import Foundation
import GolemExamples
@testable import GolemRequestor
import GolemTesting
import GolemTime
import Synchronization
import Testing
import YagnaAPI
import YagnaSimulator

/// The task model's options, each judged on the node's journal or the virtual clock.
@Suite struct TaskOptionTests {
    func scenario(_ providers: String) throws -> Scenario {
        try Scenario.parse(yaml: "name: options\nproviders:\n" + providers, file: "options.yaml")
    }

    func echo(_ ctx: WorkContext, _ text: String) async throws -> String {
        let script = ctx.newScript()
        let out = script.run("/bin/sh", "-c", "echo \(text)")
        try await ctx.execute(script)
        return try await out.value.stdout ?? ""
    }

    /// A try that outlasts `taskTimeout` is given up; the task runs on the other provider.
    @Test func aTaskTimeoutMovesTheTaskElsewhere() async throws {
        let s = try scenario("""
              - name: slow
                offer-delay: 10ms
                command-duration: 120s
              - name: quick
                offer-delay: 2s
            """)
        let thrown = Mutex<String?>(nil)
        let report = try await SimulatedNetwork.run(scenario: s) { golem in
            let results = try await golem.executeTasks([1], payload: Examples.image, maxWorkers: 1, taskTimeout: .seconds(10), timeout: .seconds(300)) { ctx, _ in
                do { return try await (ctx.provider, echo(ctx, "one")) } catch { thrown.withLock { $0 = "\(error)" }; throw error }
            }
            #expect(results.map(\.value.0) == ["quick"] && results.first?.attempts == 2)
        }
        #expect(report.passed, "\(report.failures)")
        // The slow provider's try ended at the timeout, long before its command would have.
        let slow = report.state.agreements.first { $0.providerName == "slow" }
        #expect(slow?.state == .terminated && slow?.terminator == .requestor)
        #expect(report.virtualSeconds < 60)
    }

    /// Every try fails: the job ends with `.taskFailed` after exactly `maxAttempts` tries.
    @Test func maxAttemptsExhaustedFailsTheJob() async throws {
        let s = try scenario("  - name: p\n    count: 3\n")
        let tries = Mutex(0)
        let report = try await SimulatedNetwork.run(scenario: s) { golem in
            await #expect {
                _ = try await golem.executeTasks([7], payload: Examples.image, maxWorkers: 1, maxAttempts: 2, timeout: .seconds(300)) { ctx, task in
                    tries.withLock { $0 += 1 }
                    _ = try await echo(ctx, "x")
                    throw TaskRejected("not good enough")
                }
            } throws: { error in
                guard case .taskFailed(let id, let attempts, let reason)? = error as? TaskJobError else { return false }
                return id == 0 && attempts == 2 && reason.contains("not good enough")
            }
        }
        #expect(tries.withLock { $0 } == 2)
        #expect(report.passed, "\(report.failures)")
    }

    /// `TaskRejected(retry: false)` fails the job at the first try.
    @Test func aRejectionWithoutRetryFailsAtOnce() async throws {
        let s = try scenario("  - name: p\n    count: 2\n")
        let tries = Mutex(0)
        _ = try await SimulatedNetwork.run(scenario: s) { golem in
            await #expect {
                _ = try await golem.executeTasks([1], payload: Examples.image, maxWorkers: 2, maxAttempts: 5, timeout: .seconds(300)) { ctx, _ in
                    tries.withLock { $0 += 1 }
                    throw TaskRejected("wrong answer", retry: false)
                }
            } throws: { error in
                guard case .taskFailed(_, let attempts, _)? = error as? TaskJobError else { return false }
                return attempts == 1
            }
        }
        #expect(tries.withLock { $0 } == 1)
    }

    /// Uploads and downloads of every kind, through the simulator's file exchange.
    @Test func everyTransferKindRoundTrips() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("golem-sim-transfers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let local = dir.appendingPathComponent("in.txt")
        try Data("from a local file\n".utf8).write(to: local)
        let out = dir.appendingPathComponent("out.txt")
        let report = try await SimulatedNetwork.run(scenario: try scenario("  - name: p\n")) { golem in
            _ = try await golem.executeTasks([0], payload: Examples.image, maxWorkers: 1, timeout: .seconds(300)) { ctx, _ in
                let script = ctx.newScript()
                script.sendJSON(["frames": [1, 2], "name": "ünïcode"], to: "/golem/work/params.json")
                script.sendFile(local.path, to: "/golem/work/in.txt")
                script.run("/bin/sh", "-c", "cp /golem/work/in.txt /golem/output/copy.txt")
                let json = script.downloadJSON(from: "/golem/work/params.json")
                let file = script.downloadFile(from: "/golem/output/copy.txt", to: out.path)
                try await ctx.execute(script)
                #expect(try await json.value == ["frames": [1, 2], "name": "ünïcode"])
                _ = try await file.value
                return 0
            }
        }
        #expect(report.passed, "\(report.failures)")
        #expect(try String(contentsOf: out, encoding: .utf8) == "from a local file\n")
    }

    /// A script is built in one task and executed from another (Sendable without `@unchecked`).
    @Test func aScriptCrossesTasks() async throws {
        let report = try await SimulatedNetwork.run(scenario: try scenario("  - name: p\n")) { golem in
            _ = try await golem.executeTasks([0], payload: Examples.image, maxWorkers: 1, timeout: .seconds(300)) { ctx, _ in
                let (script, future) = await withTaskGroup(of: (Script, CommandFuture<CommandOutcome>).self) { group in
                    group.addTask {
                        let s = ctx.newScript()
                        s.timeout = .seconds(30)
                        return (s, s.run("/bin/sh", "-c", "echo built elsewhere", capture: .atEnd))
                    }
                    return await group.next()!
                }
                #expect(script.count == 1 && script.timeout == .seconds(30))
                try await ctx.execute(script)
                #expect(try await future.value.stdout == "built elsewhere\n")
                return 0
            }
        }
        #expect(report.passed, "\(report.failures)")
    }
}

/// Failures on the way to work: a batch timeout, no common payment platform, an approval wait
/// that breaks.
@Suite struct NegotiationFailureTests {
    @Test func aBatchTimeoutEndsTheScriptAndTheTryMovesOn() async throws {
        let s = try Scenario.parse(yaml: "name: t\nproviders:\n  - name: slow\n    offer-delay: 10ms\n    commands:\n      - {match: crunch, duration: 300s}\n  - name: quick\n    offer-delay: 1s\n")
        let thrown = Mutex<[String]>([])
        let report = try await SimulatedNetwork.run(scenario: s) { golem in
            let results = try await golem.executeTasks([1], payload: Examples.image, maxWorkers: 1, timeout: .seconds(600)) { ctx, _ in
                let script = ctx.newScript(timeout: .seconds(20))
                script.run("/bin/sh", "-c", ctx.provider == "slow" ? "crunch" : "echo ok")
                do { try await ctx.execute(script) } catch {
                    thrown.withLock { $0.append("\(type(of: error))") }
                    throw error
                }
                return ctx.provider
            }
            #expect(results.map(\.value) == ["quick"])
        }
        #expect(report.passed, "\(report.failures)")
        #expect(thrown.withLock { $0 } == ["BatchTimeout"])
        #expect(report.virtualSeconds < 60, "the 300 s command was waited for")
    }

    /// A payment platform the node holds no funds on: the allocation is refused, `withGolem`
    /// fails before any demand with the daemon's own words, and nothing is left open.
    @Test func anAllocationWithoutFundsFailsWithTheDaemonsMessage() async throws {
        var configuration = GolemConfiguration(budget: 1)
        configuration.paymentNetwork = "polygon"
        let ran = Mutex(false)
        let report = try await SimulatedNetwork.run(scenario: try Scenario.parse(yaml: "name: t\nproviders:\n  - name: p\n"), configuration: configuration) { _ in
            ran.withLock { $0 = true }
        }
        #expect(!ran.withLock { $0 })
        #expect(report.error?.contains("payment.createAllocation") == true && report.error?.contains("Insufficient funds") == true, "\(report.error ?? "")")
        #expect(!report.journal.contains { $0.target.hasPrefix("/market-api/v1/demands") })
        #expect(report.state.agreements.isEmpty)
    }

    /// The approval wait's connection drops: the agreement is cancelled on the daemon (not left
    /// pending) and another provider does the work.
    @Test func anApprovalThatBreaksIsCancelled() async throws {
        let s = try Scenario.parse(yaml: """
            name: t
            providers:
              - {name: first, offer-delay: 10ms}
              - {name: second, offer-delay: 2s}
            daemon:
              faults:
                - {kind: drop-connection, match: "/wait", times: 1}
            """)
        let events = EventLog()
        var configuration = GolemConfiguration(budget: 1)
        configuration.onEvent = { events.add($0) }
        let report = try await SimulatedNetwork.run(scenario: s, configuration: configuration) { golem in
            let results = try await golem.executeTasks([1], payload: Examples.image, maxWorkers: 1, timeout: .seconds(600)) { ctx, _ in
                let script = ctx.newScript()
                script.run("/bin/sh", "-c", "echo ok")
                try await ctx.execute(script)
                return ctx.provider
            }
            #expect(results.map(\.value) == ["second"])
        }
        #expect(report.passed, "\(report.failures)")
        let cancelled = events.all.compactMap { e -> String? in if case .agreementCancelled(let p, _, _) = e { p } else { nil } }
        #expect(cancelled == ["first"])
        #expect(report.journal.contains { $0.method == "POST" && $0.target.hasSuffix("/cancel") })
        #expect(report.state.agreements.first { $0.providerName == "first" }?.state != .approved)
    }
}

/// The market strategies, on offers built by hand: no node, no clock.
@Suite struct MarketStrategyTests {
    func offer(_ id: String, name: String? = nil, fixed: Double = 0, perSecond: Double = 0.0001, perCpu: Double = 0.0002, extra: [(String, Double)] = []) -> Proposal {
        var properties: Properties = [
            "golem.com.scheme": "payu", "golem.com.pricing.model": "linear",
            "golem.com.usage.vector": .array((["golem.usage.duration_sec", "golem.usage.cpu_sec"] + extra.map(\.0)).map { .string($0) }),
            "golem.com.pricing.model.linear.coeffs": .array(([perSecond, perCpu] + extra.map(\.1) + [fixed]).map { .double($0) }),
        ]
        if let name { properties["golem.node.id.name"] = .string(name) }
        return Proposal(properties: properties, constraints: "()", proposalId: "prop-\(id)", issuerId: id, state: .initial, timestamp: WireTimestamp(Date(timeIntervalSince1970: 0)))
    }

    func score(_ s: some MarketStrategy, _ o: Proposal, _ context: MarketContext = MarketContext()) -> Double? {
        try? s.score(o, context: context).get()
    }

    @Test func leastExpensiveLinearPrefersCheapAndRejectsOverTheCaps() {
        let s = LeastExpensiveLinear()
        let cheap = score(s, offer("a", perSecond: 0.0001)), dear = score(s, offer("b", perSecond: 0.001))
        #expect(cheap != nil && dear != nil && cheap! > dear!)
        #expect(score(s, offer("c", fixed: 1.5)) == nil)
        #expect(score(s, offer("d", perSecond: 0.2)) == nil)
        #expect(score(s, offer("e", perCpu: 0.3)) == nil)
        #expect(score(s, offer("f", perSecond: -1)) == nil)
        // Custom counters: capped by name, and priced by the expected usage.
        var custom = LeastExpensiveLinear()
        custom.maxPrices = ["golem.usage.custom.counter": 0.01]
        custom.expectedUsage = ["golem.usage.custom.counter": 100]
        #expect(score(custom, offer("g", extra: [("golem.usage.custom.counter", 0.02)])) == nil)
        let low = score(custom, offer("h", extra: [("golem.usage.custom.counter", 0.001)]))
        let lower = score(custom, offer("i", extra: [("golem.usage.custom.counter", 0.0001)]))
        #expect(low != nil && lower != nil && lower! > low!)
        // No linear pricing: rejected as yapapi rejects it.
        var flat = offer("j")
        flat.properties["golem.com.pricing.model.linear.coeffs"] = nil
        #expect(throws: OfferRejection.self) { try s.score(flat, context: MarketContext()).get() }
    }

    @Test func avoidFailedProvidersExcludesAndRewards() {
        let s = AvoidFailedProviders(LeastExpensiveLinear(), confirmedBonus: 2)
        var context = MarketContext()
        let base = score(LeastExpensiveLinear(), offer("a"))!
        #expect(score(s, offer("a"), context) == base)
        context.confirmedProviders = ["a"]
        #expect(score(s, offer("a"), context) == base * 2)
        context.failedProviders = ["a"]
        #expect(score(s, offer("a"), context) == nil)
        #expect(score(s, offer("b"), context) == base)
    }

    @Test func providerFilterAllowsAndDeniesByIdOrName() {
        let denied = ProviderFilter(LeastExpensiveLinear(), denied: ["0xbad", "evil"])
        #expect(score(denied, offer("0xbad")) == nil)
        #expect(score(denied, offer("0x1", name: "evil")) == nil)
        #expect(score(denied, offer("0x2", name: "kind")) != nil)
        let allowed = ProviderFilter(LeastExpensiveLinear(), allowed: ["0xgood", "friend"])
        #expect(score(allowed, offer("0xgood")) != nil)
        #expect(score(allowed, offer("0x3", name: "friend")) != nil)
        #expect(score(allowed, offer("0x4", name: "stranger")) == nil)
    }
}
