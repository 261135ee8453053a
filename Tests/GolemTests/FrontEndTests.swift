import Foundation
import GolemTime
import Logging
import SimulatorServer
import Synchronization
import Testing
import YagnaAPI
import YagnaHTTP
import YagnaSimulator

/// One body over both front ends: the in-process transport in virtual time, and a live
/// Hummingbird server on port 0 through the HTTP transport.
enum FrontEnd: String, CaseIterable, Sendable {
    case inProcess, http

    func run(_ scenario: Scenario, _ body: @escaping @Sendable (any Transport, any GolemClock) async throws -> Void) async throws {
        switch self {
        case .inProcess:
            let simulation = Simulation()
            try await simulation.runDetached { clock in
                let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
                try await body(InProcessTransport(node: node), clock)
            }
        case .http:
            try await Self.withHTTPNode(scenario) { _, transport, clock in try await body(transport, clock) }
        }
    }

    /// A live Hummingbird server on port 0 over a node in real time, and an HTTP transport to it.
    static func withHTTPNode(
        _ scenario: Scenario, _ body: @escaping @Sendable (SimulatedNode, any Transport, any GolemClock) async throws -> Void
    ) async throws {
        let clock = SystemClock(speed: 1)
        let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
        let (ports, sink) = AsyncStream<Int>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { sink.finish() }  // a server that fails before it listens ends the wait for its port
                var logger = Logger(label: "test-node")
                logger.logLevel = .critical
                try await SimulatorServer.run(node: node, port: 0, logger: logger, handleSignals: false) { sink.yield($0) }
            }
            var it = ports.makeAsyncIterator()
            let port = try #require(await it.next())
            var endpoints = YagnaEndpoints(apiURL: "http://127.0.0.1:\(port)", appKey: "k")
            endpoints.registry = "http://127.0.0.1:\(port)"  // the node serves the registry too
            try await HTTPTransport.withTransport(endpoints: endpoints) { try await body(node, $0, clock) }
            group.cancelAll()
        }
    }
}

func fastScenario() throws -> Scenario {
    try Scenario.parse(yaml: """
        name: api
        providers:
          - name: p
            offer-delay: 10ms
            response-delay: 10ms
            deploy-duration: 50ms
            command-duration: 20ms
            invoice-delay: 10ms
            debit-note-interval: none
        """)
}

/// Sends a raw request and returns the status (for bodies the typed clients would refuse).
func raw(_ t: any Transport, _ service: YagnaService, _ method: HTTPMethod, _ path: String, _ body: String?) async throws -> Int {
    try await t.send(YagnaRequest(
        operation: "raw", service: service, method: method, path: path, headers: [Header("Content-Type", "application/json")],
        body: body.map { Array($0.utf8) })).status
}

func code(_ body: () async throws -> Void) async -> YagnaError.Code? {
    do { try await body(); return nil } catch let e as YagnaError { return e.code } catch { return nil }
}

