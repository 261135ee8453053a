import Foundation
import GolemExamples
@testable import GolemRequestor
import GolemTime
import GolemTesting
import Synchronization
import Testing
import YagnaAPI
import YagnaSimulator

@Suite struct ServiceStateMachineTests {
    typealias E = ServiceStateMachine.Event

    /// Drives a machine through events from pending.
    func machine(_ events: [E]) throws -> ServiceStateMachine {
        var m = ServiceStateMachine()
        for e in events { try m.handle(e) }
        return m
    }

    @Test func everyAllowedTransition() throws {
        let cases: [([E], ServiceState)] = [
            ([.activityObtained], .starting),
            ([.stopRequested], .terminated),
            ([.providerTerminated], .terminated),
            ([.activityObtained, .startSucceeded], .running),
            ([.activityObtained, .startFailed], .terminated),
            ([.activityObtained, .stopRequested], .terminated),
            ([.activityObtained, .providerTerminated], .terminated),
            ([.activityObtained, .startSucceeded, .runFinished], .stopping),
            ([.activityObtained, .startSucceeded, .stopRequested], .stopping),
            ([.activityObtained, .startSucceeded, .stopRequested, .shutdownFinished], .terminated),
            ([.activityObtained, .startSucceeded, .stopRequested, .providerTerminated], .terminated),
            ([.activityObtained, .startSucceeded, .providerTerminated], .terminated),
            ([.activityObtained, .startSucceeded, .activityUnresponsive], .unresponsive),
            ([.activityObtained, .startSucceeded, .activityUnresponsive, .activityResponsive], .running),
            ([.activityObtained, .startSucceeded, .activityUnresponsive, .graceExpired], .terminated),
            ([.activityObtained, .startSucceeded, .activityUnresponsive, .providerTerminated], .terminated),
            ([.activityObtained, .startSucceeded, .activityUnresponsive, .stopRequested], .terminated),
        ]
        for (events, expected) in cases { #expect(try machine(events).state == expected, "\(events)") }
    }

    @Test func everyOtherTransitionIsRefused() throws {
        let reach: [ServiceState: [E]] = [
            .pending: [], .starting: [.activityObtained], .running: [.activityObtained, .startSucceeded],
            .stopping: [.activityObtained, .startSucceeded, .runFinished],
            .unresponsive: [.activityObtained, .startSucceeded, .activityUnresponsive],
            .terminated: [.activityObtained, .startFailed],
        ]
        var refused = 0
        for (state, path) in reach {
            for event in E.allCases {
                var m = try machine(path)
                #expect(m.state == state)
                if ServiceStateMachine.next(state, event) == nil {
                    #expect(throws: ServiceStateMachine.Refused.self) { try m.handle(event) }
                    #expect(m.state == state, "a refused event leaves the state alone")
                    refused += 1
                }
            }
        }
        // Terminated refuses everything; the unresponsive state is reachable and leavable.
        #expect(refused > 40)
        #expect(ServiceState.allCases.allSatisfy { reach[$0] != nil })
    }
}

/// Records what a test service saw.
final class Probe: Sendable {
    private let m = Mutex<[String]>([])
    func add(_ s: String) { m.withLock { $0.append(s) } }
    var lines: [String] { m.withLock { $0 } }
}

struct ProbeService: Service {
    var index: Int
    var probe: Probe
    func start(_ ctx: WorkContext) async throws {
        probe.add("start \(index) on \(ctx.provider)")
        let s = ctx.newScript()
        s.deploy()
        s.start()
        s.run("/bin/sh", "-c", "start-service")
        try await ctx.execute(s)
    }
    func run(_ ctx: WorkContext) async throws {
        while true {
            try await ctx.sleep(for: .seconds(5))
            let s = ctx.newScript()
            s.run("/bin/sh", "-c", "echo ping")
            try await ctx.execute(s)
        }
    }
    func shutdown(_ ctx: WorkContext) async throws {
        probe.add("shutdown \(index) on \(ctx.provider)")
        let s = ctx.newScript()
        s.terminate()
        try await ctx.execute(s)
    }
}

@Suite struct ServiceRunTests {
    func network(_ providersYAML: String) throws -> Scenario {
        try Scenario.parse(yaml: "name: test\nproviders:\n" + providersYAML, file: "test.yaml")
    }

    func run(
        _ scenario: Scenario, instances: Int = 1, options: ServiceOptions = .init(), time: Duration = .seconds(30),
        control: (@Sendable (Cluster) async throws -> Void)? = nil
    ) async throws -> (SimulationReport, [Cluster.Instance], Probe) {
        let probe = Probe()
        let final = Mutex<[Cluster.Instance]>([])
        let report = try await SimulatedNetwork.run(scenario: scenario) { golem in
            let clock = golem.clock
            let result = try await golem.runService(payload: Examples.image, numInstances: instances, options: options, make: { ProbeService(index: $0.index, probe: probe) }) { cluster in
                if let control { try await control(cluster) } else { try await clock.sleep(for: time) }
            }
            final.withLock { $0 = result }
        }
        return (report, final.withLock { $0 }, probe)
    }

