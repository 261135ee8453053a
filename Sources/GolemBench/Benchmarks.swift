import AsyncHTTPClient
public import Foundation
import GolemExamples
import GolemRecording
import GolemRequestor
import GolemTesting
import GolemTime
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import SimulatorServer
import YagnaAPI
import YagnaHTTP
import YagnaSimulator

/// The benchmark suite of `golem-sim bench`: what users feel, each figure beside its target
/// and, where the issue asks for one, a baseline measured in the same run.
public enum Benchmarks {
    /// Sizes of one run of the suite.
    public struct Sizes: Sendable {
        public var replayRepeats: Int
        public var sweepSeeds: Int
        public var pollRequests: Int
        public var pollConcurrency: Int
        public var proxyRequests: Int
        public var cpuTasks: Int
        public var cpuProviders: Int
        public var scaleTasks: Int
        public var scaleProviders: Int
        /// Requests to a served node whose resident memory is watched.
        public var memoryRequests: Int

        /// The suite as `BENCHMARKS.md` reports it.
        public static let full = Sizes(
            replayRepeats: 15, sweepSeeds: 2000, pollRequests: 20000, pollConcurrency: 8, proxyRequests: 3000, cpuTasks: 1000, cpuProviders: 20,
            scaleTasks: 10000, scaleProviders: 100, memoryRequests: 1_000_000)
        /// A smoke test for CI: every benchmark runs, at tiny sizes (its figures mean nothing).
        public static let quick = Sizes(
            replayRepeats: 1, sweepSeeds: 8, pollRequests: 200, pollConcurrency: 4, proxyRequests: 50, cpuTasks: 40, cpuProviders: 4,
            scaleTasks: 100, scaleProviders: 10, memoryRequests: 2000)
    }

    public static let names = ["scale", "replay", "exchange", "sweep", "polls", "proxy", "requestor-cpu", "serve-memory"]

