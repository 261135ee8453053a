public import GolemRequestor
public import YagnaAPI
public import GolemTime
public import Foundation

/// The example apps' logic, shared by their thin executables and by `golem-sim run`.
public enum Examples {
    /// The image the examples run (resolved through the registry).
    public static let image = VMPayload.image(hash: "d646d7b93083d817846c2ae5c62c72ca0507782385a2e29291a3d376")

    /// The names `golem-sim run` knows.
    public static let names = ["hello-task", "many-tasks", "file-transfer", "simple-service", "file-service"]

    /// hello-task: one task running `date` on one provider; returns its output.
    public static func helloTask(_ golem: Golem, print: @Sendable (String) -> Void) async throws -> String {
        let results = try await golem.executeTasks(["date"], payload: image, maxWorkers: 1, timeout: .seconds(300)) { ctx, task in
            let script = ctx.newScript()
            let date = script.run("/bin/sh", "-c", task.data)
            try await ctx.execute(script)
            return try await date.value.stdout ?? ""
        }
        let output = results.first?.value ?? ""
        print(output.hasSuffix("\n") ? String(output.dropLast()) : output)
        return output
    }

    /// many-tasks: `count` tasks spread over providers, each echoing its number; a try that takes
    /// longer than `taskTimeout` is given up and the task runs again elsewhere.
    public static func manyTasks(
        _ golem: Golem, count: Int, taskTimeout: Duration? = nil, print: @escaping @Sendable (String) -> Void
    ) async throws -> [String] {
        let results = try await golem.executeTasks(
            Array(0..<count), payload: image, maxWorkers: 5, maxAttempts: 5, taskTimeout: taskTimeout, timeout: .seconds(1800)
        ) { ctx, task in
            let script = ctx.newScript()
            let out = script.run("/bin/sh", "-c", "echo task \(task.data)")
            try await ctx.execute(script)
            let text = try await out.value.stdout ?? ""
            guard text.hasPrefix("task \(task.data)") else { throw TaskRejected("unexpected output: \(text)") }
            return text
        } onAccepted: { result in
            print("task \(result.id) done on \(result.provider) (attempt \(result.attempts))")
        }
        return results.map(\.value)
    }

    /// file-transfer: uploads bytes, runs a command on them, downloads the result.
    public static func fileTransfer(_ golem: Golem, print: @Sendable (String) -> Void) async throws -> [UInt8] {
        let input = Array("golem simulated file transfer\n".utf8)
        let results = try await golem.executeTasks([input], payload: image, maxWorkers: 1, timeout: .seconds(300)) { ctx, task in
            let script = ctx.newScript()
            script.sendBytes(task.data, to: "/golem/work/input.txt")
            script.run("/bin/sh", "-c", "cat /golem/work/input.txt > /golem/work/output.txt; echo done >> /golem/work/output.txt")
            let output = script.downloadBytes(from: "/golem/work/output.txt")
            try await ctx.execute(script)
            return try await output.value
        }
        let bytes = results.first?.value ?? []
        print("downloaded \(bytes.count) bytes: \(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\n", with: "⏎"))")
        return bytes
    }

    /// simple-service: instances that poll a stats command every few seconds while they run,
    /// like the seed's example; the cluster is stopped after `runningTime`.
    public static func simpleService(_ golem: Golem, instances: Int, runningTime: Duration, print: @escaping @Sendable (String) -> Void) async throws {
        var options = ServiceOptions()
        options.restartCondition = { _ in true }
        let clock = golem.clock
        _ = try await golem.runService(payload: image, numInstances: instances, options: options, make: { context in
            SimpleService(index: context.index, print: print)
        }) { cluster in
            try await clock.sleep(for: runningTime)
            for instance in await cluster.all {
                print("instance \(instance.index): \(instance.state.rawValue) on \(instance.providers.joined(separator: " → "))")
            }
        }
    }

    /// file-service: instances in a network (VPN) that move files both ways while they run:
    /// each gets a file at start, a new sample file every few seconds that it appends to a
    /// log, and the log is downloaded and checked against what was sent; at shutdown the whole
    /// log comes back. Stopped after `runningTime`.
    public static func fileService(_ golem: Golem, instances: Int, runningTime: Duration, print: @escaping @Sendable (String) -> Void) async throws {
        let network = try await golem.createNetwork("192.168.0.0/24")
        var options = ServiceOptions()
        options.network = network
        let clock = golem.clock
        _ = try await golem.runService(payload: image, numInstances: instances, options: options, make: { context in
            FileService(index: context.index, print: print)
        }) { cluster in
            try await clock.sleep(for: runningTime)
            for instance in await cluster.all {
                print("instance \(instance.index): \(instance.state.rawValue) at \(instance.networkAddress ?? "-") on \(instance.providers.joined(separator: " → "))")
            }
        }
        try await network.remove()
    }

    /// Runs an example by name with its arguments and prints the summary.
    public static func run(
        _ name: String, arguments: [String: String], transport: any Transport, clock: any GolemClock, storage: (any FileStorage)?,
        budget: Decimal = 1, environment: [String: String] = [:], print: @escaping @Sendable (String) -> Void
    ) async throws -> RunSummary {
        var configuration = GolemConfiguration(budget: budget)
        configuration.apply(environment: environment)
        if let wait = arguments["invoice-wait"].flatMap(Double.init) { configuration.invoiceWait = .milliseconds(Int64(wait * 1000)) }
        let summary = SummaryBox()
        configuration.onEvent = { summary.record($0) }
        try await Golem.withGolem(transport: transport, configuration: configuration, clock: clock, storage: storage) { golem in
            switch name {
            case "hello-task": _ = try await helloTask(golem, print: print)
            case "many-tasks":
                let taskTimeout = arguments["task-timeout"].flatMap(Double.init).map { Duration.milliseconds(Int64($0 * 1000)) }
                _ = try await manyTasks(golem, count: Int(arguments["tasks"] ?? "10") ?? 10, taskTimeout: taskTimeout, print: print)
            case "file-transfer": _ = try await fileTransfer(golem, print: print)
            case "file-service":
                try await fileService(
                    golem, instances: Int(arguments["instances"] ?? "1") ?? 1,
                    runningTime: .seconds(Int64(arguments["running-time"] ?? "30") ?? 30), print: print)
            case "simple-service":
                try await simpleService(
                    golem, instances: Int(arguments["instances"] ?? "1") ?? 1,
                    runningTime: .seconds(Int64(arguments["running-time"] ?? "30") ?? 30), print: print)
            default: throw UnknownExample(name: name)
            }
        }
        return summary.value
    }
}

