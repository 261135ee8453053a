public import YagnaAPI
public import GolemTime
import Foundation

extension YagnaClient {
    /// Drives the market by hand, as tests and benchmarks of the node's API need: subscribes
    /// `demand`, counters the first offer and returns the subscription and the provider's Draft.
    public func firstDraft(for demand: DemandBody) async throws -> (subscription: String, draft: Proposal) {
        let subscription = try await market.subscribe(demand)
        var offer: Proposal?
        while offer == nil { for case .proposal(_, let p) in try await market.events(subscription, timeout: .seconds(1)) { offer = p } }
        _ = try await market.counter(subscription, proposalId: offer!.proposalId, with: demand)
        var draft: Proposal?
        while draft == nil { for case .proposal(_, let p) in try await market.events(subscription, timeout: .seconds(1)) { draft = p } }
        return (subscription, draft!)
    }

    /// An activity on a freshly approved agreement with the first provider that answers, and
    /// the demand's subscription (left open).
    public func approvedActivity(clock: any GolemClock) async throws -> (subscription: String, activity: String) {
        // The expiration, as every requestor sends it: providers' offers require it of the counter.
        let expiration = Int(clock.now.addingTimeInterval(3600).timeIntervalSince1970 * 1000)
        let demand = DemandBody(properties: ["golem.srv.caps.multi-activity": true, "golem.srv.comp.expiration": .int(expiration)], constraints: "(golem.runtime.name=vm)")
        let (subscription, draft) = try await firstDraft(for: demand)
        let agreement = try await market.createAgreement(AgreementProposal(proposalId: draft.proposalId, validTo: WireTimestamp(clock.now.addingTimeInterval(3600))))
        try await market.confirmAgreement(agreement)
        try await market.waitForApproval(agreement, timeout: .seconds(5))
        return (subscription, try await activity.create(.legacy(agreementId: agreement)))
    }
}
