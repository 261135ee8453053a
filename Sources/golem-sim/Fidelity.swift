import ArgumentParser
import AsyncHTTPClient
import Foundation
import GolemFidelity
import YagnaAPI

extension GolemSim {
    struct Fidelity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send the fidelity walk to a real yagna and to golem-sim serve and compare their answers.",
            discussion: """
                The real node plays the provider with a second identity (--provider-key); the simulator's scenario \
                providers act by themselves. Exit status: 0 every compared request agrees, 1 some differ, 2 bad input \
                or a node that cannot walk.
                """)

        @Option(help: "The real yagna's REST URL (without it, --fixture stands for the real node).") var real: String?
        @Option(name: .customLong("real-key"), help: "The real node's requestor app key.") var realKey: String?
        @Option(name: .customLong("provider-key"), help: "The app key of the real node's second identity, which plays the provider.") var providerKey: String?
        @Option(help: "golem-sim serve's URL (serving Tests/GolemTests/Fixtures/fidelity/fidelity.yaml); without it only the fixture is compared.") var sim: String?
        @Option(name: .customLong("sim-key"), help: "golem-sim serve's app key.") var simKey: String = "golem-sim-dev-key"
        @Option(help: "The committed fixture: the real answers are checked against it (drift of the binary).") var fixture: String?
        @Option(name: .customLong("write-fixture"), help: "Write the real node's answers here as a fixture.") var writeFixture: String?
        @Flag(help: "Print every request and the start of its answer.") var verbose = false

        func validate() throws {
            if real != nil {
                guard realKey != nil, providerKey != nil else { throw ValidationError("--real needs --real-key and --provider-key") }
            } else {
                guard fixture != nil, sim != nil else { throw ValidationError("give --real URL (a live daemon) or --fixture FILE with --sim URL") }
                guard writeFixture == nil else { throw ValidationError("--write-fixture needs --real") }
            }
        }

        /// The wall clock: both nodes run in real time.
        var now: @Sendable () -> Date { { Date() } }

        func run() async throws {
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                let status = try await walk(client)
                try await client.shutdown()
                if !status { throw Exit.checkFailed }
            } catch {
                try? await client.shutdown()
                if error is ExitCode { throw error }
                throw fail("\(error)")
            }
        }

        func walk(_ client: HTTPClient) async throws -> Bool {
            guard let real, let realKey, let providerKey else {
                let committed = try FidelityFixture.load(fixture!)
                print("real: \(committed.source), from \(fixture!)")
                return try await compareSimulator(client, against: committed)
            }
            let realTarget = HTTPFidelityTarget(name: "real yagna", baseURL: real, client: client)
            let version = try await realTarget.send(FidelityRequest(method: "GET", target: "/version/get"))
            let source = version.json?["current"].map { "yagna \($0["version"]?.stringValue ?? "?") \($0["name"]?.stringValue ?? "")" } ?? "yagna (unknown version)"
            print("real: \(source) at \(real)")
            let role = RealProviderRole(target: realTarget, key: providerKey, now: now, sleep: { try await Task.sleep(for: $0) })
            let started = Date()
            var realRunner = WalkRunner(target: realTarget, provider: role, requestorKey: realKey, now: now)
            if verbose { realRunner.log = { print("real: \($0)") } }
            let realResults = try await realRunner.run(Walk.items)
            print(String(format: "real: %d requests answered in %.1f s", realResults.count, Date().timeIntervalSince(started)))
            let realFixture = FidelityFixture(source: source, results: realResults, redacting: [realKey, providerKey])
            if let writeFixture {
                try realFixture.write(to: writeFixture)
                print("fixture written to \(writeFixture)")
            }
            var passed = true
            if let fixture {
                // The committed fixture must still describe this binary: compare the live answers with it by the same rules.
                let committed = try FidelityFixture.load(fixture)
                let drift = FidelityReport.compare(real: committed, simulator: realResults)
                print("fixture \(fixture) against the live daemon (\"simulator\" below is the live daemon):")
                print(drift.summary)
                passed = passed && drift.passed
            }
            if sim != nil {
                passed = try await compareSimulator(client, against: realFixture) && passed
            }
            return passed
        }

        func compareSimulator(_ client: HTTPClient, against realFixture: FidelityFixture) async throws -> Bool {
            var passed = true
            if let sim {
                let simTarget = HTTPFidelityTarget(name: "golem-sim", baseURL: sim, client: client)
                let simStarted = Date()
                var simRunner = WalkRunner(target: simTarget, provider: AutonomousProviders(), requestorKey: simKey, now: now)
                if verbose { simRunner.log = { print("sim: \($0)") } }
                let simResults = try await simRunner.run(Walk.items)
                print(String(format: "golem-sim: %d requests answered in %.1f s", simResults.count, Date().timeIntervalSince(simStarted)))
                let report = FidelityReport.compare(real: realFixture, simulator: simResults)
                print(report.summary)
                for (step, reason) in report.skipped { print("skipped: \(step): \(reason)") }
                passed = passed && report.passed
            }
            return passed
        }
    }
}
