public import YagnaAPI

/// One request of the fidelity walk, as sent to a node.
public struct FidelityRequest: Sendable, Hashable {
    public var method: String
    /// The path with its query, as a client writes it (`/market-api/v1/demands?timeout=1`).
    public var target: String
    public var body: String?
    /// The `Authorization` header; `nil` sends none.
    public var authorization: String?
    public var contentType: String?

    public init(method: String, target: String, body: String? = nil, authorization: String? = nil, contentType: String? = nil) {
        self.method = method
        self.target = target
        self.body = body
        self.authorization = authorization
        self.contentType = contentType
    }
}

/// A node's answer to a `FidelityRequest`.
public struct FidelityResponse: Sendable, Hashable {
    public var status: Int
    /// The `Content-Type` header as sent, or `nil` when there was none.
    public var contentType: String?
    public var body: [UInt8]

    public init(status: Int, contentType: String?, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as JSON, when it parses as JSON.
    public var json: JSONValue? {
        guard !body.isEmpty else { return nil }
        return try? JSONParser.parse(body)
    }
}

/// Something that answers fidelity requests: a real yagna, `golem-sim serve`, or the
/// simulated node in-process.
public protocol FidelityTarget: Sendable {
    /// A short name for reports (`real yagna`, `golem-sim`).
    var name: String { get }
    func send(_ request: FidelityRequest) async throws -> FidelityResponse
}
