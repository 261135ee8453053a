/// Properties of a demand, offer or proposal: an open dictionary with flat dotted keys
/// (`golem.com.pricing.model`).
public typealias Properties = [String: JSONValue]

/// A demand or counter-proposal as the requestor sends it (`DemandOfferBase`).
public struct DemandBody: Codable, Sendable, Hashable {
    public var properties: Properties
    public var constraints: String
    public var unknownFields = UnknownFields()

    public init(properties: Properties, constraints: String) {
        self.properties = properties
        self.constraints = constraints
    }
}

/// A subscribed demand as `GET /demands` and agreements return it.
public struct Demand: Codable, Sendable, Hashable {
    public var properties: Properties
    public var constraints: String
    public var demandId: String
    public var requestorId: String
    public var timestamp: WireTimestamp
    public var unknownFields = UnknownFields()

    public init(properties: Properties, constraints: String, demandId: String, requestorId: String, timestamp: WireTimestamp) {
        self.properties = properties
        self.constraints = constraints
        self.demandId = demandId
        self.requestorId = requestorId
        self.timestamp = timestamp
    }
}

/// A provider's offer as agreements carry it.
public struct Offer: Codable, Sendable, Hashable {
    public var properties: Properties
    public var constraints: String
    public var offerId: String
    public var providerId: String
    public var timestamp: WireTimestamp
    public var unknownFields = UnknownFields()

    public init(properties: Properties, constraints: String, offerId: String, providerId: String, timestamp: WireTimestamp) {
        self.properties = properties
        self.constraints = constraints
        self.offerId = offerId
        self.providerId = providerId
        self.timestamp = timestamp
    }
}

/// Where a proposal is in negotiation.
public enum ProposalState: String, Codable, Sendable, Hashable, CaseIterable {
    case initial = "Initial"
    case draft = "Draft"
    case rejected = "Rejected"
    case accepted = "Accepted"
    case expired = "Expired"
}

/// A proposal in a negotiation chain. Offers from the market are `Initial` without
/// `prevProposalId`; a provider's reply to a counter is `Draft` with `prevProposalId` set.
public struct Proposal: Codable, Sendable, Hashable {
    public var properties: Properties
    public var constraints: String
    public var proposalId: String
    public var issuerId: String
    public var state: ProposalState
    public var timestamp: WireTimestamp
    public var prevProposalId: String?
    public var unknownFields = UnknownFields()

    public init(
        properties: Properties, constraints: String, proposalId: String, issuerId: String,
        state: ProposalState, timestamp: WireTimestamp, prevProposalId: String? = nil
    ) {
        self.properties = properties
        self.constraints = constraints
        self.proposalId = proposalId
        self.issuerId = issuerId
        self.state = state
        self.timestamp = timestamp
        self.prevProposalId = prevProposalId
    }
}

/// A reason given with a rejection, cancellation or termination: `{"message": …, …extra keys}`.
public struct Reason: Codable, Sendable, Hashable {
    public var message: String?
    public var unknownFields = UnknownFields()

    public init(message: String?, extra: [String: JSONValue] = [:]) {
        self.message = message
        self.unknownFields = UnknownFields(extra)
    }
}
