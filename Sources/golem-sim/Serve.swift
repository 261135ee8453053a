import ArgumentParser
import Foundation
import GolemRecording
import GolemTime
import Logging
import SimulatorServer
import YagnaAPI
import YagnaSimulator

extension GolemSim {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serve the yagna REST API from a scenario or a recording.")

        @Option(help: "A scenario YAML file.") var scenario: String?
        @Option(help: "A recording to replay (strict unless --lenient).") var recording: String?
        @Option(help: "Port to listen on (0 picks a free one).") var port: Int = 7465
        @Option(help: "Address to bind.") var host: String = "127.0.0.1"
        @Option(name: .customLong("app-key"), help: "The app key clients must send (default: a development key, printed).") var appKey: String?
        @Option(help: "Seed of every random choice.") var seed: UInt64?
        @Option(help: "Run the clock this many times faster than real time.") var speed: Double = 1
        @Flag(help: "When replaying, serve requests the recording has no counterpart for from scenario defaults instead of answering with a divergence.") var lenient = false
        @Option(help: "Write the served session to this file in the recording format.") var journal: String?

        func validate() throws {
            guard (scenario == nil) != (recording == nil) else { throw ValidationError("give exactly one of --scenario FILE or --recording FILE") }
            guard speed > 0, speed.isFinite else { throw ValidationError("--speed must be a positive number") }
            guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
            if lenient && recording == nil { throw ValidationError("--lenient applies to --recording only") }
        }

        func run() async throws {
            var plan: ReplayPlan?
            let scenario: Scenario
            if let recording {
                plan = try openRecording(recording).replayPlan
                scenario = plan!.scenario
            } else {
                scenario = try loadScenario(self.scenario!)
            }
            let key = appKey ?? "golem-sim-dev-key"
            if appKey == nil {
                FileHandle.standardOutput.write(Data("app key: \(key) (development key; pass --app-key to choose one)\n".utf8))
            }
            let directory = DirectoryFileExchange.defaultDirectory(environment: ProcessInfo.processInfo.environment)
            let files: DirectoryFileExchange
            do { files = try DirectoryFileExchange(directory: directory) } catch {
                throw fail("cannot use the gftp exchange directory \(directory.path): \(error)")
            }
            let seed = self.seed ?? scenario.seed
            let node = SimulatedNode(scenario: scenario, seed: seed, clock: SystemClock(speed: speed), appKey: key, files: files, retainJournal: false)
            if let plan { node.enableReplay(ReplayReferee(plan: plan, strict: !lenient)) }
            var writer: RecordingWriter?
            if let journal {
                do {
                    let w = try RecordingWriter(path: journal, info: .simulated(start: node.startDate, scenario: scenario.name, seed: seed,
                        notes: recording.map { "replay of \($0)\(lenient ? " (lenient)" : "")" } ?? ""))
                    node.observeExchanges { entry in
                        do { try w.append(RecordedExchange(entry, sequence: 0)) } catch {
                            FileHandle.standardError.write(Data("golem-sim: \(error)\n".utf8))
                        }
                    }
                    writer = w
                } catch { throw fail("\(error)") }
            }
            var logger = Logger(label: "golem-sim")
            logger.logLevel = .warning
            let host = self.host
            do {
                try await SimulatorServer.run(node: node, host: host, port: port, logger: logger) { port in
                    FileHandle.standardOutput.write(Data("listening on http://\(host):\(port)\n".utf8))
                }
            } catch {
                try? writer?.finish()
                throw fail("cannot serve on \(host):\(port): \(error)")
            }
            var failed = false
            if let referee = node.replay {
                for d in referee.divergences {
                    try? writer?.append(RecordedDivergence(
                        exchangeSequence: nil, offset: d.offset, operation: d.operation?.kind, summary: d.description,
                        report: JSONWriter.string(d.json)))
                }
                let report = referee.report
                if report.isEmpty {
                    print("replay: no divergence; every recorded operation was performed")
                } else {
                    for line in report { print("replay: \(line)") }
                    failed = referee.strict
                }
            }
            do { try writer?.finish(ended: WireTimestamp(node.clock.now).text) } catch { throw fail("\(error)") }
            if failed { throw Exit.checkFailed }
        }
    }

    struct Record: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a live session: a transparent proxy to a yagna daemon that commits every exchange.")

        @Option(help: "The daemon's base URL (http://127.0.0.1:7465).") var upstream: String
        @Option(help: "The recording file to write (replaced if it exists).") var out: String
        @Option(help: "Port to listen on (0 picks a free one).") var port: Int = 7466
        @Option(help: "Address to bind.") var host: String = "127.0.0.1"
        @Flag(help: "Replace node ids and wallet addresses by consistent pseudonyms.") var pseudonymize = false
        @Option(help: "A note stored with the session.") var notes: String = ""
        @Flag(help: "Mark the session as simulated (recorded against golem-sim serve).") var simulated = false

        func validate() throws {
            guard let url = URL(string: upstream), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ValidationError("--upstream must be an http(s) URL such as http://127.0.0.1:7465")
            }
            guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        }

        func run() async throws {
            let clock = SystemClock()
            let upstreamURL = URL(string: upstream)!
            let version = await RecordingProxy.daemonVersion(upstreamURL)
            let writer: RecordingWriter
            do {
                writer = try RecordingWriter(path: out, info: SessionInfo(
                    created: WireTimestamp(clock.now).text, source: simulated ? .simulated : .live, daemonVersion: version, upstream: upstream,
                    notes: notes))
            } catch { throw fail("\(error)") }
            var logger = Logger(label: "golem-sim.record")
            logger.logLevel = .warning
            let host = self.host
            do {
                try await RecordingProxy.run(
                    upstream: upstreamURL, writer: writer, sanitizer: Sanitizer(pseudonymizeAddresses: pseudonymize), clock: clock, host: host,
                    port: port, logger: logger
                ) { port in
                    FileHandle.standardOutput.write(Data("listening on http://\(host):\(port)\n".utf8))
                }
            } catch {
                try? writer.finish()
                throw fail("cannot record on \(host):\(port): \(error)")
            }
            do { try writer.finish(ended: WireTimestamp(clock.now).text) } catch { throw fail("\(error)") }
            let count = (try? writer.read().exchanges.count) ?? 0
            print("recorded \(count) exchanges to \(out)")
        }
    }
}
