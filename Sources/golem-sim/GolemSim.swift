import ArgumentParser
import Foundation
import YagnaHTTP
import GolemTime
import SimulatorServer
import YagnaSimulator
import Logging
import GolemRecording

@main
struct GolemSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "golem-sim",
        abstract: "A simulated yagna node for developing and testing Golem requestor apps offline.",
        subcommands: [Serve.self, Record.self, Run.self, Sweep.self, Inspect.self, Verify.self, Diff.self, Validate.self, Bench.self, Fidelity.self, Provide.self, Merge.self])

    /// ArgumentParser's own entry, except that bad input (an unknown flag, a malformed option,
    /// a failed validation) exits 2 as the CLI contract says, not 64.
    static func main() async {
        // The benchmarks measure the Swift requestor over HTTP as its README advises running it:
        // with Swift concurrency on the event loops that do its I/O. Installed before anything runs.
        if CommandLine.arguments.dropFirst().first == "bench" { HTTPTransport.runConcurrencyOnEventLoops() }
        do {
            var command = try parseAsRoot()
            if var async = command as? any AsyncParsableCommand { try await async.run() } else { try command.run() }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(Exit.badInput.rawValue)
            }
            exit(withError: error)
        }
    }
}

/// Exit statuses of the CLI contract.
enum Exit {
    static let checkFailed = ExitCode(1)
    static let badInput = ExitCode(2)
}

func fail(_ message: String, _ code: ExitCode = Exit.badInput) -> ExitCode {
    FileHandle.standardError.write(Data("golem-sim: \(message)\n".utf8))
    return code
}

func loadScenario(_ path: String) throws -> Scenario {
    let scenario: Scenario
    do { scenario = try Scenario.load(file: path) } catch { throw fail("invalid scenario: \(error)") }
    do { return try scenario.resolvingBase() } catch { throw fail("\(path): 'base': \(error)") }
}

func openRecording(_ path: String) throws -> Recording {
    do { return try Recording.open(path) } catch { throw fail("\(error)") }
}

extension GolemSim {
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a scenario file without running it.")

        @Argument(help: "The scenario YAML file.") var scenarioFile: String

        func run() throws {
            let scenario = try loadScenario(scenarioFile)
            print("\(scenarioFile): valid scenario '\(scenario.name)' with \(scenario.providers.count) provider(s)")
        }
    }
}
