public import YagnaAPI

/// One HTTP exchange of a session: the request, the answer and, for a streamed answer, its
/// Server-Sent Events frames. Offsets are nanoseconds since the session started.
public struct RecordedExchange: Sendable, Hashable {
    /// Monotonic, in the order exchanges were committed (completed), from 1.
    public var sequence: Int
    public var startOffset: Int64
    public var endOffset: Int64
    public var method: String
    /// The path without its query.
    public var path: String
    /// The query as sent (`timeout=5&maxEvents=10`), without `?`.
    public var query: String
    public var requestHeaders: [Header]
    public var requestBody: [UInt8]
    /// The status, or -1 when the connection closed without an answer.
    public var status: Int
    public var responseHeaders: [Header]
    public var responseBody: [UInt8]
    public var streamed: Bool
    public var frames: [RecordedFrame]

    public init(
        sequence: Int, startOffset: Int64, endOffset: Int64, method: String, path: String, query: String = "",
        requestHeaders: [Header] = [], requestBody: [UInt8] = [], status: Int, responseHeaders: [Header] = [],
        responseBody: [UInt8] = [], streamed: Bool = false, frames: [RecordedFrame] = []
    ) {
        self.sequence = sequence
        self.startOffset = startOffset
        self.endOffset = endOffset
        self.method = method
        self.path = path
        self.query = query
        self.requestHeaders = requestHeaders
        self.requestBody = requestBody
        self.status = status
        self.responseHeaders = responseHeaders
        self.responseBody = responseBody
        self.streamed = streamed
        self.frames = frames
    }

    /// The API from the path's root (`market`, `activity`, `payment`, …).
    public var api: String { OperationCatalog.api(of: path) }

    /// The catalog operation, if the client models this endpoint.
    public var operation: OperationCatalog.Match? {
        HTTPMethod(rawValue: method).flatMap { OperationCatalog.match(method: $0, path: path) }
    }

    /// The value of a query parameter.
    public func queryValue(_ name: String) -> String? {
        for item in QueryItem.parse(Substring(query)) where item.name == name { return item.value }
        return nil
    }

    /// The request body as JSON (`nil` if empty or not JSON).
    public var requestJSON: JSONValue? { requestBody.isEmpty ? nil : try? JSONParser.parse(requestBody) }
    /// The response body as JSON (`nil` if empty or not JSON).
    public var responseJSON: JSONValue? { responseBody.isEmpty ? nil : try? JSONParser.parse(responseBody) }
}

/// One Server-Sent Events frame of a streamed answer, with its offset.
public struct RecordedFrame: Sendable, Hashable {
    public var offset: Int64
    public var event: ServerSentEvent
    public init(offset: Int64, event: ServerSentEvent) {
        self.offset = offset
        self.event = event
    }
}

/// Where a session came from.
public enum SessionSource: String, Sendable, Hashable {
    /// Captured from a real daemon by the recording proxy.
    case live
    /// Served by the simulator (`serve --journal`, `run --journal`, a failing seed).
    case simulated
    /// Converted from another format.
    case imported
}

/// A session's metadata.
public struct SessionInfo: Sendable, Hashable {
    public var formatVersion: Int = RecordingFormat.version
    /// Wall time at offset 0, RFC 3339.
    public var created: String
    public var source: SessionSource
    public var daemonVersion: String?
    /// The upstream URL for live sessions.
    public var upstream: String?
    /// The scenario name for simulated sessions.
    public var scenario: String?
    public var seed: UInt64?
    public var notes: String = ""
    /// Set when the session ended cleanly (RFC 3339); `nil` if the writer was killed.
    public var ended: String?

    public init(created: String, source: SessionSource, daemonVersion: String? = nil, upstream: String? = nil, scenario: String? = nil, seed: UInt64? = nil, notes: String = "") {
        self.created = created
        self.source = source
        self.daemonVersion = daemonVersion
        self.upstream = upstream
        self.scenario = scenario
        self.seed = seed
        self.notes = notes
    }
}

/// A divergence found while replaying, as stored with the session.
public struct RecordedDivergence: Sendable, Hashable {
    public var exchangeSequence: Int?
    public var offset: Int64
    public var operation: String?
    public var summary: String
    /// The full report as JSON.
    public var report: String
    public init(exchangeSequence: Int?, offset: Int64, operation: String?, summary: String, report: String) {
        self.exchangeSequence = exchangeSequence
        self.offset = offset
        self.operation = operation
        self.summary = summary
        self.report = report
    }
}