    /// Runs the benchmarks named in `only` (all when empty); `root` is the repository (for
    /// `recordings/` and `scenarios/`); `executable` is `golem-sim` itself, started as the
    /// node of the over-HTTP requestor benchmark. `progress` hears each figure as it comes.
    public static func run(
        sizes: Sizes, only: Set<String> = [], root: String, executable: String, progress: @Sendable (BenchFigure) -> Void
    ) async throws -> [BenchFigure] {
        var figures: [BenchFigure] = []
        func add(_ new: [BenchFigure]) {
            for f in new { progress(f) }
            figures += new
        }
        func wanted(_ name: String) -> Bool { only.isEmpty || only.contains(name) }
        // First, while the process is small: its peak memory is the figure.
        if wanted("scale") { add(try await scale(tasks: sizes.scaleTasks, providers: sizes.scaleProviders)) }
        if wanted("replay") { add(try await replaySpeed(recording: root + "/recordings/service-10min.sqlite", repeats: sizes.replayRepeats)) }
        if wanted("exchange") { add(try await exchangeCost(requests: sizes.replayRepeats * 2000)) }
        if wanted("sweep") { add(try await sweepThroughput(scenario: root + "/scenarios/service-provider-dies.yaml", seeds: sizes.sweepSeeds)) }
        if wanted("polls") { add(try await pollThroughput(requests: sizes.pollRequests, concurrency: sizes.pollConcurrency)) }
        if wanted("proxy") { add(try await proxyOverhead(requests: sizes.proxyRequests)) }
        if wanted("requestor-cpu") {
            add(try await requestorCPUInProcess(tasks: sizes.cpuTasks, providers: sizes.cpuProviders))
            let swift = try await requestorCPUOverHTTP(tasks: sizes.cpuTasks, providers: sizes.cpuProviders, executable: executable)
            add(swift)
            // The baseline's failure (a broken Python, a missing script) is a figure not measured,
            // not the end of the suite.
            do {
                add(try await yapapiBaseline(tasks: sizes.cpuTasks, providers: sizes.cpuProviders, executable: executable, root: root, swift: swift.first))
            } catch {
                add([BenchFigure(name: "requestor CPU per task, Swift ÷ yapapi", value: .nan, unit: "", target: "≤ 0.1×", met: nil, detail: "not measured: \(error)")])
            }
        }
        if wanted("serve-memory") { add(try await serveMemory(requests: sizes.memoryRequests, executable: executable)) }
        return figures
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    // MARK: - Tasks

    static func taskScenario(providers: Int) -> Scenario {
        Scenario(name: "bench-\(providers)-providers", providers: (1...providers).map { ProviderSpec(name: "p\($0)") })
    }

    /// `count` one-command tasks with one worker per provider; returns how many were accepted.
    static func runTasks(_ golem: Golem, count: Int, workers: Int) async throws -> Int {
        let results = try await golem.executeTasks(
            Array(0..<count), payload: Examples.image, maxWorkers: workers, maxAttempts: 3, timeout: .seconds(24 * 3600)
        ) { ctx, task in
            let script = ctx.newScript()
            let out = script.run("/bin/sh", "-c", "echo \(task.data)")
            try await ctx.execute(script)
            return try await out.value.stdout ?? ""
        }
        return results.count
    }

    static func scale(tasks: Int, providers: Int) async throws -> [BenchFigure] {
        let resetOK = Measure.resetPeakMemory()
        let start = Measure.now()
        let accepted = AcceptedCount()
        let report = try await SimulatedNetwork.run(scenario: taskScenario(providers: providers), configuration: GolemConfiguration(budget: 1000)) { golem in
            accepted.set(try await runTasks(golem, count: tasks, workers: providers))
        }
        let wall = Measure.seconds(since: start)
        guard report.passed, accepted.value == tasks else {
            throw Failure(description: "scale: the run failed (\(accepted.value) of \(tasks) tasks accepted): \(report.failures.prefix(3))")
        }
        let peak = Double(Measure.peakMemoryBytes()) / 1_048_576
        let how = "\(tasks) tasks over \(providers) providers in-process, \(Int(report.virtualSeconds)) virtual s, \(report.journal.count) exchanges"
        return [
            BenchFigure(name: "scale: wall time", value: wall, unit: "s", target: "< 10 s", met: wall < 10, detail: how),
            BenchFigure(
                name: "scale: peak memory", value: peak, unit: "MB", target: "< 300 MB", met: peak < 300,
                detail: resetOK ? "peak resident set during the run (VmHWM after clear_refs)" : "peak resident set of the process (ru_maxrss)"),
        ]
    }

    static func requestorCPUInProcess(tasks: Int, providers: Int) async throws -> [BenchFigure] {
        let cpu0 = Measure.cpuSeconds()
        let accepted = AcceptedCount()
        let report = try await SimulatedNetwork.run(scenario: taskScenario(providers: providers), configuration: GolemConfiguration(budget: 100)) { golem in
            accepted.set(try await runTasks(golem, count: tasks, workers: providers))
        }
        let cpu = Measure.cpuSeconds() - cpu0
        guard report.passed, accepted.value == tasks else { throw Failure(description: "requestor-cpu: the in-process run failed: \(report.failures.prefix(3))") }
        return [BenchFigure(
            name: "requestor CPU per task, in-process", value: cpu / Double(tasks) * 1e6, unit: "µs",
            detail: String(format: "%d tasks over %d providers, %.1f exchanges per task; requestor and simulated node share the thread, so this counts both",
                tasks, providers, Double(report.journal.count) / Double(tasks)))]
    }

    /// A fresh temporary directory for one benchmark.
    static func benchDirectory(_ prefix: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// `golem-sim serve --speed 20` in another process with `providers` healthy providers.
    static func taskNode(providers: Int, executable: String, directory dir: URL) throws -> ChildNode {
        let scenarioPath = dir.appendingPathComponent("bench.yaml").path
        try "name: bench-http\nproviders:\n  - name: p\n    count: \(providers)\n    debit-note-interval: none\n".write(
            toFile: scenarioPath, atomically: true, encoding: .utf8)
        return try ChildNode(executable: executable, arguments: ["serve", "--scenario", scenarioPath, "--port", "0", "--speed", "20"], directory: dir)
    }

    static func requestorCPUOverHTTP(tasks: Int, providers: Int, executable: String) async throws -> [BenchFigure] {
        let dir = try benchDirectory("golem-bench")
        defer { try? FileManager.default.removeItem(at: dir) }
        let node = try taskNode(providers: providers, executable: executable, directory: dir)
        defer { node.stop() }
        var endpoints = YagnaEndpoints(apiURL: node.url, appKey: "golem-sim-dev-key")
        endpoints.registry = node.url
        let cpu0 = Measure.cpuSeconds()
        let start = Measure.now()
        let accepted = try await HTTPTransport.withTransport(endpoints: endpoints) { transport in
            try await Golem.withGolem(transport: transport, configuration: GolemConfiguration(budget: 100), clock: SystemClock(), storage: nil) { golem in
                try await runTasks(golem, count: tasks, workers: providers)
            }
        }
        let cpu = Measure.cpuSeconds() - cpu0
        let wall = Measure.seconds(since: start)
        guard accepted == tasks else { throw Failure(description: "requestor-cpu: \(accepted) of \(tasks) tasks accepted over HTTP") }
        return [BenchFigure(
            name: "requestor CPU per task, over HTTP", value: cpu / Double(tasks) * 1e6, unit: "µs",
            detail: String(format: "%d tasks over %d providers against `golem-sim serve --speed 20` in another process (%.1f s wall); this process runs only the requestor", tasks, providers, wall))]
    }

    /// A Python with yapapi 0.13.1: `GOLEM_SIM_BENCH_PYTHON`, or the interop check's environment.
    static func yapapiPython(root: String) -> String? {
        let candidates = [ProcessInfo.processInfo.environment["GOLEM_SIM_BENCH_PYTHON"], root + "/.build/interop-venv/bin/python"].compactMap { $0 }
        for python in candidates where FileManager.default.isExecutableFile(atPath: python) {
            let check = Process()
            check.executableURL = URL(fileURLWithPath: python)
            check.arguments = ["-c", "import yapapi, sys; sys.exit(0 if yapapi.__version__ == '0.13.1' else 1)"]
            check.standardOutput = FileHandle.nullDevice
            check.standardError = FileHandle.nullDevice
            guard (try? check.run()) != nil else { continue }
            check.waitUntilExit()
            if check.terminationStatus == 0 { return python }
        }
        return nil
    }

    /// The same job on yapapi 0.13.1 against the same kind of node, its CPU time read from the
    /// child's resource usage; the ratio is the Swift requestor's CPU per task over yapapi's.
    static func yapapiBaseline(tasks: Int, providers: Int, executable: String, root: String, swift: BenchFigure?) async throws -> [BenchFigure] {
        guard let python = yapapiPython(root: root) else {
            return [BenchFigure(
                name: "requestor CPU per task, Swift ÷ yapapi", value: .nan, unit: "", target: "≤ 0.1", met: nil,
                detail: "not measured: no Python with yapapi 0.13.1 (set GOLEM_SIM_BENCH_PYTHON, or run Tests/Interop/run.sh once to make .build/interop-venv)")]
        }
        let dir = try benchDirectory("golem-bench-yapapi")
        defer { try? FileManager.default.removeItem(at: dir) }
        let node = try taskNode(providers: providers, executable: executable, directory: dir)
        defer { node.stop() }
        let app = Process()
        app.executableURL = URL(fileURLWithPath: python)
        app.arguments = [root + "/scripts/bench/yapapi_tasks.py", String(tasks), String(providers)]
        var environment = ProcessInfo.processInfo.environment
        environment["YAGNA_API_URL"] = node.url
        environment["YAGNA_APPKEY"] = "golem-sim-dev-key"
        environment["GOLEM_REGISTRY_URL"] = node.url
        environment["GOLEM_SIM_GFTP_DIR"] = dir.appendingPathComponent("gftp").path
        // yapapi runs `gftp` for its storage: the stand-in built beside golem-sim.
        let binDirectory = URL(fileURLWithPath: executable).deletingLastPathComponent().path
        guard FileManager.default.isExecutableFile(atPath: binDirectory + "/gftp") else {
            throw Failure(description: "no gftp stand-in beside \(executable) (swift build --product gftp, in the same configuration)")
        }
        environment["PATH"] = binDirectory + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        app.environment = environment
        let out = Pipe()
        app.standardOutput = out
        app.standardError = FileHandle.nullDevice
        let before = Measure.childrenCPUSeconds()
        let start = Measure.now()
        try app.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        app.waitUntilExit()
        let wall = Measure.seconds(since: start)
        let cpu = Measure.childrenCPUSeconds() - before
        guard app.terminationStatus == 0, text.contains("accepted \(tasks)") else {
            throw Failure(description: "requestor-cpu: yapapi's run failed (exit \(app.terminationStatus)): \(text.suffix(300))")
        }
        let perTask = cpu / Double(tasks) * 1e6
        var figures = [BenchFigure(
            name: "requestor CPU per task, yapapi 0.13.1 over HTTP", value: perTask, unit: "µs",
            detail: String(format: "the same %d tasks over %d providers on unmodified yapapi (%@) against another `golem-sim serve --speed 20` (%.1f s wall)", tasks, providers, python, wall))]
        if let swift {
            let ratio = swift.value / perTask
            figures.append(BenchFigure(
                name: "requestor CPU per task, Swift ÷ yapapi", value: ratio, unit: "×", target: "≤ 0.1×", met: ratio <= 0.1,
                detail: String(format: "%.0f µs vs %.0f µs per task, measured in this run", swift.value, perTask)))
        }
        return figures
    }

    // MARK: - Replay and sweep

    static func replaySpeed(recording path: String, repeats: Int) async throws -> [BenchFigure] {
        let recording = try Recording.open(path)
        let recordedSeconds = Double(recording.duration) / 1e9
        let plan = recording.replayPlan
        let app = AppSpec(name: "simple-service", arguments: ["instances": "1", "running-time": "600"])
        var walls: [Double] = []
        // One unmeasured run first: the first pays for one-time runtime set-up (metadata, caches).
        let first = try await SimulatedNetwork.replay(plan, app: app)
        for _ in 0..<max(1, repeats) {
            let start = Measure.now()
            let report = try await SimulatedNetwork.replay(plan, app: app)
            walls.append(Measure.seconds(since: start))
            guard report.passed, report.replay.isEmpty else {
                throw Failure(description: "replay: \(path) did not replay cleanly: \((report.failures + report.replay).prefix(3))")
            }
        }
        let median = walls.sorted()[walls.count / 2]
        let speed = recordedSeconds / median
        return [BenchFigure(
            name: "replay speed", value: speed, unit: "× real time", target: "≥ 50000×", met: speed >= 50000,
            detail: String(format: "recordings/service-10min.sqlite: %.0f s recorded, %d exchanges; replayed strictly in-process in %.1f ms (median of %d runs; fastest %.1f ms, slowest %.1f ms); %d exchanges replayed, %.1f async jobs each; Swift runtime linked %@",
                recordedSeconds, recording.exchanges.count, median * 1000, walls.count, walls.min()! * 1000, walls.max()! * 1000,
                first.journal.count, Double(first.jobs) / Double(max(1, first.journal.count)), runtimeLinkedStatically ? "statically" : "dynamically"))]
    }

    /// Whether this process carries the Swift runtime in its own binary (built with
    /// `--static-swift-stdlib`) rather than loading `libswiftCore.so`: calls into the runtime are
    /// then direct, about 12 % off a replay.
    public static var runtimeLinkedStatically: Bool {
        #if os(Linux)
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return false }
        return !maps.contains("libswiftCore.so")
        #else
        return false
        #endif
    }

    /// The cost of one in-process exchange on its own: a payment-events poll that finds nothing,
    /// answered at once (`timeout=0`) or after waiting its second out in virtual time.
    static func exchangeCost(requests: Int) async throws -> [BenchFigure] {
        var figures: [BenchFigure] = []
        for timeout in [Duration.zero, .seconds(1)] {
            let simulation = Simulation()
            let start = Measure.now()
            let count = try await simulation.runDetached { clock in
                let node = SimulatedNode(scenario: Scenario(name: "bench-exchange", providers: []), seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
                let y = YagnaClient(transport: InProcessTransport(node: node))
                let after = WireTimestamp(clock.now)
                for _ in 0..<requests { _ = try await y.payment.debitNoteEvents(afterTimestamp: after, timeout: timeout) }
                return node.exchangeCount
            }
            let wall = Measure.seconds(since: start)
            guard count == requests else { throw BenchError(description: "exchange cost: \(count) of \(requests) exchanges served") }
            let micro = wall / Double(requests) * 1e6
            figures.append(BenchFigure(
                name: "in-process exchange, timeout \(timeout == .zero ? "0" : "1 s")", value: micro, unit: "µs", target: "", met: nil,
                detail: String(format: "%d payment.getDebitNoteEvents polls that find nothing, one after another; %.0f async jobs each", requests, Double(simulation.statistics.jobs) / Double(requests))))
        }
        return figures
    }

    static func sweepThroughput(scenario path: String, seeds: Int) async throws -> [BenchFigure] {
        let scenario = try Scenario.load(file: path)
        let jobs = ProcessInfo.processInfo.activeProcessorCount
        let start = Measure.now()
        let results = await SimulatedNetwork.sweep(scenario: scenario, seeds: 1...UInt64(seeds), jobs: jobs)
        let wall = Measure.seconds(since: start)
        // Every seed must have come back, or the figure measures nothing.
        guard results.count == seeds else {
            throw BenchError(description: "sweep throughput: \(results.count) of \(seeds) seeds reported a result")
        }
        let failed = results.values.filter { if case .success(let r) = $0 { return !r.passed } else { return true } }.count
        let perMinute = Double(seeds) / wall * 60
        let reports = results.values.compactMap { try? $0.get() }
        let exchanges = reports.reduce(0) { $0 + $1.exchangeCount }, runJobs = reports.reduce(0) { $0 + $1.jobs }
        return [BenchFigure(
            name: "sweep throughput", value: perMinute, unit: "runs/min", target: "≥ 40000", met: perMinute >= 40000,
            detail: String(format: "scenarios/service-provider-dies.yaml, seeds 1..%d in one process, %d at once: %.2f s wall (%d failing seeds); %.1f exchanges per run, %.1f async jobs per exchange",
                seeds, jobs, wall, failed, Double(exchanges) / Double(max(1, reports.count)), Double(runJobs) / Double(max(1, exchanges))))]
    }

    // MARK: - HTTP

    /// The node behind `handle`, set up with a demand and a finished batch to poll.
    struct PollTargets {
        var demandEvents: String
        var execResults: String
    }

    static func preparedNode() async throws -> (SimulatedNode, PollTargets) {
        var provider = ProviderSpec(name: "p")
        provider.offerDelay = .milliseconds(1)
        provider.responseDelay = .milliseconds(1)
        provider.deployDuration = .milliseconds(1)
        provider.commandDuration = .milliseconds(1)
        provider.debitNoteInterval = nil
        let clock = SystemClock()
        let node = SimulatedNode(scenario: Scenario(name: "bench-polls", providers: [provider]), seed: 1, clock: clock, appKey: "bench-key", files: InMemoryFileExchange())
        return (node, try await pollTargets(YagnaClient(transport: InProcessTransport(node: node)), clock: clock))
    }

    /// A demand and a finished batch on the node behind `y`, to poll.
    static func pollTargets(_ y: YagnaClient, clock: any GolemClock) async throws -> PollTargets {
        let (sub, activity) = try await y.approvedActivity(clock: clock)
        let batch = try await y.activity.exec(activity, commands: [
            .deploy(DeployCommand()), .start(StartCommand()), .run(RunCommand(entryPoint: "/bin/echo", args: ["polled"], capture: .atEnd)),
        ])
        var results: [ExeScriptCommandResult] = []
        while results.last?.isBatchFinished != true { results = try await y.activity.results(activity, batchId: batch, timeout: .seconds(5)) }
        return PollTargets(
            demandEvents: "/market-api/v1/demands/\(sub)/events?timeout=0&maxEvents=5",
            execResults: "/activity-api/v1/activity/\(activity)/exec/\(batch)?timeout=0")
    }

    /// Serves `node` and runs `body` with its base URL.
    static func serving<T: Sendable>(_ node: SimulatedNode, _ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        try await withPort({ onPort in
            var logger = Logger(label: "bench-node")
            logger.logLevel = .critical
            try await SimulatorServer.run(node: node, port: 0, logger: logger, handleSignals: false, onListening: onPort)
        }, body)
    }

    /// Runs a server started by `serve` (which reports its port) beside `body`, then stops it.
    static func withPort<T: Sendable>(
        _ serve: @escaping @Sendable (@escaping @Sendable (Int) async -> Void) async throws -> Void, _ body: @escaping @Sendable (String) async throws -> T
    ) async throws -> T {
        let (ports, sink) = AsyncStream<Int>.makeStream()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                // A server that fails before it listens ends the wait for its port.
                defer { sink.finish() }
                try await serve { sink.yield($0) }
                return nil
            }
            var it = ports.makeAsyncIterator()
            guard let port = await it.next() else { throw Failure(description: "the server did not start") }
            let value = try await body("http://127.0.0.1:\(port)")
            group.cancelAll()
            while let _ = try? await group.next() {}
            return value
        }
    }

