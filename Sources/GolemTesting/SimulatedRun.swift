public import YagnaSimulator
public import GolemRequestor
import GolemTime
import YagnaAPI
import GolemExamples
public import Foundation
public import GolemRecording

/// The simulator's exchange as the requestor's file storage, for in-process runs.
public struct SimulatedStorage: FileStorage {
    public let exchange: InMemoryFileExchange
    public init(_ exchange: InMemoryFileExchange) { self.exchange = exchange }
    public func publish(_ bytes: [UInt8]) async throws -> String { try exchange.publish(bytes) }
    public func receive() async throws -> (url: String, read: @Sendable () async throws -> [UInt8]) {
        let url = try exchange.receive(into: nil)
        let exchange = self.exchange
        return (url, { try exchange.received(url: url) })
    }
}

/// The outcome of running requestor code against a scenario in virtual time.
public struct SimulationReport: Sendable {
    public var scenario: String
    public var seed: UInt64
    public var passed: Bool { failures.isEmpty }
    /// The rules that failed, each naming what went wrong.
    public var failures: [String]
    /// Every exchange of the run, in order; empty once `dropJournal()` let it go.
    public var journal: [JournalEntry]
    /// A hash of every exchange of the journal (offsets, requests, answers, frames): equal for
    /// two runs that went the same way. Computed when asked, or kept when the journal was dropped.
    public var traceHash: String { keptTraceHash ?? YagnaSimulator.traceHash(journal) }
    /// How many exchanges the run had (the journal's length, kept when it was dropped).
    public var exchangeCount: Int { keptExchangeCount ?? journal.count }
    private(set) var keptTraceHash: String?
    private(set) var keptExchangeCount: Int?
    /// Whether `dropJournal()` let the journal go.
    public var journalDropped: Bool { keptExchangeCount != nil }

    /// Lets go of the journal and the app's output, keeping the verdict, the figures, the trace
    /// hash and the exchange count: what a sweep keeps of a passing seed, so that a long sweep's
    /// memory does not grow with every run.
    public mutating func dropJournal() {
        guard keptExchangeCount == nil else { return }
        keptTraceHash = traceHash
        keptExchangeCount = journal.count
        journal = []
        output = []
    }
    public var virtualSeconds: Double
    public var wallSeconds: Double
    public var summary: RunSummary?
    public var state: NodeSnapshot
    /// The app's error, if it threw.
    public var error: String?
    public var output: [String]
    /// When the run replayed a recording: its divergences and the recorded operations never performed.
    public var replay: [String] = []
    /// Async jobs the simulation ran and sleepers it woke (what a run costs, for benchmarks).
    public var jobs = 0
    public var wakeUps = 0
}

/// Runs requestor code against a simulated network in-process, in virtual time: one
/// simulation per call, no process-wide state, safe under parallel tests.
///
/// ```swift
/// let report = try await SimulatedNetwork.run(scenario: try Scenario.load(file: "scenarios/hello-task.yaml")) { golem in
///     _ = try await Examples.helloTask(golem, print: { _ in })
/// }
/// #expect(report.passed)
/// ```
public enum SimulatedNetwork {
    /// Runs `body` with a `Golem` engine on the scenario's network and checks the invariants.
    public static func run(
        scenario: Scenario, seed: UInt64? = nil, configuration: GolemConfiguration = GolemConfiguration(budget: 1),
        _ body: @escaping @Sendable (Golem) async throws -> Void
    ) async throws -> SimulationReport {
        try await runApp(scenario: scenario, seed: seed) { transport, clock, storage, _ in
            try await Golem.withGolem(transport: transport, configuration: configuration, clock: clock, storage: storage) { golem in
                try await body(golem)
                return await golem.summary
            }
        }
    }

    /// Runs the scenario's example app (or `app`) and checks expectations and invariants.
    public static func runExample(scenario: Scenario, seed: UInt64? = nil, app: AppSpec? = nil) async throws -> SimulationReport {
        guard let app = app ?? scenario.app else {
            throw UnknownExample(name: "(none: the scenario names no app)")
        }
        let scenario = try scenario.resolvingBase()
        return try await runApp(scenario: scenario, seed: seed) { transport, clock, storage, print in
            try await Examples.run(app.name, arguments: app.arguments, transport: transport, clock: clock, storage: storage, print: print)
        }
    }