    @Test func normalLifecycleRunsShutdownAndSettlesPayments() async throws {
        let (report, instances, probe) = try await run(try network("  - name: a\n    debit-note-interval: 10s\n"))
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(instances.map(\.state) == [.terminated])
        #expect(instances.first?.shutdownRan == true)
        #expect(probe.lines == ["start 0 on a", "shutdown 0 on a"])
        #expect(report.state.invoices.allSatisfy { $0.status == .accepted } && !report.state.invoices.isEmpty)
        #expect(report.state.debitNotes.contains { $0.status == .accepted })
    }

    @Test func startFailureIsRespawnedOnAnotherProvider() async throws {
        let scenario = try network("""
              - name: broken
                offer-delay: 10ms
                faults:
                  - fail-command: {match: "start-service"}
              - name: fine
                offer-delay: 300ms

            """)
        let (report, instances, _) = try await run(scenario)
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(instances.first?.providers == ["broken", "fine"])
        #expect(instances.first?.respawns == 1)
        #expect(report.summary?.instancesRunning == 1)
    }

    @Test func startFailureWithoutRespawnTerminates() async throws {
        var options = ServiceOptions()
        options.respawnUnstartedInstances = false
        let scenario = try network("  - name: broken\n    faults:\n      - fail-command: {match: \"start-service\"}\n  - name: fine\n    offer-delay: 300ms\n")
        let (report, instances, probe) = try await run(scenario, options: options)
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(instances.first?.state == .terminated)
        #expect(instances.first?.providers == ["broken"])
        #expect(!probe.lines.contains { $0.hasPrefix("shutdown") })
    }

    @Test func providerTerminationSkipsShutdown() async throws {
        let scenario = try network("  - name: doomed\n    faults:\n      - terminate-agreement: {at: 12s, reason: bye}\n")
        let (report, instances, probe) = try await run(scenario, time: .seconds(60))
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(instances.first?.state == .terminated)
        #expect(instances.first?.shutdownRan == false)
        #expect(!probe.lines.contains { $0.hasPrefix("shutdown") })
        #expect(report.state.agreements.first?.terminator == .provider)
        // Detected within one agreement-event poll, long before the cluster was stopped.
        let ended = report.journal.first { $0.target.contains("/terminate/reason") }
        #expect(ended != nil && ended!.startOffset < 20_000_000_000)
    }

    @Test func silentActivityGoesUnresponsiveThenEnds() async throws {
        var options = ServiceOptions()
        options.unresponsiveGrace = .seconds(20)
        let scenario = try network("  - name: flaky\n    faults:\n      - unresponsive: {after-batches: 2}\n")
        let (report, instances, _) = try await run(scenario, options: options, time: .seconds(120))
        #expect(report.failures.isEmpty, "\(report.failures)")
        let states = report.summary.map { _ in instances.map(\.state) }
        #expect(states == [.terminated])
        #expect(instances.first?.shutdownRan == false)
    }

    @Test func clusterStopRunsShutdownOnEveryInstance() async throws {
        let (report, instances, probe) = try await run(try network("  - name: p\n    count: 2\n"), instances: 2) { cluster in
            await cluster.waitUntilAll(.running)
            await cluster.stop()
        }
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(instances.count == 2 && instances.allSatisfy { $0.state == .terminated && $0.shutdownRan })
        #expect(Set(probe.lines.filter { $0.hasPrefix("shutdown") }).count == 2)
    }

    @Test func expirationStopsInstances() async throws {
        var options = ServiceOptions()
        options.expiration = .seconds(20)
        let (report, instances, _) = try await run(try network("  - name: a\n"), options: options, time: .seconds(3600))
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(instances.first?.shutdownRan == true)
        #expect(report.virtualSeconds < 120)
    }
}

/// The cluster's controls, each judged on the instances' final states and the typed events.
@Suite struct ClusterControlTests {
    func run(
        _ providers: String, instances: Int = 1, options: ServiceOptions = .init(),
        _ control: @escaping @Sendable (Cluster, any GolemClock) async throws -> Void
    ) async throws -> (SimulationReport, [Cluster.Instance], [GolemEvent]) {
        let scenario = try Scenario.parse(yaml: "name: cluster\nproviders:\n" + providers, file: "cluster.yaml")
        let events = EventLog()
        var configuration = GolemConfiguration(budget: 1)
        configuration.onEvent = { events.add($0) }
        let final = Mutex<[Cluster.Instance]>([])
        let probe = Probe()
        let report = try await SimulatedNetwork.run(scenario: scenario, configuration: configuration) { golem in
            let clock = golem.clock
            let result = try await golem.runService(payload: Examples.image, numInstances: instances, options: options, make: { ProbeService(index: $0.index, probe: probe) }) { cluster in
                try await control(cluster, clock)
            }
            final.withLock { $0 = result }
        }
        return (report, final.withLock { $0 }, events.all)
    }

