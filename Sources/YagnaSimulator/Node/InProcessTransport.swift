public import YagnaAPI

/// The in-process front end: a `Transport` straight into a `SimulatedNode`, with no sockets.
/// Long polls resolve on the node's clock, so under a `Simulation` they cost no wall time.
public struct InProcessTransport: Transport {
    public let node: SimulatedNode
    public let appKey: String
    /// The app key's header, made once, and alone (the headers of a request that has none).
    private let authorization: Header
    private let authorizationOnly: [Header]

    public init(node: SimulatedNode, appKey: String? = nil) {
        self.node = node
        self.appKey = appKey ?? node.appKey
        self.authorization = Header("Authorization", "Bearer \(self.appKey)")
        self.authorizationOnly = [authorization]
    }

    static func prefix(_ service: YagnaService) -> String {
        switch service {
        case .root: ""
        case .market: "/market-api/v1"
        case .activity: "/activity-api/v1"
        case .payment: "/payment-api/v1"
        case .net: "/net-api/v1"
        case .registry: ""
        }
    }

    func nodeRequest(_ request: YagnaRequest) -> NodeRequest {
        var headers = authorizationOnly
        if !request.headers.isEmpty {
            headers = request.headers
            headers.append(authorization)
        }
        var node = NodeRequest(
            method: request.method, path: Self.prefix(request.service) + request.path, query: request.query, headers: headers,
            content: request.content ?? MessageBody())
        node.operation = request.operation
        return node
    }

    public func send(_ request: YagnaRequest) async throws -> YagnaResponse {
        switch await node.handle(nodeRequest(request)) {
        case .response(let r): return r
        case .drop, .stream:
            throw YagnaError(
                code: .transport, operation: request.operation, method: request.method, path: request.path, status: nil,
                message: "the connection closed without an answer")
        }
    }

    public func openEventStream(_ request: YagnaRequest) async throws -> EventStreamResponse {
        switch await node.handle(nodeRequest(request)) {
        case .response(let r): return .response(r)
        case .stream(let s): return .stream(s)
        case .drop:
            throw YagnaError(
                code: .transport, operation: request.operation, method: request.method, path: request.path, status: nil,
                message: "the connection closed without an answer")
        }
    }
}