/// An example name `run` does not know.
public struct UnknownExample: Error, CustomStringConvertible {
    public var name: String
    public init(name: String) { self.name = name }
    public var description: String { "unknown example '\(name)'; known: \(Examples.names.joined(separator: ", "))" }
}

import Synchronization

/// Collects the summary from the event callback, including the payments settled at shutdown.
final class SummaryBox: Sendable {
    private let m = Mutex(RunSummary())
    func record(_ e: GolemEvent) { m.withLock { $0.record(e) } }
    var value: RunSummary { m.withLock { $0 } }
}

/// The file-service example's service: uploads samples, appends them on the provider,
/// downloads the growing log and checks it.
public struct FileService: Service {
    public var index: Int
    public var print: @Sendable (String) -> Void

    /// What the log must hold after `count` samples.
    static func expected(_ index: Int, samples count: Int) -> String {
        "instance \(index) config\n" + (0..<count).map { "instance \(index) sample \($0)\n" }.joined()
    }

    public func start(_ ctx: WorkContext) async throws {
        let script = ctx.newScript()
        script.deploy(network: ctx.network.map { [$0.deploy] })
        script.start()
        script.sendBytes(Array("instance \(index) config\n".utf8), to: "/golem/work/config.txt")
        script.run("/bin/sh", "-c", "cat /golem/work/config.txt > /golem/work/log.txt")
        let address = script.run("/bin/sh", "-c", "hostname -I")
        try await ctx.execute(script)
        print("instance \(index) started on \(ctx.provider), network address \(trimmed(try await address.value.stdout))")
    }

    public func run(_ ctx: WorkContext) async throws {
        var samples = 0
        while true {
            try await ctx.sleep(for: .seconds(5))
            let script = ctx.newScript()
            script.sendBytes(Array("instance \(index) sample \(samples)\n".utf8), to: "/golem/work/sample.txt")
            script.run("/bin/sh", "-c", "cat /golem/work/sample.txt >> /golem/work/log.txt")
            let log = script.downloadBytes(from: "/golem/work/log.txt")
            try await ctx.execute(script)
            samples += 1
            let text = String(decoding: try await log.value, as: UTF8.self)
            guard text == Self.expected(index, samples: samples) else {
                throw LogMismatch(expected: Self.expected(index, samples: samples), got: text)
            }
            print("instance \(index): log holds \(samples) samples (\(text.utf8.count) bytes), checked")
        }
    }

    public func shutdown(_ ctx: WorkContext) async throws {
        let script = ctx.newScript()
        let log = script.downloadBytes(from: "/golem/work/log.txt")
        script.terminate()
        try await ctx.execute(script)
        print("instance \(index) stopped; final log \(try await log.value.count) bytes")
    }
}

/// The downloaded log is not what was sent.
public struct LogMismatch: Error, CustomStringConvertible {
    public var expected: String
    public var got: String
    public var description: String { "the downloaded log differs from what was sent: expected \(expected.debugDescription), got \(got.debugDescription)" }
}

/// The simple-service example's service: starts a simulated sensor, polls its stats.
public struct SimpleService: Service {
    public var index: Int
    public var print: @Sendable (String) -> Void

    public func start(_ ctx: WorkContext) async throws {
        let script = ctx.newScript()
        script.deploy()
        script.start()
        script.run("/golem/run/simulate_observations_ctl.py", "--start")
        try await ctx.execute(script)
    }

    public func run(_ ctx: WorkContext) async throws {
        while true {
            try await ctx.sleep(for: .seconds(5))
            let script = ctx.newScript()
            let stats = script.run("/golem/run/simple_service.py", "--stats")
            try await ctx.execute(script)
            print("instance \(index) stats: \(trimmed(try await stats.value.stdout))")
        }
    }

    public func shutdown(_ ctx: WorkContext) async throws {
        let script = ctx.newScript()
        script.run("/golem/run/simulate_observations_ctl.py", "--stop")
        script.terminate()
        try await ctx.execute(script)
    }
}

/// A command's output without the white space around it (`""` when it had none). Swift's own
/// `Character.isWhitespace` (spaces and line breaks): Foundation's `trimmingCharacters(in:)`
/// goes through `NSString` and is a visible share of a replay's time.
func trimmed(_ output: String?) -> String {
    guard let output else { return "" }
    guard let first = output.firstIndex(where: { !$0.isWhitespace }) else { return "" }
    let last = output.lastIndex(where: { !$0.isWhitespace })!
    return String(output[first...last])
}
