public import YagnaAPI

/// An exchange as the protocol analyzer reads it, whether it comes from a recording file or
/// from the simulated node's journal.
public struct ProtocolExchange: Sendable, Hashable {
    public var sequence: Int
    public var start: Int64
    public var end: Int64
    public var method: String
    public var path: String
    public var query: String
    public var status: Int
    public var frames: [ServerSentEvent]
    /// The catalog's operation for the method and path, found once.
    let match: OperationCatalog.Match?
    /// The bodies: bytes, or for a live exchange the JSON values the node had at hand (read as
    /// they are, their bytes written only if asked for).
    var requestContent: MessageBody
    var responseContent: MessageBody

    public var requestBody: [UInt8] {
        get { requestContent.bytes }
        set { requestContent.bytes = newValue }
    }

    public var responseBody: [UInt8] {
        get { responseContent.bytes }
        set { responseContent.bytes = newValue }
    }

    /// The bodies' JSON values, when they are at hand (otherwise parsed from the bytes when read).
    var requestJSON: JSONValue? { requestContent.json }
    var responseJSON: JSONValue? { responseContent.json }

    public init(
        sequence: Int, start: Int64, end: Int64, method: String, path: String, query: String = "", requestBody: [UInt8] = [],
        status: Int, responseBody: [UInt8] = [], frames: [ServerSentEvent] = []
    ) {
        self.init(
            sequence: sequence, start: start, end: end, method: method, path: path, query: query, requestBody: requestBody, status: status,
            responseBody: responseBody, frames: frames, match: Self.match(method, path))
    }

    /// With the catalog's match already found (the referee finds it when the request comes).
    init(
        sequence: Int, start: Int64, end: Int64, method: String, path: String, query: String, requestBody: [UInt8],
        status: Int, responseBody: [UInt8], frames: [ServerSentEvent], match: OperationCatalog.Match?
    ) {
        self.init(
            sequence: sequence, start: start, end: end, method: method, path: path, query: query, request: MessageBody(bytes: requestBody),
            status: status, response: MessageBody(bytes: responseBody), frames: frames, match: match)
    }

    init(
        sequence: Int, start: Int64, end: Int64, method: String, path: String, query: String, request: MessageBody,
        status: Int, response: MessageBody, frames: [ServerSentEvent], match: OperationCatalog.Match?
    ) {
        self.sequence = sequence
        self.start = start
        self.end = end
        self.method = method
        self.path = path
        self.query = query
        self.requestContent = request
        self.status = status
        self.responseContent = response
        self.frames = frames
        self.match = match
    }

    public static func == (a: ProtocolExchange, b: ProtocolExchange) -> Bool {
        a.sequence == b.sequence && a.start == b.start && a.end == b.end && a.method == b.method && a.path == b.path && a.query == b.query
            && a.requestBody == b.requestBody && a.status == b.status && a.responseBody == b.responseBody && a.frames == b.frames
    }

    public func hash(into h: inout Hasher) {
        h.combine(sequence)
        h.combine(method)
        h.combine(path)
    }

    /// The journal entry's exchange.
    public init(_ e: JournalEntry) {
        self.init(e, match: Self.match(e.method, e.path))
    }

    static func match(_ method: String, _ path: String) -> OperationCatalog.Match? {
        HTTPMethod(rawValue: method).flatMap { OperationCatalog.match(method: $0, path: path) }
    }

    /// The journal entry's exchange, with the catalog's match found for its request.
    init(_ e: JournalEntry, match: OperationCatalog.Match?) {
        self.init(
            sequence: e.sequence, start: e.startOffset, end: e.endOffset, method: e.method, path: e.path, query: e.query,
            request: e.request, status: e.status, response: e.response, frames: e.frames.map(\.event), match: match)
    }

    var operation: String? { match?.spec.name }
    var ids: [String] { match?.ids ?? [] }
    var request: JSONValue? { requestJSON ?? (requestBody.isEmpty ? nil : try? JSONParser.parse(requestBody)) }
    var response: JSONValue? { responseJSON ?? (responseBody.isEmpty ? nil : try? JSONParser.parse(responseBody)) }
    var ok: Bool { (200..<300).contains(status) }
}

/// A requestor operation that changes something on the node, reduced to what it means: which
/// provider it concerns (its lane), what it does, on which resource, with which relevant fields.
/// Ids, timestamps, expirations and gftp URLs are left out, so two clients doing the same work
/// produce the same operations.
public struct ProtocolOperation: Sendable, Hashable {
    /// `requestor`, or the provider's node id.
    public var lane: String
    /// The catalog operation (`activity.exec`).
    public var kind: String
    /// The resource in lane-local terms (`agreement 1`, `activity 1`).
    public var resource: String
    /// The relevant fields of the request.
    public var fields: JSONValue
    public var offset: Int64
    public var sequence: Int
    public var status: Int

    public init(lane: String, kind: String, resource: String, fields: JSONValue, offset: Int64, sequence: Int, status: Int) {
        self.lane = lane
        self.kind = kind
        self.resource = resource
        self.fields = fields
        self.offset = offset
        self.sequence = sequence
        self.status = status
    }

    /// Whether two operations mean the same thing (lane, kind, resource and fields).
    public func matches(_ other: ProtocolOperation) -> Bool {
        lane == other.lane && kind == other.kind && fields == other.fields
    }
}

/// Something that happened in a session, for timelines: requestor calls and the provider-side
/// events the node reported.
public struct TimelineEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case allocation, demand, offer, counter, draft, proposalRejected, proposalRejectedByRequestor
        case agreementCreated, agreementConfirmed, agreementApproved, agreementRejected, agreementCancelled
        case agreementTerminated, activityCreated, activityFailed, activityDestroyed, batch, commandResult
        case debitNote, debitNoteAccepted, invoice, invoiceAccepted, invoiceRejected, allocationReleased, error
    }
    /// `requestor`, or the provider's node id.
    public var lane: String
    public var kind: Kind
    public var offset: Int64
    /// When it ended (batches), else equal to `offset`.
    public var end: Int64
    public var sequence: Int
    public var summary: String
    public var resource: String
    /// Structured details (command results, amounts).
    public var details: JSONValue
    /// Whether this marks a failure (a failed command, a rejection, a provider termination).
    public var failure: Bool
}
