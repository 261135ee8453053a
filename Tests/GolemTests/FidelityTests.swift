import Foundation
import GolemFidelity
import GolemTime
import Testing
import YagnaAPI
import YagnaSimulator

/// The simulated node in-process, as a fidelity target (no sockets; long polls on virtual time).
struct InProcessFidelityTarget: FidelityTarget {
    let node: SimulatedNode
    var name: String { "golem-sim (in-process)" }

    func send(_ request: FidelityRequest) async throws -> FidelityResponse {
        let parts = request.target.split(separator: "?", maxSplits: 1)
        var headers: [Header] = []
        if let auth = request.authorization { headers.append(Header("Authorization", auth)) }
        if let type = request.contentType { headers.append(Header("Content-Type", type)) }
        let nodeRequest = NodeRequest(
            method: HTTPMethod(rawValue: request.method)!, path: String(parts[0]), query: parts.count > 1 ? QueryItem.parse(parts[1]) : [],
            headers: headers, body: Array((request.body ?? "").utf8))
        switch await node.handle(nodeRequest) {
        case .response(let r): return FidelityResponse(status: r.status, contentType: r.header("Content-Type"), body: r.body)
        case .drop: throw WalkError("\(request.method) \(request.target): the simulator dropped the connection")
        case .stream: throw WalkError("\(request.method) \(request.target): the simulator answered with a stream")
        }
    }
}

/// Runs the fidelity walk against the simulator in virtual time.
func walkSimulator() async throws -> [WalkResult] {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/fidelity/fidelity", withExtension: "yaml"))
    let scenario = try Scenario.load(file: url.path)
    return try await Simulation().runDetached { clock in
        let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "sim-key", files: InMemoryFileExchange())
        let runner = WalkRunner(target: InProcessFidelityTarget(node: node), provider: AutonomousProviders(), requestorKey: "sim-key", now: { clock.now })
        return try await runner.run(Walk.items)
    }
}