    /// Replays a recorded session: the network is rebuilt from the recording's providers and the
    /// requestor code is judged against the recorded operations (`report.replay` lists the
    /// divergences; in strict mode each fails the run).
    ///
    /// ```swift
    /// let plan = try Recording.open("recordings/hello-task.sqlite").replayPlan
    /// let report = try await SimulatedNetwork.replay(plan, app: AppSpec(name: "hello-task"))
    /// #expect(report.replay.isEmpty)
    /// ```
    public static func replay(_ plan: ReplayPlan, strict: Bool = true, seed: UInt64 = 1, app: AppSpec) async throws -> SimulationReport {
        try await runApp(scenario: plan.scenario, seed: seed, referee: ReplayReferee(plan: plan, strict: strict)) { transport, clock, storage, print in
            try await Examples.run(app.name, arguments: app.arguments, transport: transport, clock: clock, storage: storage, print: print)
        }
    }

    /// Replays a recorded session with your own requestor code.
    public static func replay(
        _ plan: ReplayPlan, strict: Bool = true, seed: UInt64 = 1, configuration: GolemConfiguration = GolemConfiguration(budget: 1),
        _ body: @escaping @Sendable (Golem) async throws -> Void
    ) async throws -> SimulationReport {
        try await runApp(scenario: plan.scenario, seed: seed, referee: ReplayReferee(plan: plan, strict: strict)) { transport, clock, storage, _ in
            try await Golem.withGolem(transport: transport, configuration: configuration, clock: clock, storage: storage) { golem in
                try await body(golem)
                return await golem.summary
            }
        }
    }

    static func runApp(
        scenario: Scenario, seed: UInt64?, referee: ReplayReferee? = nil,
        _ app: @escaping @Sendable (any Transport, any GolemClock, any FileStorage, @escaping @Sendable (String) -> Void) async throws -> RunSummary
    ) async throws -> SimulationReport {
        let seed = seed ?? scenario.seed
        let simulation = Simulation()
        let wallStart = Date()
        let lines = Lines()
        let (node, summary, error) = try await simulation.runDetached { clock in
            let exchange = InMemoryFileExchange()
            let node = SimulatedNode(scenario: scenario, seed: seed, clock: clock, appKey: "sim-key", files: exchange)
            if let referee { node.enableReplay(referee) }
            let transport = InProcessTransport(node: node)
            do {
                let summary = try await app(transport, clock, SimulatedStorage(exchange)) { lines.add($0) }
                return (node, Optional(summary), String?.none)
            } catch {
                return (node, nil, "\(error)")
            }
        }
        let journal = node.journal
        let state = node.state
        let replay = node.replay
        let end = simulation.elapsed
        var failures = Invariants.check(state: state, journal: journal, end: end)
        if let summary { failures += Invariants.check(tasks: summary, end: end) }
        if let replay, replay.strict {
            failures += replay.report.map { "replay: \($0)" }
        }
        failures += Expectations.check(scenario.expectations, state: state, summary: summary, error: error)
        failures += scenario.assertions.flatMap { $0.check(journal, end: end) }
        if error != nil, !scenario.expectations.contains(.appFails) { failures.insert("app: the app failed: \(error!)", at: 0) }
        let statistics = simulation.statistics
        return SimulationReport(
            scenario: scenario.name, seed: seed, failures: failures, journal: journal,
            virtualSeconds: end.timeInterval, wallSeconds: Date().timeIntervalSince(wallStart), summary: summary,
            state: state, error: error, output: lines.values, replay: replay?.report ?? [],
            jobs: statistics.jobs, wakeUps: statistics.wakeUps)
    }
}

import Synchronization

final class Lines: Sendable {
    private let m = Mutex<[String]>([])
    func add(_ s: String) { m.withLock { $0.append(s) } }
    var values: [String] { m.withLock { $0 } }
}

