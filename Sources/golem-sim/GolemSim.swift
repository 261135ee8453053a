import ArgumentParser
import Foundation
import GolemTime
import SimulatorServer
import YagnaSimulator
import Logging

@main
struct GolemSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "golem-sim",
        abstract: "A simulated yagna node for developing and testing Golem requestor apps offline.",
        subcommands: [Serve.self, Validate.self, Run.self, Sweep.self])
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
    do { return try Scenario.load(file: path) } catch { throw fail("invalid scenario: \(error)") }
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

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serve the yagna REST API from a scenario (or a recording).")

        @Option(help: "A scenario YAML file.") var scenario: String?
        @Option(help: "A recording to replay.") var recording: String?
        @Option(help: "Port to listen on (0 picks a free one).") var port: Int = 7465
        @Option(help: "Address to bind.") var host: String = "127.0.0.1"
        @Option(name: .customLong("app-key"), help: "The app key clients must send (default: a development key, printed).") var appKey: String?
        @Option(help: "Seed of every random choice.") var seed: UInt64?
        @Option(help: "Run the clock this many times faster than real time.") var speed: Double = 1
        @Flag(help: "Fall back to scenario defaults where a recording has no answer.") var lenient = false
        @Option(help: "Write the served session to this file in the recording format.") var journal: String?

        func validate() throws {
            guard (scenario == nil) != (recording == nil) else { throw ValidationError("give exactly one of --scenario FILE or --recording FILE") }
            guard speed > 0, speed.isFinite else { throw ValidationError("--speed must be a positive number") }
            guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        }

        func run() async throws {
            if recording != nil { throw fail("replaying recordings (--recording) is not built yet; serve a --scenario instead") }
            if journal != nil { throw fail("--journal is not built yet (it needs the recording format)") }
            let scenario = try loadScenario(self.scenario!)
            let key = appKey ?? "golem-sim-dev-key"
            if appKey == nil {
                FileHandle.standardOutput.write(Data("app key: \(key) (development key; pass --app-key to choose one)\n".utf8))
            }
            let directory = DirectoryFileExchange.defaultDirectory(environment: ProcessInfo.processInfo.environment)
            let files: DirectoryFileExchange
            do { files = try DirectoryFileExchange(directory: directory) } catch {
                throw fail("cannot use the gftp exchange directory \(directory.path): \(error)")
            }
            let node = SimulatedNode(scenario: scenario, seed: seed ?? scenario.seed, clock: SystemClock(speed: speed), appKey: key, files: files)
            var logger = Logger(label: "golem-sim")
            logger.logLevel = .warning
            let host = self.host
            do {
                try await SimulatorServer.run(node: node, host: host, port: port, logger: logger) { port in
                    FileHandle.standardOutput.write(Data("listening on http://\(host):\(port)\n".utf8))
                }
            } catch {
                throw fail("cannot serve on \(host):\(port): \(error)")
            }
        }
    }
}
