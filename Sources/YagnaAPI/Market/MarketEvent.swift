/// An event on a demand subscription, tagged by `eventType`.
public enum MarketEvent: Codable, Sendable, Hashable {
    /// A new proposal (an `Initial` offer or a provider's `Draft` reply).
    case proposal(eventDate: WireTimestamp, proposal: Proposal)
    /// The provider rejected one of our proposals.
    case proposalRejected(eventDate: WireTimestamp, proposalId: String, reason: Reason?)
    /// `PropertyQueryEvent` (never emitted by the daemon) or a type this client does not know.
    case other(eventType: String, eventDate: WireTimestamp, fields: [String: JSONValue])

    private enum Keys: String, CodingKey { case eventType, eventDate, proposal, proposalId, reason }

    public var eventDate: WireTimestamp {
        switch self {
        case .proposal(let d, _), .proposalRejected(let d, _, _), .other(_, let d, _): d
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let type = try c.decode(String.self, forKey: .eventType)
        let date = try c.decode(WireTimestamp.self, forKey: .eventDate)
        switch type {
        case "ProposalEvent":
            self = .proposal(eventDate: date, proposal: try c.decode(Proposal.self, forKey: .proposal))
        case "ProposalRejectedEvent":
            self = .proposalRejected(
                eventDate: date, proposalId: try c.decode(String.self, forKey: .proposalId),
                reason: try c.decodeIfPresent(Reason.self, forKey: .reason))
        default:
            let all = try decoder.singleValueContainer().decode([String: JSONValue].self)
            self = .other(eventType: type, eventDate: date, fields: all.filter { $0.key != "eventType" && $0.key != "eventDate" })
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .proposal(let date, let proposal):
            try c.encode("ProposalEvent", forKey: .eventType)
            try c.encode(date, forKey: .eventDate)
            try c.encode(proposal, forKey: .proposal)
        case .proposalRejected(let date, let id, let reason):
            try c.encode("ProposalRejectedEvent", forKey: .eventType)
            try c.encode(date, forKey: .eventDate)
            try c.encode(id, forKey: .proposalId)
            try c.encodeIfPresent(reason, forKey: .reason)
        case .other(let type, let date, let fields):
            try c.encode(type, forKey: .eventType)
            try c.encode(date, forKey: .eventDate)
            var rest = encoder.container(keyedBy: AnyKey.self)
            for key in fields.keys.sorted() { try rest.encode(fields[key]!, forKey: AnyKey(key)) }
        }
    }
}