/// The rules every run must keep, checked on the node's final state. A failure names the
/// rule, the time (the run's end, when the rule is about the final state) and the journal
/// entries that concern it.
public enum Invariants {
    public static func check(state: NodeSnapshot, journal: [JournalEntry], end: Duration) -> [String] {
        var failures: [String] = []
        let at = "at the end (\(JournalAssertion.seconds(end)))"
        /// The last few exchanges whose path names `id`.
        func trail(_ id: String) -> String {
            let hits = journal.filter { $0.target.contains(id) }
            guard !hits.isEmpty else { return "" }
            return "; journal: " + hits.suffix(3).map(JournalAssertion.describe).joined(separator: "; ")
        }
        for a in state.agreements where a.state == .approved {
            failures.append("every-approved-agreement-ends: agreement \(a.id) on \(a.providerName) is still Approved \(at)\(trail(a.id))")
        }
        for act in state.activities where !act.destroyed {
            failures.append("every-activity-destroyed: activity \(act.id) was never destroyed \(at)\(trail(act.id))")
        }
        for (allocation, released) in state.allocations where !released {
            failures.append("allocation-released: allocation \(allocation.allocationId) was not released \(at)\(trail(allocation.allocationId))")
        }
        for (allocation, _) in state.allocations where allocation.spentAmount > allocation.totalAmount {
            failures.append("spending-within-allocation: \(allocation.spentAmount) spent of \(allocation.totalAmount) \(at)\(trail(allocation.allocationId))")
        }
        for network in state.networks where !network.removed {
            failures.append("network-removed: network \(network.id) was never removed \(at)\(trail(network.id))")
        }
        let known = Set(state.agreements.map(\.id))
        for invoice in state.invoices where invoice.status == .accepted && !known.contains(invoice.agreementId) {
            failures.append("documents-belong-to-agreements: invoice \(invoice.invoiceId) accepted for unknown agreement \(invoice.agreementId)\(trail(invoice.invoiceId))")
        }
        return failures
    }

    /// No task lost or returned twice, on a run that finished: every task that started was
    /// accepted exactly once or given up.
    public static func check(tasks summary: RunSummary, end: Duration) -> [String] {
        var failures: [String] = []
        for (id, n) in summary.acceptances.sorted(by: { $0.key < $1.key }) where n > 1 {
            failures.append("no-task-returned-twice: \(id) was accepted \(n) times (by the run's end, \(JournalAssertion.seconds(end)))")
        }
        for id in summary.tasksStarted.sorted() where summary.acceptances[id] == nil && !summary.tasksGivenUp.contains(id) {
            failures.append("no-task-lost: \(id) started but was neither accepted nor given up by the run's end (\(JournalAssertion.seconds(end)))")
        }
        return failures
    }
}

/// A scenario's expectations, checked on a run.
public enum Expectations {
    public static func check(_ expectations: [Expectation], state: NodeSnapshot, summary: RunSummary?, error: String?) -> [String] {
        var failures: [String] = []
        for e in expectations {
            switch e {
            case .allTasksAccepted:
                if error != nil { failures.append("all-tasks-accepted: the app failed: \(error!)") }
            case .invoicesAccepted:
                for invoice in state.invoices where invoice.status != .accepted {
                    failures.append("all-invoices-accepted: invoice \(invoice.invoiceId) is \(invoice.status.rawValue)")
                }
                let invoiced = Set(state.invoices.map(\.agreementId))
                for a in state.agreements where a.state == .terminated && !invoiced.contains(a.id) {
                    failures.append("all-invoices-accepted: agreement \(a.id) on \(a.providerName) was never invoiced")
                }
            case .appFails:
                if error == nil { failures.append("app-fails: the app succeeded") }
            case .serviceRunning:
                if (summary?.instancesRunning ?? 0) == 0 { failures.append("service-reached-running: no instance reached running") }
            case .instanceRespawned:
                if (summary?.respawns ?? 0) == 0 { failures.append("instance-respawned-on-another-provider: no instance was respawned") }
            }
        }
        return failures
    }
}

extension SimulationReport {
    /// The failures of journal rules on this run (empty when all hold), for tests that assert
    /// on the journal:
    ///
    /// ```swift
    /// #expect(report.failures(of: [JournalAssertion(.never(ExchangeMatcher(status: ["5xx"])))]).isEmpty)
    /// ```
    public func failures(of assertions: [JournalAssertion]) -> [String] {
        assertions.flatMap { $0.check(journal, end: .nanoseconds(Int64(virtualSeconds * 1e9))) }
    }

    /// Saves the run's session as a recording (`golem-sim run --journal`, a failing seed of
    /// `sweep`), with the failed checks as its notes.
    public func save(to path: String, notes: [String]? = nil) throws(RecordingError) {
        try Recording.write(
            journal: journal,
            info: .simulated(start: Date(timeIntervalSince1970: 0), scenario: scenario, seed: seed, notes: (notes ?? failures).joined(separator: "; ")),
            to: path)
    }
}
