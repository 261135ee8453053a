import ArgumentParser
import Foundation
import GolemTesting
import GolemRecording
import YagnaAPI
import YagnaSimulator

extension GolemSim {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a scenario's app against the simulated network in virtual time.")

        @Argument(help: "The scenario YAML file.") var scenarioFile: String
        @Option(help: "Seed of every random choice (default: the scenario's).") var seed: UInt64?
        @Flag(help: "Print one JSON object.") var json = false
        @Option(help: "Write a JUnit XML report here.") var junit: String?
        @Option(help: "Save the run's session here in the recording format.") var journal: String?

        func run() async throws {
            let scenario = try loadScenario(scenarioFile)
            guard scenario.app != nil else { throw fail("\(scenarioFile): the scenario names no 'app' to run") }
            let report: SimulationReport
            do { report = try await SimulatedNetwork.runExample(scenario: scenario, seed: seed) } catch {
                throw fail("\(scenarioFile): \(error)")
            }
            if let journal {
                do { try report.save(to: journal) } catch { throw fail("\(error)") }
            }
            if json {
                let object: JSONValue = [
                    "verdict": .string(report.passed ? "pass" : "fail"), "traceHash": .string(report.traceHash), "seed": .string(String(report.seed)),
                    "scenario": .string(report.scenario), "virtualSeconds": .double(report.virtualSeconds), "wallSeconds": .double(report.wallSeconds),
                    "failedChecks": .array(report.failures.map { .string($0) }), "exchanges": .int(report.journal.count),
                ]
                print(JSONWriter.string(object))
            } else {
                for line in report.output { print(line) }
                if let summary = report.summary { print(summary) }
                print("verdict: \(report.passed ? "pass" : "fail")")
                print(String(format: "virtual time: %.1f s, wall time: %.3f s, %d exchanges", report.virtualSeconds, report.wallSeconds, report.journal.count))
                print("trace hash: \(report.traceHash) (seed \(report.seed))")
                for failure in report.failures { print("failed check: \(failure)") }
            }
            if let junit {
                let junitReport = JUnitReport(suite: "golem-sim run", cases: [
                    .init(name: "seed-\(report.seed)", className: report.scenario, seconds: report.wallSeconds,
                          failure: report.passed ? nil : report.failures.joined(separator: "; ")),
                ])
                do { try junitReport.write(to: junit) } catch { throw fail("\(error)") }
            }
            if !report.passed { throw Exit.checkFailed }
        }
    }
}
