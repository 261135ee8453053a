import Foundation
import GolemExamples
import GolemRecording
import GolemTesting
import GolemTime
import Logging
import SimulatorServer
import Testing
import YagnaAPI
import YagnaHTTP
import YagnaSimulator

@Suite struct RecordingProxyTests {
    /// A requestor run through the proxy is recorded without its key, and replays strictly.
    @Test func aRunThroughTheProxyIsRecordedAndReplaysStrictly() async throws {
        let scenario = try shipped("hello-task")
        let node = SimulatedNode(scenario: scenario, seed: 1, clock: SystemClock(speed: 20), appKey: "proxy-test-key-123", files: InMemoryFileExchange())
        let path = temporaryFile("proxied.sqlite")
        let writer = try RecordingWriter(path: path, info: SessionInfo(created: "2026-01-01T00:00:00Z", source: .simulated))
        let logger: Logger = {
            var l = Logger(label: "test")
            l.logLevel = .critical
            return l
        }()
        let (ports, sink) = AsyncStream<Int>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { sink.finish() }  // a server that fails before it listens ends the wait for its port
                try await SimulatorServer.run(node: node, port: 0, logger: logger, handleSignals: false) { sink.yield($0) }
            }
            var it = ports.makeAsyncIterator()
            let nodePort = try #require(await it.next())
            group.addTask {
                defer { sink.finish() }
                try await RecordingProxy.run(
                    upstream: URL(string: "http://127.0.0.1:\(nodePort)")!, writer: writer, sanitizer: Sanitizer(), port: 0, logger: logger,
                    handleSignals: false
                ) { sink.yield($0) }
            }
            let proxyPort = try #require(await it.next())
            var endpoints = YagnaEndpoints(apiURL: "http://127.0.0.1:\(proxyPort)", appKey: "proxy-test-key-123")
            endpoints.registry = "http://127.0.0.1:\(proxyPort)"
            let environment = ["GOLEM_REGISTRY_URL": endpoints.registry]
            _ = try await HTTPTransport.withTransport(endpoints: endpoints) { transport in
                try await Examples.run("hello-task", arguments: [:], transport: transport, clock: SystemClock(), storage: nil, environment: environment) { _ in }
            }
            group.cancelAll()
        }
        try writer.finish()
        let recording = try Recording.open(path)
        let served = node.journal
        // Every exchange the node served went through the proxy and was committed.
        #expect(recording.exchanges.count == served.count)
        #expect(Set(recording.exchanges.map(\.path)) == Set(served.map(\.path)))
        let raw = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(raw.range(of: Data("proxy-test-key-123".utf8)) == nil)
        // The only drift allowed: long polls still open when the node was stopped, which the proxy
        // answers 502 (and records).
        let drift = RecordingVerifier(recording).drift
        #expect(drift.allSatisfy { $0.kind == .unexpectedStatus && $0.detail.hasPrefix("status 502") }, "\(drift)")
        let replay = try await SimulatedNetwork.replay(recording.replayPlan, app: AppSpec(name: "hello-task"))
        #expect(replay.replay.isEmpty, "\(replay.replay)")
        #expect(replay.output.first == recording.analysis.events.first { $0.kind == .commandResult && $0.summary.contains("date") }?.details["stdout"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
