/// The requestor side of the market API (`/market-api/v1`).
public struct MarketAPI: Sendable {
    let caller: Caller
    public init(transport: any Transport) { caller = Caller(transport: transport, service: .market) }

    /// Subscribes a demand; returns its subscription id.
    public func subscribe(_ demand: DemandBody) async throws -> String {
        let r = try caller.withBody(caller.request("market.subscribeDemand", .POST, "/demands"), demand)
        return try await caller.decode(String.self, r)
    }

    public func demands() async throws -> [Demand] {
        try await caller.decode([Demand].self, caller.request("market.getDemands", .GET, "/demands"))
    }

    public func unsubscribe(_ subscriptionId: String) async throws {
        try await caller.perform(caller.request("market.unsubscribeDemand", .DELETE, "/demands/\(subscriptionId)"))
    }

    /// Long-polls a subscription's events. Reading consumes them.
    public func events(_ subscriptionId: String, timeout: Duration = .seconds(5), maxEvents: Int? = nil) async throws -> [MarketEvent] {
        var query = [QueryItem("timeout", timeout.queryValue)]
        if let maxEvents { query.append(QueryItem("maxEvents", String(maxEvents))) }
        let r = caller.request("market.collectDemandEvents", .GET, "/demands/\(subscriptionId)/events", query: query, longPoll: timeout)
        return try await caller.decode([MarketEvent].self, r)
    }

    /// Sends a counter-proposal; returns its id.
    public func counter(_ subscriptionId: String, proposalId: String, with demand: DemandBody) async throws -> String {
        let r = try caller.withBody(
            caller.request("market.counterProposalDemand", .POST, "/demands/\(subscriptionId)/proposals/\(proposalId)"), demand)
        return try await caller.decode(String.self, r)
    }

    public func proposal(_ subscriptionId: String, proposalId: String) async throws -> Proposal {
        try await caller.decode(
            Proposal.self, caller.request("market.getProposalOffer", .GET, "/demands/\(subscriptionId)/proposals/\(proposalId)"))
    }

    public func rejectProposal(_ subscriptionId: String, proposalId: String, reason: Reason?) async throws {
        let r = try caller.withBody(
            caller.request("market.rejectProposalOffer", .POST, "/demands/\(subscriptionId)/proposals/\(proposalId)/reject"),
            reason.map { JSONValue($0) } ?? JSONValue.null)
        try await caller.perform(r)
    }

    /// Creates an agreement from a provider's Draft proposal; returns its id.
    public func createAgreement(_ proposal: AgreementProposal) async throws -> String {
        let r = try caller.withBody(caller.request("market.createAgreement", .POST, "/agreements"), proposal)
        return try await caller.decode(String.self, r)
    }

    public func agreement(_ agreementId: String) async throws -> Agreement {
        try await caller.decode(Agreement.self, caller.request("market.getAgreement", .GET, "/agreements/\(agreementId)"))
    }

    public func agreements(state: AgreementState? = nil, appSessionId: String? = nil) async throws -> [AgreementListEntry] {
        var query: [QueryItem] = []
        if let state { query.append(QueryItem("state", state.rawValue)) }
        if let appSessionId { query.append(QueryItem("appSessionId", appSessionId)) }
        return try await caller.decode([AgreementListEntry].self, caller.request("market.listAgreements", .GET, "/agreements", query: query))
    }

    public func confirmAgreement(_ agreementId: String, appSessionId: String? = nil) async throws {
        let query = appSessionId.map { [QueryItem("appSessionId", $0)] } ?? []
        try await caller.perform(caller.request("market.confirmAgreement", .POST, "/agreements/\(agreementId)/confirm", query: query))
    }

    /// Waits for the provider's approval: returns on approval, throws `.gone` when rejected,
    /// cancelled or expired (the reason in `message`) and `.timeout` when nothing happened.
    public func waitForApproval(_ agreementId: String, timeout: Duration = .seconds(15)) async throws {
        try await caller.perform(
            caller.request(
                "market.waitForApproval", .POST, "/agreements/\(agreementId)/wait", query: [QueryItem("timeout", timeout.queryValue)],
                longPoll: timeout))
    }

    public func cancelAgreement(_ agreementId: String, reason: Reason?) async throws {
        let r = try caller.withBody(
            caller.request("market.cancelAgreement", .POST, "/agreements/\(agreementId)/cancel"),
            reason.map { JSONValue($0) } ?? JSONValue.null)
        try await caller.perform(r)
    }

    public func terminateAgreement(_ agreementId: String, reason: Reason) async throws {
        let r = try caller.withBody(caller.request("market.terminateAgreement", .POST, "/agreements/\(agreementId)/terminate"), reason)
        try await caller.perform(r)
    }

    public func terminationReason(_ agreementId: String) async throws -> AgreementEvent {
        try await caller.decode(
            AgreementEvent.self, caller.request("market.getTerminateReason", .GET, "/agreements/\(agreementId)/terminate/reason"))
    }

    /// Long-polls agreement events strictly after `afterTimestamp`. Reading does not consume.
    public func agreementEvents(
        afterTimestamp: WireTimestamp? = nil, timeout: Duration = .seconds(5), maxEvents: Int? = nil, appSessionId: String? = nil
    ) async throws -> [AgreementEvent] {
        var query = [QueryItem("timeout", timeout.queryValue)]
        if let afterTimestamp { query.append(QueryItem("afterTimestamp", afterTimestamp.text)) }
        if let maxEvents { query.append(QueryItem("maxEvents", String(maxEvents))) }
        if let appSessionId { query.append(QueryItem("appSessionId", appSessionId)) }
        return try await caller.decode(
            [AgreementEvent].self, caller.request("market.collectAgreementEvents", .GET, "/agreementEvents", query: query, longPoll: timeout))
    }
}

extension JSONValue {
    /// The JSON form of an encodable wire model.
    public init(_ value: some Encodable) {
        self = (try? WireEncoder().encodeValue(value)) ?? .null
    }
}