@Suite struct FrontEndTests {
    @Test(arguments: FrontEnd.allCases)
    func wholeRequestorFlow(frontEnd: FrontEnd) async throws {
        try await frontEnd.run(try fastScenario()) { transport, clock in
            let y = YagnaClient(transport: transport)
            let me = try await y.identity.me()
            let allocation = try await y.payment.createAllocation(NewAllocation(totalAmount: 1, address: me.identity))
            #expect(allocation.remainingAmount == 1)
            let decoration = try await y.payment.demandDecorations(allocationIds: [allocation.allocationId])
            #expect(decoration.properties.allSatisfy { !$0.value.isEmpty })
            let demand = DemandBody(properties: ["golem.srv.caps.multi-activity": true, "golem.srv.comp.expiration": 4_102_444_800_000], constraints: "(&(golem.runtime.name=vm)(golem.inf.mem.gib>=0.5))")
            let sub = try await y.market.subscribe(demand)
            #expect(sub.count == 32 + 1 + 64)
            // The offer, then our counter and the provider's Draft.
            var offer: Proposal?
            for _ in 0..<30 where offer == nil {
                for case .proposal(_, let p) in try await y.market.events(sub, timeout: .seconds(1)) { offer = p }
            }
            try #require(offer != nil, "no offer within 30 polls")
            #expect(offer?.state == .initial && offer?.prevProposalId == nil)
            #expect(offer?.properties["golem.com.pricing.model.linear.coeffs"]?.arrayValue?.allSatisfy { $0 != .null } == true)
            // Creating an agreement from an Initial offer is refused: counter first.
            #expect(await code { _ = try await y.market.createAgreement(AgreementProposal(proposalId: offer!.proposalId, validTo: WireTimestamp(clock.now.addingTimeInterval(3600)))) } == .badRequest)
            // The counter names the payment platform, as real requestors do (without it the
            // provider could not invoice).
            var counter = demand
            counter.properties["golem.com.payment.chosen-platform"] = "erc20-holesky-tglm"
            let counterId = try await y.market.counter(sub, proposalId: offer!.proposalId, with: counter)
            #expect(await code { _ = try await y.market.counter(sub, proposalId: offer!.proposalId, with: counter) } == .gone)
            var draft: Proposal?
            for _ in 0..<30 where draft == nil {
                for case .proposal(_, let p) in try await y.market.events(sub, timeout: .seconds(1)) { draft = p }
            }
            try #require(draft != nil, "no draft within 30 polls")
            #expect(draft?.state == .draft && draft?.prevProposalId == counterId)
            let agreementId = try await y.market.createAgreement(AgreementProposal(proposalId: draft!.proposalId, validTo: WireTimestamp(clock.now.addingTimeInterval(3600))))
            #expect(await code { try await y.market.waitForApproval(agreementId, timeout: .seconds(1)) } == .badRequest)
            try await y.market.confirmAgreement(agreementId)
            try await y.market.waitForApproval(agreementId, timeout: .seconds(5))
            #expect(try await y.market.agreement(agreementId).state == .approved)
            // Both activity-creation forms.
            let activityId = try await y.activity.create(.legacy(agreementId: agreementId))
            let second = try await y.activity.create(.object(agreementId: agreementId, requestorPubKey: nil, unknownFields: UnknownFields()))
            #expect(activityId.count == 32 && second.count == 32 && activityId != second)
            let setup = try await y.activity.exec(activityId, commands: [.deploy(DeployCommand()), .start(StartCommand())])
            var results: [ExeScriptCommandResult] = []
            for _ in 0..<30 where results.last?.isBatchFinished != true { results = try await y.activity.results(activityId, batchId: setup, timeout: .seconds(5)) }
            #expect(results.map(\.result) == [.ok, .ok])
            #expect(try await y.activity.state(activityId).current == .ready)
            // commandIndex: waits for that command; output only for it; 408 if it does not finish in time.
            // (On the second activity, so the slow command holds nothing else up.)
            let run = try await y.activity.exec(second, commands: [
                .deploy(DeployCommand()), .start(StartCommand()),
                .run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "echo one"], capture: .atEnd)),
                .run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "sleep 3600; echo two"], capture: .atEnd)),
            ])
            let first = try await y.activity.results(second, batchId: run, timeout: .seconds(5), commandIndex: 2)
            #expect(first.count == 3 && first[2].stdout == .text("one\n") && first[2].isBatchFinished && first[0].stdout == nil)
            #expect(await code { _ = try await y.activity.results(second, batchId: run, timeout: .milliseconds(100), commandIndex: 3) } == .timeout)
            // SSE: the stream of a finished batch replays its frames.
            let echo = try await y.activity.exec(activityId, commands: [.run(RunCommand(entryPoint: "/bin/echo", args: ["streamed"], capture: .stream))])
            var kinds: [RuntimeEventKind] = []
            for try await event in try await y.activity.streamResults(activityId, batchId: echo) { kinds.append(event.kind) }
            #expect(kinds.contains(.stdout(.text("streamed\n"))))
            #expect(kinds.last == .finished(returnCode: 0, message: nil))
            #expect(try await y.activity.usage(activityId).currentUsage?.count == 2)
            try await y.activity.destroy(activityId)
            try await y.activity.destroy(second)
            try await y.market.terminateAgreement(agreementId, reason: Reason(message: "done", extra: ["golem.requestor.code": "Success"]))
            #expect(await code { try await y.market.terminateAgreement(agreementId, reason: Reason(message: "again")) } == .gone)
            #expect(try await y.market.terminationReason(agreementId).terminator == .requestor)
            #expect(try await y.market.agreementEvents(timeout: .seconds(1)).map(\.eventType) == [.approved, .terminated])
            // The invoice: a wrong amount is refused, the exact one accepted.
            var invoiceId: String?
            for _ in 0..<30 where invoiceId == nil { invoiceId = try await y.payment.invoiceEvents(timeout: .seconds(1)).first?.invoiceId }
            try #require(invoiceId != nil, "no invoice within 30 s of virtual time")
            let invoice = try await y.payment.invoice(invoiceId!)
            #expect(invoice.agreementId == agreementId && invoice.amount > 0)
            #expect(await code { try await y.payment.acceptInvoice(invoiceId!, Acceptance(totalAmountAccepted: invoice.amount + 1, allocationId: allocation.allocationId)) } == .badRequest)
            try await y.payment.acceptInvoice(invoiceId!, Acceptance(totalAmountAccepted: invoice.amount, allocationId: allocation.allocationId))
            #expect(try await y.payment.allocation(allocation.allocationId).spentAmount == invoice.amount)
            #expect(await code { try await y.payment.rejectDebitNote("x", Rejection(rejectionReason: .badService, totalAmountAccepted: 0)) } == .notImplemented)
            try await y.market.unsubscribe(sub)
            #expect(await code { _ = try await y.market.events(sub) } == .notFound)
            try await y.payment.releaseAllocation(allocation.allocationId)
            #expect(await code { try await y.payment.releaseAllocation(allocation.allocationId) } == .gone)
        }
    }

    /// The older registry lookup yapapi's `vm.repo` once used: the download URL as text.
    @Test(arguments: FrontEnd.allCases)
    func olderRegistryLookupAnswersTheImageURL(frontEnd: FrontEnd) async throws {
        try await frontEnd.run(try fastScenario()) { t, _ in
            let request = YagnaRequest(operation: "raw", service: .root, method: .GET, path: "/image.abc123.link")
            let response = try await t.send(request)
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self).hasSuffix("/images/abc123.gvmi"))
        }
    }

    @Test(arguments: FrontEnd.allCases)
    func malformedRequestsGetYagnaShaped4xx(frontEnd: FrontEnd) async throws {
        try await frontEnd.run(try fastScenario()) { t, _ in
            let cases: [(YagnaService, HTTPMethod, String, String?)] = [
                (.market, .POST, "/demands", "{not json"),
                (.market, .POST, "/demands", #"{"properties":{},"constraints":"(&(a=b)"}"#),
                (.market, .POST, "/demands", #"{"properties":[]}"#),
                (.market, .GET, "/demands/nope/events", nil),
                (.market, .POST, "/agreements", #"{"proposalId":"nope","validTo":"2030-01-01T00:00:00Z"}"#),
                (.market, .POST, "/agreements/nope/confirm", nil),
                (.market, .GET, "/agreements/nope", nil),
                (.activity, .POST, "/activity", #""nope""#),
                (.activity, .POST, "/activity", "42"),
                (.activity, .POST, "/activity/nope/exec", #"{"text":"[]"}"#),
                (.activity, .GET, "/activity/nope/state", nil),
                (.payment, .POST, "/allocations", #"{"totalAmount":"lots"}"#),
                (.payment, .POST, "/allocations", #"{"totalAmount":"1","paymentPlatform":"erc20-nowhere-tglm"}"#),
                (.payment, .GET, "/allocations/nope", nil),
                (.payment, .POST, "/invoices/nope/accept", #"{"totalAmountAccepted":"1","allocationId":"a"}"#),
                (.payment, .GET, "/debitNoteEvents?timeout=soon", nil),
                (.market, .GET, "/no/such/endpoint", nil),
            ]
            for (service, method, path, body) in cases {
                var request = YagnaRequest(operation: "raw", service: service, method: method, path: path, headers: [Header("Content-Type", "application/json")], body: body.map { Array($0.utf8) })
                if let q = path.firstIndex(of: "?") {
                    request.path = String(path[..<q])
                    request.query = QueryItem.parse(path[path.index(after: q)...])
                }
                let response = try await t.send(request)
                let problem = daemonShapedProblem(response)
                #expect(problem == nil, "\(method) \(path): \(problem ?? "")")
            }
            #expect(try await raw(t, .root, .GET, "/me", nil) == 200)
        }
    }
}

/// Why an error answer is not one the daemon would give (`nil`: it is): a 4xx, or the 500 the
/// daemon's database lookup gives for an activity it does not know; with an ErrorMessage
/// (`{"message": …}`, null for payment's 404s), problem+json, an empty 404 for an unknown
/// endpoint, or serde's text/plain deserialisation error.
func daemonShapedProblem(_ response: YagnaResponse) -> String? {
    let text = String(decoding: response.body, as: UTF8.self)
    let daoError = response.status == 500 && text.contains("DAO error: Not found")
    guard (400..<500).contains(response.status) || daoError else { return "answered \(response.status) \(text)" }
    let json = try? JSONParser.parse(response.body)
    if json?["message"] != nil || json?["detail"] != nil { return nil }
    if response.header("Content-Type")?.hasPrefix("text/plain") == true && text.contains("deserialize error") { return nil }
    if response.status == 404 && response.body.isEmpty { return nil }
    return "gave no yagna-shaped body: \(text)"
}
