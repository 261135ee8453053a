public import YagnaSimulator
import Foundation
import GolemRecording

/// The smallest fault schedule found that still makes a run fail the same way.
public struct ShrinkResult: Sendable {
    /// The rule whose failure was kept (`app`, `all-invoices-accepted`, `assert 'name'`, …).
    public var rule: String
    /// The scenario's whole schedule, and what is left of it (numbered as in the original).
    public var original: [FaultReference]
    public var minimal: [FaultReference]
    /// The minimal schedule, a line per fault, in the scenario file's syntax.
    public var schedule: [String]
    /// The scenario with only the minimal schedule, and its failing run.
    public var scenario: Scenario
    public var report: SimulationReport
    /// How many runs the search took.
    public var runs: Int
}

/// Shrinks a failing run's fault schedule with delta debugging (ddmin): it removes faults, in
/// halves and then one at a time, as long as the run with the same seed still fails the same
/// rule. The result is 1-minimal: removing any one fault left makes the run pass that rule.
///
/// ```swift
/// let failing = try await SimulatedNetwork.runExample(scenario: scenario, seed: 7)
/// if let shrunk = try await SimulatedNetwork.shrink(scenario: scenario, seed: 7, failing: failing) {
///     print(shrunk.schedule)   // ["provider a: fail-command {…}", "provider b: fail-command {…}"]
/// }
/// ```
public enum Shrinker {
    /// The rule a failure line names: the text before its first `: ` (for journal assertions,
    /// `assert '<label>'`).
    public static func rule(of failure: String) -> String {
        if failure.hasPrefix("assert '"), let close = failure.dropFirst(8).firstIndex(of: "'") {
            return String(failure[..<failure.index(after: close)])
        }
        if let colon = failure.range(of: ":") { return String(failure[..<colon.lowerBound]) }
        return failure
    }

    /// Shrinks `scenario`'s fault schedule while `run` still fails `failing`'s first rule.
    /// Returns `nil` when `failing` passed.
    public static func shrink(
        scenario: Scenario, failing: SimulationReport, run: (Scenario) async throws -> SimulationReport
    ) async throws -> ShrinkResult? {
        guard let first = failing.failures.first else { return nil }
        let rule = rule(of: first)
        let all = scenario.faultSchedule
        var runs = 0
        var best = failing
        func fails(_ faults: [FaultReference]) async throws -> Bool {
            runs += 1
            let report = try await run(scenario.keeping(only: faults))
            guard report.failures.contains(where: { Self.rule(of: $0) == rule }) else { return false }
            best = report
            return true
        }
        var current = all
        if !current.isEmpty, try await fails([]) { current = [] }
        var n = 2
        while current.count >= 2 {
            let chunks = split(current, into: n)
            var reduced = false
            for chunk in chunks {
                if try await fails(chunk) {
                    current = chunk
                    n = 2
                    reduced = true
                    break
                }
            }
            if !reduced {
                for chunk in chunks {
                    let complement = current.filter { !chunk.contains($0) }
                    if try await fails(complement) {
                        current = complement
                        n = max(n - 1, 2)
                        reduced = true
                        break
                    }
                }
            }
            if !reduced {
                guard n < current.count else { break }
                n = min(current.count, n * 2)
            }
        }
        // `current` only ever takes a candidate that just failed, so `best` is its run.
        let shrunk = scenario.keeping(only: current)
        return ShrinkResult(
            rule: rule, original: all, minimal: current, schedule: current.map { scenario.describe($0) }, scenario: shrunk,
            report: best, runs: runs)
    }

    static func split<T>(_ items: [T], into n: Int) -> [[T]] {
        let size = (items.count + n - 1) / n
        return stride(from: 0, to: items.count, by: max(size, 1)).map { Array(items[$0..<min($0 + size, items.count)]) }
    }
}

extension SimulatedNetwork {
    /// Shrinks the fault schedule of a failing run of the scenario's app (same seed).
    public static func shrink(scenario: Scenario, seed: UInt64, failing: SimulationReport, app: AppSpec? = nil) async throws -> ShrinkResult? {
        let resolved = try scenario.resolvingBase()
        var base = resolved
        base.base = nil
        return try await Shrinker.shrink(scenario: base, failing: failing) { candidate in
            try await runExample(scenario: candidate, seed: seed, app: app)
        }
    }
}
