/// The lifecycle state of an agreement.
public enum AgreementState: String, Codable, Sendable, Hashable, CaseIterable {
    case proposal = "Proposal"
    case pending = "Pending"
    case cancelled = "Cancelled"
    case rejected = "Rejected"
    case approved = "Approved"
    case expired = "Expired"
    case terminated = "Terminated"
}

/// `POST /agreements` body: the provider's Draft proposal and the agreement's validity.
public struct AgreementProposal: Codable, Sendable, Hashable {
    public var proposalId: String
    public var validTo: WireTimestamp
    public var unknownFields = UnknownFields()

    public init(proposalId: String, validTo: WireTimestamp) {
        self.proposalId = proposalId
        self.validTo = validTo
    }
}

/// An agreement between the requestor's demand and a provider's offer.
public struct Agreement: Codable, Sendable, Hashable {
    public var agreementId: String
    public var demand: Demand
    public var offer: Offer
    public var validTo: WireTimestamp
    public var approvedDate: WireTimestamp?
    public var state: AgreementState
    public var timestamp: WireTimestamp
    public var appSessionId: String?
    public var proposedSignature: String?
    public var approvedSignature: String?
    public var committedSignature: String?
    public var unknownFields = UnknownFields()

    public init(
        agreementId: String, demand: Demand, offer: Offer, validTo: WireTimestamp, approvedDate: WireTimestamp? = nil,
        state: AgreementState, timestamp: WireTimestamp, appSessionId: String? = nil
    ) {
        self.agreementId = agreementId
        self.demand = demand
        self.offer = offer
        self.validTo = validTo
        self.approvedDate = approvedDate
        self.state = state
        self.timestamp = timestamp
        self.appSessionId = appSessionId
    }
}

/// One row of `GET /agreements`.
public struct AgreementListEntry: Codable, Sendable, Hashable {
    public var id: String
    public var timestamp: WireTimestamp
    public var approvedDate: WireTimestamp?
    public var role: String
    public var unknownFields = UnknownFields()

    public init(id: String, timestamp: WireTimestamp, approvedDate: WireTimestamp?, role: String) {
        self.id = id
        self.timestamp = timestamp
        self.approvedDate = approvedDate
        self.role = role
    }
}

/// Who ended an agreement.
public enum Terminator: String, Codable, Sendable, Hashable {
    case requestor = "Requestor"
    case provider = "Provider"
}

/// An agreement event (flat, tagged by `eventType`), also the body of `GET …/terminate/reason`.
public struct AgreementEvent: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, Hashable {
        case approved = "AgreementApprovedEvent"
        case rejected = "AgreementRejectedEvent"
        case cancelled = "AgreementCancelledEvent"
        case terminated = "AgreementTerminatedEvent"
    }

    public var eventType: Kind
    public var eventDate: WireTimestamp
    public var agreementId: String
    public var reason: Reason?
    /// Set on termination events.
    public var terminator: Terminator?
    /// Set on termination events; may be `""`.
    public var signature: String?
    public var unknownFields = UnknownFields()

    public init(
        eventType: Kind, eventDate: WireTimestamp, agreementId: String, reason: Reason? = nil,
        terminator: Terminator? = nil, signature: String? = nil
    ) {
        self.eventType = eventType
        self.eventDate = eventDate
        self.agreementId = agreementId
        self.reason = reason
        self.terminator = terminator
        self.signature = signature
    }
}
