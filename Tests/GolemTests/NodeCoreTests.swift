import Foundation
import GolemExamples
import GolemRequestor
import GolemTesting
import GolemTime
import Testing
import YagnaAPI
@testable import YagnaSimulator

/// The node's rules on their own: no clock, no await — requests and times in, answers out.
@Suite struct NodeCoreTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func core(_ yaml: String = "name: n\nproviders:\n  - name: p\n    offer-delay: 1s\n    response-delay: 2s\n") throws -> NodeCore {
        NodeCore(scenario: try Scenario.parse(yaml: yaml), seed: 1, appKey: "key", files: InMemoryFileExchange())
    }

    func request(_ method: HTTPMethod, _ path: String, _ body: String = "", query: [QueryItem] = [], headers json: Bool = false) -> NodeRequest {
        var headers = [Header("Authorization", "Bearer key")]
        if json { headers.append(Header("Content-Type", "application/json")) }
        return NodeRequest(method: method, path: path, query: query, headers: headers, body: Array(body.utf8))
    }

    func respond(_ outcome: NodeOutcome) -> YagnaResponse? {
        if case .respond(let r) = outcome { return r }
        return nil
    }

    func string(_ r: YagnaResponse?) -> String? { r.flatMap { try? JSONParser.parse($0.body) }?.stringValue }

    /// At `serve --speed 4`, deadlines a client sets in its wall-clock time keep their meaning:
    /// an agreement valid for 60 wall seconds after the node started lives 240 node seconds; an
    /// allocation timeout 30 wall seconds ahead is not "in the past" at node time +100 s.
    @Test func clientDeadlinesAreWallClockAtSpeed() throws {
        var node = try core()
        node.clientClock = (t0, 4)
        #expect(node.clientDeadline(t0.addingTimeInterval(60)) == t0.addingTimeInterval(240))
        let timeout = WireTimestamp(t0.addingTimeInterval(30)).text
        let allocation = respond(node.handle(request(.POST, "/payment-api/v1/allocations", #"{"totalAmount":"1","timeout":"\#(timeout)","makeDeposit":false}"#, headers: true), now: t0.addingTimeInterval(100)))
        #expect(allocation?.status == 201, "\(String(decoding: allocation?.body ?? [], as: UTF8.self))")
        // Without the mapping (the node's and the client's clocks are one), the same timeout has passed.
        node.clientClock = nil
        let refused = respond(node.handle(request(.POST, "/payment-api/v1/allocations", #"{"totalAmount":"1","timeout":"\#(timeout)","makeDeposit":false}"#, headers: true), now: t0.addingTimeInterval(100)))
        #expect(refused?.status == 400)
    }

    @Test func negotiationAndAgreementFollowTheSchedule() throws {
        var node = try core()
        let sub = string(respond(node.handle(request(.POST, "/market-api/v1/demands", #"{"properties":{},"constraints":"(golem.runtime.name=vm)"}"#), now: t0)))!
        // Nothing before the offer delay; the offer at 1 s, consumed once read.
        #expect(node.retry(.demandEvents(subscriptionId: sub, maxEvents: 10), now: t0.addingTimeInterval(0.5), final: false) == nil)
        #expect(node.nextScheduledTime == t0.addingTimeInterval(1))
        let events = node.retry(.demandEvents(subscriptionId: sub, maxEvents: 10), now: t0.addingTimeInterval(1), final: false)!
        let offer = try WireDecoder().decode([MarketEvent].self, from: events.body)
        guard case .proposal(_, let initial) = offer.first else { Issue.record("no offer"); return }
        #expect(node.retry(.demandEvents(subscriptionId: sub, maxEvents: 10), now: t0.addingTimeInterval(1), final: true)?.body == Array("[]".utf8))
        let counter = string(respond(node.handle(request(.POST, "/market-api/v1/demands/\(sub)/proposals/\(initial.proposalId)", #"{"properties":{"golem.srv.comp.expiration":4102444800000},"constraints":"()"}"#), now: t0.addingTimeInterval(1))))!
        let draftEvents = node.retry(.demandEvents(subscriptionId: sub, maxEvents: 10), now: t0.addingTimeInterval(3), final: false)!
        guard case .proposal(_, let draft) = try WireDecoder().decode([MarketEvent].self, from: draftEvents.body).first else { Issue.record("no draft"); return }
        #expect(draft.prevProposalId == counter && draft.state == .draft)
        let agreement = string(respond(node.handle(request(.POST, "/market-api/v1/agreements", #"{"proposalId":"\#(draft.proposalId)","validTo":"2030-01-01T00:00:00Z"}"#), now: t0.addingTimeInterval(3))))!
        #expect(respond(node.handle(request(.POST, "/market-api/v1/agreements/\(agreement)/confirm"), now: t0.addingTimeInterval(3)))?.status == 204)
        // Pending until the response delay, approved after it; a second confirm is refused.
        #expect(node.retry(.agreementApproval(agreementId: agreement), now: t0.addingTimeInterval(4), final: false) == nil)
        #expect(node.retry(.agreementApproval(agreementId: agreement), now: t0.addingTimeInterval(4), final: true)?.status == 408)
        #expect(node.retry(.agreementApproval(agreementId: agreement), now: t0.addingTimeInterval(5), final: false)?.status == 204)
        #expect(respond(node.handle(request(.POST, "/market-api/v1/agreements/\(agreement)/confirm"), now: t0.addingTimeInterval(5)))?.status == 410)
    }

    @Test func debitNotesComeOnTheIntervalAndStopWithTheActivity() throws {
        var node = try core("name: n\nproviders:\n  - name: p\n    offer-delay: 0s\n    response-delay: 0s\n    debit-note-interval: 10s\n")
        // Drive a session through the public API to get an activity.
        let sub = string(respond(node.handle(request(.POST, "/market-api/v1/demands", #"{"properties":{},"constraints":""}"#), now: t0)))!
        guard case .proposal(_, let initial) = try WireDecoder().decode([MarketEvent].self, from: node.retry(.demandEvents(subscriptionId: sub, maxEvents: 10), now: t0, final: true)!.body).first! else { return }
        _ = node.handle(request(.POST, "/market-api/v1/demands/\(sub)/proposals/\(initial.proposalId)", #"{"properties":{"golem.srv.comp.expiration":4102444800000,"golem.com.payment.chosen-platform":"erc20-holesky-tglm"},"constraints":""}"#), now: t0)
        guard case .proposal(_, let draft) = try WireDecoder().decode([MarketEvent].self, from: node.retry(.demandEvents(subscriptionId: sub, maxEvents: 10), now: t0, final: true)!.body).first! else { return }
        let agreement = string(respond(node.handle(request(.POST, "/market-api/v1/agreements", #"{"proposalId":"\#(draft.proposalId)","validTo":"2030-01-01T00:00:00Z"}"#), now: t0)))!
        _ = node.handle(request(.POST, "/market-api/v1/agreements/\(agreement)/confirm"), now: t0)
        node.advance(to: t0)
        let activity = string(respond(node.handle(request(.POST, "/activity-api/v1/activity", "\"\(agreement)\""), now: t0)))!
        node.advance(to: t0.addingTimeInterval(35))
        #expect(node.debitNotes.count == 3)
        let dues = node.debitNotes.values.map(\.note).sorted { $0.timestamp < $1.timestamp }.map(\.totalAmountDue)
        #expect(dues == dues.sorted() && dues.first! > 0, "cumulative amounts")
        _ = node.handle(request(.DELETE, "/activity-api/v1/activity/\(activity)"), now: t0.addingTimeInterval(35))
        node.advance(to: t0.addingTimeInterval(100))
        #expect(node.debitNotes.count == 3)
    }
}

@Suite struct DaemonFaultTests {
    @Test func restartDropsRequestsAndTheRequestorRecovers() async throws {
        let scenario = try Scenario.parse(yaml: """
            name: restart
            providers:
              - name: p
            daemon:
              faults:
                - {kind: restart, match: "/exec/", duration: 3s, times: 1}
            """)
        let report = try await SimulatedNetwork.run(scenario: scenario) { golem in
            _ = try await Examples.helloTask(golem, print: { _ in })
        }
        #expect(report.failures.isEmpty, "\(report.failures)")
        // At least one exchange went unanswered, and the run still completed.
        #expect(report.journal.contains { $0.status == -1 })
    }
}
