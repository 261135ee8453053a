import ArgumentParser
import Foundation
import Synchronization
import GolemTesting
import GolemRecording
import YagnaSimulator

extension GolemSim {
    struct Sweep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a scenario's app over a range of seeds and report the failing ones.")

        @Argument(help: "The scenario YAML file.") var scenarioFile: String
        @Option(help: "Seeds A..B, inclusive.") var seeds: String
        @Option(help: "Simulations run at once (default: the number of cores).") var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
        @Option(help: "Write a JUnit XML report here.") var junit: String?
        @Option(help: "Where to save the first failing seed's (shrunk) run as a recording (default: <scenario>-seed-N.sqlite).") var save: String?
        @Flag(help: "Do not shrink the first failure's fault schedule; save its run as it failed.") var noShrink = false
        @Option(help: "Run only shard K of N (K/N, 1 <= K <= N): every N-th seed of the range from its (K-1)-th; merge the shards' --junit reports with `golem-sim merge`.")
        var shard: String?

        func parseSeeds() throws -> ClosedRange<UInt64> {
            let parts = seeds.components(separatedBy: "..")
            guard parts.count == 2, let a = UInt64(parts[0]), let b = UInt64(parts[1]), a <= b else {
                throw ValidationError("--seeds must look like A..B with A <= B, e.g. 1..500")
            }
            return a...b
        }

        func validate() throws {
            _ = try parseSeeds()
            guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
            if let shard, SweepShard(shard) == nil { throw ValidationError("--shard must look like K/N with 1 <= K <= N, e.g. 2/8 (got '\(shard)')") }
        }

        func run() async throws {
            let scenario = try loadScenario(scenarioFile)
            guard scenario.app != nil else { throw fail("\(scenarioFile): the scenario names no 'app' to run") }
            let full = try parseSeeds()
            let part = shard.flatMap(SweepShard.init)
            let range = part?.seeds(of: full) ?? Array(full)
            if let part { print("shard \(part): \(range.count) of the \(full.count) seeds \(seeds)") }
            let started = Date()
            var reports: [UInt64: SimulationReport] = [:]
            var errors: [UInt64: String] = [:]
            // On a terminal, long sweeps show a progress line (rewritten in place, at most 4 times a second).
            let total = range.count
            let progress: (@Sendable (Int, Int) -> Void)? = isatty(STDOUT_FILENO) == 1 && total >= 100 ? ProgressLine(total: total, started: started).update : nil
            let results = await SimulatedNetwork.sweep(scenario: scenario, seeds: range, jobs: jobs, progress: progress)
            if progress != nil { print("\r\u{1B}[K", terminator: "") }
            for (seed, result) in results {
                switch result {
                case .success(let r): reports[seed] = r
                case .failure(let e): errors[seed] = "\(e)"
                }
            }
            let failing = range.filter { reports[$0]?.passed != true }
            let wall = Date().timeIntervalSince(started)
            let shown = 10
            for seed in failing.prefix(shown) {
                let reason = errors[seed] ?? reports[seed]?.failures.first ?? "no result came back for this seed (an internal error of the sweep; please report it)"
                print("seed \(seed) failed: \(reason)")
                print("  reproduce: golem-sim run \(scenarioFile) --seed \(seed)")
            }
            if failing.count > shown {
                print("\(failing.count - shown) more seeds failed: \(failing.dropFirst(shown).map(String.init).joined(separator: " ")) (reproduce each with --seed N; --junit lists every reason)")
            }
            if let first = failing.first, var report = reports[first] {
                var notes = report.failures
                if !noShrink, !scenario.faultSchedule.isEmpty {
                    let shrinkStart = Date()
                    do {
                        if let shrunk = try await SimulatedNetwork.shrink(scenario: scenario, seed: first, failing: report) {
                            let seconds = Date().timeIntervalSince(shrinkStart)
                            print("seed \(first) shrunk: \(shrunk.minimal.count) of \(shrunk.original.count) faults still fail '\(shrunk.rule)' (\(shrunk.runs) runs, \(String(format: "%.2f", seconds)) s):")
                            if shrunk.minimal.isEmpty { print("  (none: the run fails without any fault of the schedule)") }
                            for line in shrunk.schedule { print("  \(line)") }
                            report = shrunk.report
                            notes = ["minimal fault schedule of seed \(first): " + (shrunk.schedule.isEmpty ? "none" : shrunk.schedule.joined(separator: "; "))] + report.failures
                        }
                    } catch {
                        FileHandle.standardError.write(Data("golem-sim: shrinking seed \(first) stopped: \(error)\n".utf8))
                    }
                }
                let name = URL(fileURLWithPath: scenarioFile).deletingPathExtension().lastPathComponent
                let path = save ?? "\(name)-seed-\(first).sqlite"
                do {
                    try report.save(to: path, notes: notes)
                    print("seed \(first)'s \(noShrink ? "" : "shrunk ")run saved as \(path) (golem-sim inspect \(path))")
                } catch { FileHandle.standardError.write(Data("golem-sim: cannot save the failing run: \(error)\n".utf8)) }
            }
            let count = range.count
            print("\(count - failing.count) passed, \(failing.count) failed")
            print(String(format: "%d runs in %.2f s wall (%.0f runs per minute, %d at once)", count, wall, Double(count) / max(wall, 1e-9) * 60, jobs))
            if let junit {
                var properties = [(name: "scenario", value: scenario.name), (name: "seeds", value: seeds)]
                if let part { properties.append((name: "shard", value: part.description)) }
                let junitReport = JUnitReport(suite: "golem-sim sweep", cases: range.map { seed in
                    JUnitReport.Case(
                        name: "seed-\(seed)", className: scenario.name,
                        failure: failing.contains(seed) ? (errors[seed] ?? reports[seed]?.failures.joined(separator: "; ") ?? "") : nil)
                }, properties: properties)
                do { try junitReport.write(to: junit) } catch { throw fail("\(error)") }
            }
            if !failing.isEmpty { throw Exit.checkFailed }
        }
    }
}

/// "seeds done/total, failures, rate, time left" on one terminal line.
final class ProgressLine: Sendable {
    let total: Int
    let started: Date
    private let last = Mutex<Date>(.distantPast)
    init(total: Int, started: Date) {
        self.total = total
        self.started = started
    }

    func update(done: Int, failed: Int) {
        let now = Date()
        guard last.withLock({ l in
            guard done == total || now.timeIntervalSince(l) >= 0.25 else { return false }
            l = now
            return true
        }) else { return }
        let elapsed = max(now.timeIntervalSince(started), 1e-9)
        let rate = Double(done) / elapsed
        let left = rate > 0 ? Double(total - done) / rate : 0
        let line = String(format: "\r\u{1B}[K%d/%d seeds, %d failed, %.0f runs/min, %.0f s left", done, total, failed, rate * 60, left)
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}
