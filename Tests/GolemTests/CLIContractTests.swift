import Foundation
import Testing
import YagnaAPI

/// The `golem-sim` CLI contract (`../shared/DESIGN.md`), on the built executable: exit 0 for a
/// pass, 1 for a failed check, 2 for bad usage or unreadable input with a message naming the
/// problem; `run --json` prints one object with the promised fields; `--help` texts are golden
/// (`GOLEM_SIM_UPDATE_GOLDEN=1 swift test --filter CLIContractTests` writes them anew).
@Suite struct CLIContractTests {
    /// Where `swift build` put the executables: beside the test bundle.
    static var binDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `golem-sim ARGS…` in `directory`, bounded: a hang is killed and fails the test.
    static func golemSim(_ arguments: [String], in directory: URL = packageRoot, limit: Duration = .seconds(120)) async throws -> Outcome {
        let binary = binDirectory.appendingPathComponent("golem-sim")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            Issue.record("no golem-sim beside the tests at \(binary.path): build it first (swift build)")
            return Outcome(status: -1, stdout: "", stderr: "")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = "100"
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let ended = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in ended.continuation.finish() }
        try process.run()
        // Read both pipes while it runs (a full pipe would block it).
        async let stdout = Task.detached { out.fileHandleForReading.readDataToEndOfFile() }.value
        async let stderr = Task.detached { err.fileHandleForReading.readDataToEndOfFile() }.value
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask { for await _ in ended.stream {}; return true }
            group.addTask { try? await Task.sleep(for: limit); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !finished {
            process.terminate()
            Issue.record("golem-sim \(arguments.joined(separator: " ")) did not end within \(limit)")
        }
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: await stdout, as: UTF8.self), stderr: String(decoding: await stderr, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func aPassingRunExitsZeroAndItsJSONHasTheContractsFields() async throws {
        let result = try await Self.golemSim(["run", "scenarios/hello-task.yaml", "--seed", "7", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONParser.parse(Array(result.stdout.utf8))
        #expect(object["verdict"] == "pass")
        #expect(object["seed"] == "7")
        #expect(object["scenario"] == "hello-task")
        #expect(object["traceHash"]?.stringValue.map { $0.count >= 16 && $0.allSatisfy(\.isHexDigit) } == true, "\(result.stdout)")
        #expect((object["virtualSeconds"]?.doubleValue ?? 0) > 0)
        #expect((object["wallSeconds"]?.doubleValue ?? -1) >= 0)
        #expect(object["failedChecks"]?.arrayValue?.isEmpty == true)
        #expect((object["exchanges"]?.intValue ?? 0) > 10)
        // One object, one line.
        #expect(result.stdout.split(separator: "\n").count == 1)
        // The same seed gives the same trace in another process.
        let again = try await Self.golemSim(["run", "scenarios/hello-task.yaml", "--seed", "7", "--json"])
        #expect(try JSONParser.parse(Array(again.stdout.utf8))["traceHash"] == object["traceHash"])
    }

    @Test func aFailedRunExitsOneNamesItsChecksAndWritesJUnit() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The scenario expects the app to fail, and it does not: a failed check.
        try """
        name: expected-to-fail
        app: hello-task
        providers:
          - name: p
        expect: [app-fails]
        """.write(to: dir.appendingPathComponent("s.yaml"), atomically: true, encoding: .utf8)
        let result = try await Self.golemSim(["run", "s.yaml", "--json", "--junit", "report.xml"], in: dir)
        #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
        let object = try JSONParser.parse(Array(result.stdout.utf8))
        #expect(object["verdict"] == "fail")
        #expect(object["failedChecks"]?.arrayValue?.isEmpty == false, "\(result.stdout)")
        let junit = try String(contentsOf: dir.appendingPathComponent("report.xml"), encoding: .utf8)
        #expect(junit.hasPrefix("<?xml") && junit.contains("<failure message=\"") && junit.contains("failures=\"1\""), "\(junit)")
    }

    @Test(arguments: [
        (["run", "scenarios/hello-task.yaml", "--bogus"], "--bogus"),
        (["run", "scenarios/hello-task.yaml", "--seed", "many"], "many"),
        (["run", "no/such/scenario.yaml"], "no/such/scenario.yaml"),
        (["sweep", "scenarios/hello-task.yaml", "--seeds", "9..1"], "seeds"),
        (["verify", "no/such/recording.sqlite"], "no/such/recording.sqlite"),
        (["frobnicate"], "frobnicate"),
    ])
    func badUsageExitsTwoNamingTheProblem(_ arguments: [String], _ named: String) async throws {
        let result = try await Self.golemSim(arguments)
        #expect(result.status == 2, "\(arguments): exit \(result.status) \(result.stderr)")
        #expect(result.stderr.contains(named), "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty, "\(arguments): \(result.stdout)")
    }

    @Test func anInvalidScenarioExitsTwoWithTheFileLineAndKey() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "name: broken\nproviders:\n  - name: p\n    command-duration: soon\n".write(to: dir.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)
        for command in ["run", "validate"] {
            let result = try await Self.golemSim([command, "broken.yaml"], in: dir)
            #expect(result.status == 2)
            #expect(result.stderr.contains("broken.yaml:4") && result.stderr.contains("command-duration"), "\(command): \(result.stderr)")
        }
    }

    @Test(arguments: [["--help"], ["run", "--help"], ["serve", "--help"], ["sweep", "--help"], ["provide", "--help"]])
    func helpIsGolden(_ arguments: [String]) async throws {
        let result = try await Self.golemSim(arguments)
        #expect(result.status == 0)
        let name = (["golem-sim"] + arguments.dropLast()).joined(separator: "-") + ".txt"
        let golden = Self.packageRoot.appendingPathComponent("Tests/GolemTests/Fixtures/cli/\(name)")
        if ProcessInfo.processInfo.environment["GOLEM_SIM_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
            try result.stdout.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(result.stdout == expected, "golem-sim \(arguments.joined(separator: " ")) changed; if that is meant, GOLEM_SIM_UPDATE_GOLDEN=1 writes \(name) anew")
    }
}