    func transitions(_ events: [GolemEvent], instance: Int) -> [ServiceState] {
        var states: [ServiceState] = []
        for case .serviceStateChanged(let i, let from, let to) in events where i == instance {
            if states.isEmpty { states.append(from) }
            #expect(states.last == from, "a transition from \(from) after \(states)")
            states.append(to)
        }
        return states
    }

    @Test func oneInstanceStoppedTheOtherRunsOn() async throws {
        let (report, instances, events) = try await run("  - name: p\n    count: 2\n", instances: 2) { cluster, clock in
            await cluster.waitUntilAll(.running)
            await cluster.stop(instance: 0)
            try await clock.sleep(for: .seconds(30))
            let states = await cluster.all.map(\.state)
            #expect(states == [.terminated, .running])
        }
        #expect(report.passed, "\(report.failures)")
        #expect(instances.allSatisfy { $0.state == .terminated && $0.shutdownRan })
        #expect(transitions(events, instance: 0) == [.pending, .starting, .running, .stopping, .terminated])
        #expect(transitions(events, instance: 1) == [.pending, .starting, .running, .stopping, .terminated])
    }

    @Test func aLateSpawnJoinsTheCluster() async throws {
        let (report, instances, _) = try await run("  - name: p\n    count: 2\n") { cluster, clock in
            await cluster.waitUntilAll(.running)
            await cluster.spawn(1, parameters: ["late": "yes"])
            try await clock.sleep(for: .seconds(5))
            await cluster.waitUntilAll(.running)
            #expect(await cluster.all.count == 2)
        }
        #expect(report.passed, "\(report.failures)")
        #expect(instances.count == 2 && instances.allSatisfy { $0.state == .terminated && $0.shutdownRan })
        #expect(Set(instances.flatMap(\.providers)) == ["p-1", "p-2"])
    }

    @Test func respawnsStopAtMaxRespawns() async throws {
        var options = ServiceOptions()
        options.maxRespawns = 1
        let (report, instances, events) = try await run("""
              - name: broken
                count: 3
                faults:
                  - fail-command: {match: "start-service"}

            """, options: options) { _, clock in try await clock.sleep(for: .seconds(60)) }
        #expect(report.passed, "\(report.failures)")
        #expect(instances.first?.providers.count == 2 && instances.first?.respawns == 1 && instances.first?.state == .terminated)
        #expect(transitions(events, instance: 0) == [.pending, .starting, .terminated, .pending, .starting, .terminated])
        #expect(report.summary?.respawns == 1)
    }

    /// An agreement the provider refuses: the pending instance ends (terminated, through its
    /// machine) and is started again on another provider; the respawn is counted.
    @Test func aRefusedAgreementRespawnsThePendingInstance() async throws {
        let (report, instances, events) = try await run("""
              - name: refuses
                offer-delay: 10ms
                faults:
                  - reject-agreement: {reason: busy}
              - name: fine
                offer-delay: 500ms

            """) { cluster, clock in
            await cluster.waitUntilAll(.running)
            try await clock.sleep(for: .seconds(5))
        }
        #expect(report.passed, "\(report.failures)")
        #expect(instances.first?.providers == ["fine"] && instances.first?.respawns == 1, "\(instances)")
        #expect(transitions(events, instance: 0) == [.pending, .terminated, .pending, .starting, .running, .stopping, .terminated])
        #expect(report.summary?.respawns == 1)
    }

    @Test func restartConditionRestartsARunningInstanceAfterItsProviderLeft() async throws {
        var options = ServiceOptions()
        options.restartCondition = { $0.respawns == 0 }
        let (report, instances, _) = try await run("""
              - name: doomed
                offer-delay: 10ms
                faults:
                  - terminate-agreement: {at: 12s, reason: bye}
              - name: steady
                offer-delay: 500ms

            """, options: options) { _, clock in try await clock.sleep(for: .seconds(60)) }
        #expect(report.passed, "\(report.failures)")
        #expect(instances.first?.providers == ["doomed", "steady"])
        #expect(instances.first?.respawns == 1 && instances.first?.shutdownRan == true)
        // Without the condition the instance ends with its provider.
        let (_, alone, _) = try await run("  - name: doomed\n    offer-delay: 10ms\n    faults:\n      - terminate-agreement: {at: 12s, reason: bye}\n  - name: steady\n    offer-delay: 500ms\n") { _, clock in
            try await clock.sleep(for: .seconds(60))
        }
        #expect(alone.first?.providers == ["doomed"] && alone.first?.state == .terminated)
    }
}