    /// `requests` GETs of `url` over `concurrency` connections: requests per second and the
    /// latencies (ns).
    static func load(_ client: HTTPClient, url: String, key: String?, requests: Int, concurrency: Int) async throws -> (perSecond: Double, latencies: [UInt64], body: [UInt8]) {
        let start = Measure.now()
        let per = max(1, requests / concurrency)
        let collected = try await withThrowingTaskGroup(of: ([UInt64], [UInt8]).self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var samples: [UInt64] = []
                    samples.reserveCapacity(per)
                    var last: [UInt8] = []
                    for _ in 0..<per {
                        var request = HTTPClientRequest(url: url)
                        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
                        let t0 = Measure.now()
                        let response = try await client.execute(request, timeout: .seconds(30))
                        let body = try await response.body.collect(upTo: 1 << 20)
                        samples.append(Measure.now() - t0)
                        guard response.status == .ok else {
                            throw Failure(description: "GET \(url) answered \(response.status.code): \(String(buffer: body))")
                        }
                        last = Array(buffer: body)
                    }
                    return (samples, last)
                }
            }
            var all: [UInt64] = []
            var body: [UInt8] = []
            for try await (samples, last) in group {
                all += samples
                body = last
            }
            return (all, body)
        }
        let wall = Measure.seconds(since: start)
        return (Double(collected.0.count) / wall, collected.0, collected.1)
    }

    /// Runs `body` with an HTTP client of `connections` connections per host, then shuts it down.
    static func withClient<T: Sendable>(connections: Int, _ body: (HTTPClient) async throws -> T) async throws -> T {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let value = try await body(client)
            try await client.shutdown()
            return value
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    static func pollThroughput(requests: Int, concurrency: Int) async throws -> [BenchFigure] {
        let (node, targets) = try await preparedNode()
        return try await withClient(connections: concurrency) { client in try await pollThroughput(node, targets, client, requests: requests, concurrency: concurrency) }
    }

    static func pollThroughput(_ node: SimulatedNode, _ targets: PollTargets, _ client: HTTPClient, requests: Int, concurrency: Int) async throws -> [BenchFigure] {
        var figures: [BenchFigure] = []
        for (label, path) in [("demand-event polls", targets.demandEvents), ("exec-result polls", targets.execResults)] {
            let sim = try await serving(node) { base in
                _ = try await load(client, url: base + path, key: "bench-key", requests: min(200, requests), concurrency: concurrency)  // warm-up
                return try await load(client, url: base + path, key: "bench-key", requests: requests, concurrency: concurrency)
            }
            // The baseline: a bare Hummingbird route answering the same bytes.
            let body = sim.body
            let bare = try await withPort({ onPort in
                let router = Router()
                router.get(RouterPath(String(path.split(separator: "?")[0]))) { _, _ in
                    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
                }
                var logger = Logger(label: "bench-bare")
                logger.logLevel = .critical
                let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { channel in
                    await onPort(channel.localAddress?.port ?? 0)
                }, logger: logger)
                try await StoppingServers.run(app, handleSignals: false, logger: logger)
            }) { base in
                _ = try await load(client, url: base + path, key: nil, requests: min(200, requests), concurrency: concurrency)
                return try await load(client, url: base + path, key: nil, requests: requests, concurrency: concurrency)
            }
            let ratio = sim.perSecond / bare.perSecond
            figures.append(BenchFigure(
                name: "\(label): simulator ÷ bare route", value: ratio, unit: "×", target: "≥ 0.7×", met: ratio >= 0.7,
                detail: String(format: "%.0f vs %.0f requests/s; p50 %.0f vs %.0f µs, p99 %.0f vs %.0f µs; %d requests over %d connections, same body (%d bytes)",
                    sim.perSecond, bare.perSecond,
                    Double(Measure.percentile(sim.latencies, 50)) / 1000, Double(Measure.percentile(bare.latencies, 50)) / 1000,
                    Double(Measure.percentile(sim.latencies, 99)) / 1000, Double(Measure.percentile(bare.latencies, 99)) / 1000,
                    sim.latencies.count, concurrency, body.count)))
        }
        return figures
    }

    // MARK: - Memory

    /// `golem-sim serve` in another process under a polling app (demand-event and exec-result
    /// polls, half each): its resident memory after a warm-up and after `requests` more, without
    /// `--journal` and with it (the journal streams to its file, which must hold every exchange).
    static func serveMemory(requests: Int, executable: String) async throws -> [BenchFigure] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("golem-bench-memory-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let scenarioPath = dir.appendingPathComponent("polls.yaml").path
        try """
            name: bench-memory
            providers:
              - {name: p, offer-delay: 1ms, response-delay: 1ms, deploy-duration: 1ms, command-duration: 1ms, debit-note-interval: none}
            """.write(toFile: scenarioPath, atomically: true, encoding: .utf8)
        let warmUp = min(20_000, max(200, requests / 50))
        var figures: [BenchFigure] = []
        for journal in [false, true] {
            let journalPath = dir.appendingPathComponent("journal-\(journal).sqlite").path
            let node = try ChildNode(
                executable: executable,
                arguments: ["serve", "--scenario", scenarioPath, "--port", "0", "--app-key", "bench-key"] + (journal ? ["--journal", journalPath] : []),
                directory: dir)
            defer { node.stop() }
            let endpoints = YagnaEndpoints(apiURL: node.url, appKey: "bench-key")
            let targets = try await HTTPTransport.withTransport(endpoints: endpoints) { transport in
                try await pollTargets(YagnaClient(transport: transport), clock: SystemClock())
            }
            let (before, after, served) = try await withClient(connections: 8) { client in
                func poll(_ count: Int) async throws -> Int {
                    var done = 0
                    for path in [targets.demandEvents, targets.execResults] {
                        done += try await load(client, url: node.url + path, key: "bench-key", requests: count / 2, concurrency: 8).latencies.count
                    }
                    return done
                }
                _ = try await poll(warmUp)
                let before = try node.residentBytes()
                // The journal variant needs fewer to show whether the file or the memory grows.
                let served = try await poll(journal ? max(1000, requests / 5) : requests)
                return (before, try node.residentBytes(), served)
            }
            let asked = journal ? max(1000, requests / 5) : requests
            guard served >= asked - 16 else { throw Failure(description: "serve-memory: \(served) of \(asked) polls answered") }
            node.stop()
            var detail = String(format: "`golem-sim serve`%@ in another process: %.1f MB resident after %d warm-up polls, %.1f MB after %d more (demand-event and exec-result polls over 8 connections)",
                journal ? " --journal" : "", Double(before) / 1e6, warmUp, Double(after) / 1e6, served)
            if journal {
                let recorded = try Recording.open(journalPath).exchanges.count
                guard recorded >= served + warmUp - 16 else { throw Failure(description: "serve-memory: the journal holds \(recorded) exchanges of \(served + warmUp)") }
                detail += "; the journal file holds all \(recorded) exchanges"
            }
            let growth = Double(after - before) / 1e6
            figures.append(BenchFigure(
                name: "serve memory growth\(journal ? ", with --journal" : "")", value: growth, unit: "MB",
                target: journal ? nil : "≤ 50 MB after 1 000 000 requests", met: journal ? nil : growth <= 50, detail: detail))
        }
        return figures
    }

    static func proxyOverhead(requests: Int) async throws -> [BenchFigure] {
        let (node, targets) = try await preparedNode()
        return try await withClient(connections: 1) { client in try await proxyOverhead(node, targets, client, requests: requests) }
    }

    static func proxyOverhead(_ node: SimulatedNode, _ targets: PollTargets, _ client: HTTPClient, requests: Int) async throws -> [BenchFigure] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("golem-bench-proxy-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try RecordingWriter(path: dir.appendingPathComponent("bench.sqlite").path, info: .simulated(start: Date(), scenario: "bench-polls", seed: 1))
        let path = targets.execResults
        let (direct, proxied) = try await serving(node) { base in
            let direct = try await load(client, url: base + path, key: "bench-key", requests: requests, concurrency: 1)
            let proxied = try await withPort({ onPort in
                var logger = Logger(label: "bench-proxy")
                logger.logLevel = .critical
                try await RecordingProxy.run(
                    upstream: URL(string: base)!, writer: writer, sanitizer: Sanitizer(), port: 0, logger: logger, handleSignals: false, onListening: onPort)
            }) { proxy in
                _ = try await load(client, url: proxy + path, key: "bench-key", requests: min(100, requests), concurrency: 1)  // warm-up
                return try await load(client, url: proxy + path, key: "bench-key", requests: requests, concurrency: 1)
            }
            return (direct, proxied)
        }
        let committed = (try? writer.read().exchanges.count) ?? 0
        try? writer.finish()
        let p50 = Double(Int64(Measure.percentile(proxied.latencies, 50)) - Int64(Measure.percentile(direct.latencies, 50))) / 1e6
        let p99 = Double(Int64(Measure.percentile(proxied.latencies, 99)) - Int64(Measure.percentile(direct.latencies, 99))) / 1e6
        let how = String(format: "exec-result polls one at a time, %d direct vs %d through `golem-sim record` (%d committed); direct p50 %.3f ms, p99 %.3f ms",
            direct.latencies.count, proxied.latencies.count, committed,
            Double(Measure.percentile(direct.latencies, 50)) / 1e6, Double(Measure.percentile(direct.latencies, 99)) / 1e6)
        return [
            BenchFigure(name: "recording proxy: added latency p50", value: p50, unit: "ms", target: "≤ 0.5 ms", met: p50 <= 0.5, detail: how),
            BenchFigure(name: "recording proxy: added latency p99", value: p99, unit: "ms", detail: "same runs"),
        ]
    }
}

import Synchronization

final class AcceptedCount: Sendable {
    private let m = Mutex(0)
    func set(_ v: Int) { m.withLock { $0 = v } }
    var value: Int { m.withLock { $0 } }
}

/// `golem-sim serve` in a child process, for benchmarks that keep the node's CPU out of theirs.
final class ChildNode: @unchecked Sendable {
    let process = Process()
    let url: String

    init(executable: String, arguments: [String], directory: URL) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GOLEM_SIM_GFTP_DIR"] = directory.appendingPathComponent("gftp").path
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("listening on ") || !text.hasSuffix("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { throw Benchmarks.Failure(description: "golem-sim serve exited before listening: \(text)") }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) else {
            throw Benchmarks.Failure(description: "golem-sim serve said: \(text)")
        }
        url = String(line.dropFirst("listening on ".count))
    }

    /// The child's resident set size now (Linux `VmRSS`).
    func residentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }), let kb = line.split(separator: " ").compactMap({ Int($0) }).first else {
            throw Benchmarks.Failure(description: "no VmRSS for process \(process.processIdentifier)")
        }
        return kb * 1024
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
