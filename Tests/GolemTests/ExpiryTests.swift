import Foundation
import GolemExamples
import GolemRequestor
import GolemTime
import GolemTesting
import Testing
import YagnaAPI
import YagnaSimulator

@Suite struct ExpiryTests {
    /// A subscription lives for the daemon's TTL (1 h by default), not its demand's
    /// `golem.srv.comp.expiration`: the real 0.17.6 still delivers offers to a demand whose
    /// expiration has passed. An unconfirmed agreement expires at its validTo.
    @Test func demandsLiveTheirTTLAndUnapprovedAgreementsExpire() async throws {
        var scenario = try fastScenario()
        scenario.daemon.subscriptionTTL = .seconds(120)
        try await FrontEnd.inProcess.run(scenario) { transport, clock in
            let y = YagnaClient(transport: transport)
            let expires = Int(clock.now.timeIntervalSince1970 * 1000)
            let demand = DemandBody(properties: ["golem.srv.comp.expiration": .int(expires)], constraints: "(golem.runtime.name=vm)")
            // Already past its expiration, the demand still gets its offer and negotiates.
            let (sub, draft) = try await y.firstDraft(for: demand)
            // An agreement valid for 5 s that nobody confirms expires.
            let agreement = try await y.market.createAgreement(AgreementProposal(proposalId: draft.proposalId, validTo: WireTimestamp(clock.now.addingTimeInterval(5))))
            try await clock.sleep(for: .seconds(6))
            #expect(try await y.market.agreement(agreement).state == .expired)
            #expect(await code { try await y.market.waitForApproval(agreement, timeout: .seconds(1)) } == .gone)
            #expect(try await y.market.events(sub, timeout: .seconds(1)).isEmpty)
            // The TTL passes: the subscription is gone.
            try await clock.sleep(for: .seconds(120))
            let error = await #expect(throws: YagnaError.self) { _ = try await y.market.events(sub, timeout: .seconds(1)) }
            #expect(error?.code == .notFound)
            #expect(error?.description.contains("expired") == true, "\(String(describing: error))")
        }
    }

    /// A job longer than its demand's lifetime subscribes again before the demand expires.
    @Test func aLongJobRenewsItsDemand() async throws {
        var scenario = try fastScenario()
        scenario.providers[0].commandDuration = .seconds(50)
        var configuration = GolemConfiguration(budget: 1)
        configuration.demandExpiration = .seconds(60)
        let report = try await SimulatedNetwork.run(scenario: scenario, configuration: configuration) { golem in
            let results = try await golem.executeTasks([1, 2, 3], payload: Examples.image, maxWorkers: 1, timeout: .seconds(600)) { ctx, task in
                let script = ctx.newScript()
                script.run("/bin/sh", "-c", "echo \(task.data)")
                try await ctx.execute(script)
                return task.data
            }
            #expect(results.count == 3)
        }
        #expect(report.passed, "\(report.failures)")
        #expect(report.virtualSeconds > 150)
        let subscribes = report.journal.filter { $0.method == "POST" && $0.path == "/market-api/v1/demands" }
        #expect(subscribes.count >= 3, "\(subscribes.count) subscriptions in \(report.virtualSeconds) s")
        // Each subscription was renewed (unsubscribed) within its 60 s, and no poll hit an expired one.
        let unsubscribes = report.journal.filter { $0.method == "DELETE" && $0.path.hasPrefix("/market-api/v1/demands/") }
        #expect(unsubscribes.count == subscribes.count)
        for (s, u) in zip(subscribes, unsubscribes) { #expect(u.startOffset - s.startOffset < 60_000_000_000) }
        #expect(!report.journal.contains { $0.path.hasSuffix("/events") && $0.status == 404 })
    }
}
