import Foundation
import GolemRecording
import GolemTesting
import GolemTime
import Testing
import YagnaAPI
import YagnaSimulator

/// ya-provider holds one agreement at a time by default (`max-simultaneous-agreements`): at its
/// limit a provider rejects proposals ("No capacity available. Reached Agreements limit: 1"),
/// and of two negotiations that ran at once only the first agreement is approved; once an
/// agreement ends it is offered again and agrees anew.
@Suite struct AgreementLimitTests {
    static func scenario(_ limit: String?) throws -> Scenario {
        try Scenario.parse(yaml: """
            name: limit
            providers:
              - name: solo
                offer-delay: 10ms
                response-delay: 10ms
                debit-note-interval: none
            \(limit.map { "    max-agreements: \($0)" } ?? "")
            """)
    }

    enum Answer: Equatable {
        case draft(Proposal)
        case rejected(String)

        func draft() throws -> Proposal {
            guard case .draft(let p) = self else { throw Refused(answer: self) }
            return p
        }
    }

    struct Refused: Error { var answer: Answer }

    static let demand = DemandBody(properties: ["golem.srv.caps.multi-activity": true, "golem.srv.comp.expiration": 4_102_444_800_000], constraints: "(golem.runtime.name=vm)")

    /// Subscribes, counters the first offer, and returns the provider's answer: its Draft or
    /// its rejection (bounded: a missing answer fails the test).
    static func negotiate(_ y: YagnaClient) async throws -> (subscription: String, answer: Answer) {
        let subscription = try await y.market.subscribe(demand)
        var offer: Proposal?
        for _ in 0..<20 where offer == nil {
            for case .proposal(_, let p) in try await y.market.events(subscription, timeout: .seconds(1)) where p.state == .initial { offer = p }
        }
        let initial = try #require(offer, "no offer came")
        let counter = try await y.market.counter(subscription, proposalId: initial.proposalId, with: demand)
        for _ in 0..<20 {
            for event in try await y.market.events(subscription, timeout: .seconds(1)) {
                switch event {
                case .proposal(_, let p) where p.prevProposalId == counter: return (subscription, .draft(p))
                case .proposalRejected(_, let id, let reason) where id == counter: return (subscription, .rejected(reason?.message ?? ""))
                default: continue
                }
            }
        }
        Issue.record("the provider never answered the counter-proposal")
        return (subscription, .rejected("no answer"))
    }

    static func agree(_ y: YagnaClient, _ draft: Proposal, clock: any GolemClock) async throws -> String {
        try await y.market.createAgreement(AgreementProposal(proposalId: draft.proposalId, validTo: WireTimestamp(clock.now.addingTimeInterval(3600))))
    }

    @Test func atItsLimitAProviderRejectsUntilItsAgreementEnds() async throws {
        let scenario = try Self.scenario(nil)
        #expect(scenario.providers[0].maxAgreements == 1)
        try await Simulation().runDetached { clock in
            let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
            let y = YagnaClient(transport: InProcessTransport(node: node))
            let (_, first) = try await Self.negotiate(y)
            let agreement = try await Self.agree(y, try first.draft(), clock: clock)
            try await y.market.confirmAgreement(agreement)
            try await y.market.waitForApproval(agreement, timeout: .seconds(5))
            // Held: another demand's counter is refused with ya-provider's reason.
            let (_, refused) = try await Self.negotiate(y)
            #expect(refused == .rejected("No capacity available. Reached Agreements limit: 1"))
            // Free again once the agreement ends: a fresh offer, and it agrees.
            try await y.market.terminateAgreement(agreement, reason: Reason(message: "done"))
            let (_, again) = try await Self.negotiate(y)
            let second = try await Self.agree(y, try again.draft(), clock: clock)
            try await y.market.confirmAgreement(second)
            try await y.market.waitForApproval(second, timeout: .seconds(5))
        }
    }

    @Test func ofTwoNegotiationsAtOnceOnlyTheFirstAgreementIsApproved() async throws {
        let scenario = try Self.scenario(nil)
        try await Simulation().runDetached { clock in
            let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
            let y = YagnaClient(transport: InProcessTransport(node: node))
            // Both drafts come while the provider holds nothing.
            let (_, a) = try await Self.negotiate(y)
            let (_, b) = try await Self.negotiate(y)
            let first = try await Self.agree(y, try a.draft(), clock: clock)
            let second = try await Self.agree(y, try b.draft(), clock: clock)
            try await y.market.confirmAgreement(first)
            try await y.market.confirmAgreement(second)
            try await y.market.waitForApproval(first, timeout: .seconds(5))
            let error = await #expect(throws: YagnaError.self) { try await y.market.waitForApproval(second, timeout: .seconds(5)) }
            #expect(error?.code == .gone, "\(String(describing: error))")
            #expect(try await y.market.agreement(second).state == .rejected)
        }
    }

    @Test func aLimitCanBeRaisedOrLifted() async throws {
        for (limit, agreements) in [("2", 2), ("none", 3)] {
            let scenario = try Self.scenario(limit)
            try await Simulation().runDetached { clock in
                let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
                let y = YagnaClient(transport: InProcessTransport(node: node))
                var approved = 0
                for _ in 0..<3 {
                    guard case .draft(let draft) = try await Self.negotiate(y).answer else { continue }
                    let id = try await Self.agree(y, draft, clock: clock)
                    try await y.market.confirmAgreement(id)
                    try await y.market.waitForApproval(id, timeout: .seconds(5))
                    approved += 1
                }
                #expect(approved == agreements, "max-agreements: \(limit)")
            }
        }
        #expect(throws: ScenarioError.self) { try Self.scenario("0") }
    }
}

/// An agreement negotiated without `golem.com.payment.chosen-platform` (golem-core's low-level
/// API leaves it to the app) is never invoiced; `golem-sim inspect` says so, so that journal
/// checks do not wait for an invoice that cannot come.
@Suite struct UnbillableAgreementTests {
    @Test func anAgreementWithoutAChosenPlatformIsShownUnbillable() async throws {
        let scenario = try AgreementLimitTests.scenario(nil)
        let journal = try await Simulation().runDetached { clock in
            let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
            let y = YagnaClient(transport: InProcessTransport(node: node))
            let (_, answer) = try await AgreementLimitTests.negotiate(y)
            let agreement = try await AgreementLimitTests.agree(y, try answer.draft(), clock: clock)
            try await y.market.confirmAgreement(agreement)
            try await y.market.waitForApproval(agreement, timeout: .seconds(5))
            try await y.market.terminateAgreement(agreement, reason: Reason(message: "done"))
            try await clock.sleep(for: .seconds(30))
            #expect(try await y.payment.invoiceEvents(timeout: .seconds(1)).isEmpty)
            return node.journal
        }
        let path = temporaryFile("unbillable.sqlite")
        try Recording.write(journal: journal, info: .simulated(start: Date(timeIntervalSince1970: 0), scenario: "limit", seed: 1), to: path)
        let report = SessionReport(try Recording.open(path))
        let created = try #require(report.lanes.flatMap(\.events).first { $0.kind == .agreementCreated })
        #expect(created.details["billable"] == false)
        #expect(created.summary.contains("unbillable"))
        // The Swift requestor chooses its platform: billable.
        let (paid, _) = try await recordRun("hello-task")
        let billable = SessionReport(paid).lanes.flatMap(\.events).filter { $0.kind == .agreementCreated }
        #expect(!billable.isEmpty && billable.allSatisfy { $0.details["billable"] == true })
    }
}