@Suite struct FidelityTests {
    @Test func simulatorAnswersAsTheRealDaemonRecorded() async throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/fidelity/real-yagna-0.17.6", withExtension: "json"))
        let fixture = try FidelityFixture.load(url.path)
        #expect(fixture.entries.count >= 100, "the fixture covers at least 100 requests")
        let results = try await walkSimulator()
        let report = FidelityReport.compare(real: fixture, simulator: results)
        #expect(report.passed, "\(report.summary)")
        #expect(report.compared >= 100)
    }

    /// A fresh daemon lists no requestor account until the first allocation; a scenario can start
    /// as a node whose payment account was set up (`yagna payment init`), as golem-core expects.
    @Test func requestorAccountsFollowTheNodesPaymentSetUp() async throws {
        for initialised in [false, true] {
            var scenario = try Scenario.parse(yaml: "name: accounts\nproviders:\n  - name: p\n")
            scenario.requestor.paymentInitialised = initialised
            let configured = scenario
            let accounts = try await Simulation().runDetached { clock in
                let node = SimulatedNode(scenario: configured, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
                return try await InProcessFidelityTarget(node: node).send(FidelityRequest(method: "GET", target: "/payment-api/v1/requestorAccounts", authorization: "Bearer k"))
            }
            #expect(accounts.status == 200)
            #expect(accounts.json?.arrayValue?.count == (initialised ? 1 : 0), "\(accounts.text)")
        }
        #expect(try Scenario.parse(yaml: "name: a\nrequestor: {payment-initialised: true}\nproviders:\n  - name: p\n").requestor.paymentInitialised)
    }

    @Test func formatsOfIdsAndTimes() {
        #expect(TextFormat.classify(String(repeating: "a", count: 32) + "-" + String(repeating: "b", count: 64)) == .subscription)
        #expect(TextFormat.classify("R-" + String(repeating: "c", count: 64)) == .proposal("R"))
        #expect(TextFormat.classify("P-" + String(repeating: "c", count: 64)) == .proposal("P"))
        #expect(TextFormat.classify("0x" + String(repeating: "1", count: 40)) == .address)
        #expect(TextFormat.classify("2026-11-29T00:23:45.123456789Z") == .timestamp(fraction: 9, zone: "Z"))
        #expect(TextFormat.classify("2026-11-29T00:23:45.123Z") == .timestamp(fraction: 3, zone: "Z"))
        #expect(TextFormat.classify("2026-11-29T00:23:45") == .timestamp(fraction: 0, zone: ""))
        #expect(TextFormat.classify("2026-11-29T00:23:45+00:00") == .timestamp(fraction: 0, zone: "+00:00"))
        #expect(TextFormat.classify("0.0012") == .decimal)
        #expect(TextFormat.classify("e0b8f5c2-0d1a-4e3b-9f00-123456789abc") == .uuid)
        #expect(TextFormat.classify("Approved") == .text)
        #expect(TextFormat.masked("Id 0xab has invalid format at line 1 column 7") == "Id 0xab has invalid format at line <n> column <n>")
    }

    func response(_ status: Int, _ body: String, type: String? = "application/json") -> FidelityResponse {
        FidelityResponse(status: status, contentType: type, body: Array(body.utf8))
    }

    @Test func comparisonFindsTheFirstDifferingPath() {
        let c = ShapeComparison()
        let id = String(repeating: "a", count: 64)
        #expect(c.compare(real: response(200, #"{"a":1,"b":"x"}"#), simulator: response(200, #"{"a":2,"b":"y"}"#)) == nil)
        #expect(c.compare(real: response(200, "{}"), simulator: response(201, "{}"))?.path == "status")
        #expect(c.compare(real: response(400, "x", type: "text/plain; charset=utf-8"), simulator: response(400, "x"))?.path == "content-type")
        #expect(c.compare(real: response(200, #"{"a":{"b":null}}"#), simulator: response(200, #"{"a":{}}"#))?.path == "$.a.b")
        #expect(c.compare(real: response(200, #"{"a":{"b":null}}"#), simulator: response(200, #"{"a":{"b":1}}"#))?.path == "$.a.b")
        #expect(c.compare(real: response(200, #"[{"id":"R-\#(id)"}]"#), simulator: response(200, #"[{"id":"\#(id)"}]"#))?.path == "$[0].id")
        #expect(c.compare(real: response(200, #"{"state":"Approved"}"#), simulator: response(200, #"{"state":"Pending"}"#))?.path == "$.state")
        #expect(c.compare(real: response(200, #"{"t":"2026-01-01T00:00:00.123456789Z"}"#), simulator: response(200, #"{"t":"2026-01-01T00:00:00.123Z"}"#))?.path == "$.t")
        #expect(c.compare(real: response(404, #"{"message":"Agreement not found: \#(id)"}"#), simulator: response(404, #"{"message":"Agreement not found: \#(String(repeating: "b", count: 64))"}"#)) == nil)
        #expect(c.compare(real: response(404, #"{"message":"Agreement not found"}"#), simulator: response(404, #"{"message":"no such agreement"}"#))?.path == "$.message")
        #expect(c.compare(real: response(200, "[]"), simulator: response(200, "[1]"))?.path == "$")
        #expect(c.compare(real: response(403, "", type: nil), simulator: response(403, "", type: nil)) == nil)
    }

    @Test func capturesFollowThePathLanguage() throws {
        let value = try JSONParser.parse(#"[{"eventType":"X","proposal":{"state":"Initial","id":"a"}},{"eventType":"ProposalEvent","proposal":{"state":"Draft","id":"b"}}]"#)
        #expect(try WalkRunnerProbe.fill("/a/{x}/b?{y}", ["x": "1", "y": "2"]) == "/a/1/b?2")
        #expect(throws: WalkError.self) { try WalkRunnerProbe.fill("/a/{missing}", [:]) }
        #expect(WalkRunnerProbe.select("$[proposal.state=Draft].proposal.id", value) == "b")
        #expect(WalkRunnerProbe.select("$[-1].eventType", value) == "ProposalEvent")
        #expect(WalkRunnerProbe.select("$[5]", value) == nil)
    }

    @Test func theWalkCoversEveryAPI() {
        let targets = Walk.items.compactMap { item -> String? in if case .request(let s) = item { s.target } else { nil } }
        #expect(targets.count >= 100)
        for prefix in ["/market-api/v1/", "/activity-api/v1/", "/payment-api/v1/", "/net-api/v1/", "/net-api/v2/", "/me", "/version/get"] {
            #expect(targets.contains { $0.hasPrefix(prefix) }, "the walk sends nothing to \(prefix)")
        }
        let names = Walk.items.compactMap { item -> String? in if case .request(let s) = item { s.name } else { nil } }
        #expect(Set(names).count == names.count, "every step has its own name")
    }
}
