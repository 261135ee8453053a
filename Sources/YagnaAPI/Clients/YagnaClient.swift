/// Typed access to every requestor-side API over one transport.
///
/// ```swift
/// let yagna = YagnaClient(transport: transport)
/// let me = try await yagna.identity.me()
/// let allocation = try await yagna.payment.createAllocation(NewAllocation(totalAmount: 1))
/// ```
public struct YagnaClient: Sendable {
    public let transport: any Transport
    public var market: MarketAPI { MarketAPI(transport: transport) }
    public var activity: ActivityAPI { ActivityAPI(transport: transport) }
    public var payment: PaymentAPI { PaymentAPI(transport: transport) }
    public var identity: IdentityAPI { IdentityAPI(transport: transport) }
    public var registry: RegistryAPI { RegistryAPI(transport: transport) }
    public var net: NetAPI { NetAPI(transport: transport) }

    public init(transport: any Transport) { self.transport = transport }
}

/// The shared request/response mechanics of the typed clients.
struct Caller: Sendable {
    let transport: any Transport
    let service: YagnaService

    func request(
        _ operation: String, _ method: HTTPMethod, _ path: String, query: [QueryItem] = [], longPoll: Duration? = nil
    ) -> YagnaRequest {
        YagnaRequest(operation: operation, service: service, method: method, path: path, query: query, longPoll: longPoll)
    }

    /// The request with `body` as its JSON body. An in-process node may take `handedOver` as it
    /// is instead of reading the JSON (see `MessageBody.typed`): only for bodies whose reading
    /// checks nothing the value could break (an exec's script of known commands). Other bodies
    /// are decoded, as over HTTP: decoding refuses what the daemon refuses (a NaN amount) and
    /// writes amounts as the daemon reads them (`1.500` becomes `1.5`).
    func withBody(_ request: YagnaRequest, _ body: some Encodable & Sendable, handedOver: (any Sendable)? = nil) throws -> YagnaRequest {
        var r = request
        do {
            r.json = try (body as? any FastWireEncodable)?.fastWireValue ?? WireEncoder().encodeValue(body)
        } catch {
            throw YagnaError.invalidRequest(request, error: error)
        }
        r.content?.typed = handedOver
        r.headers.append(Header("Content-Type", "application/json"))
        return r
    }

    /// The request with a JSON body that `make` writes only when something reads it, and
    /// `handedOver` for an in-process node to take as it is (an exec's prepared script).
    func withBody(_ request: YagnaRequest, deferred make: @escaping @Sendable () -> JSONValue, handedOver: any Sendable) -> YagnaRequest {
        var r = request
        var content = MessageBody(deferred: make)
        content.typed = handedOver
        r.content = content
        r.headers.append(Header("Content-Type", "application/json"))
        return r
    }

    /// Sends and returns the 2xx response; any other status becomes a `YagnaError`.
    func send(_ request: YagnaRequest) async throws -> YagnaResponse {
        let response = try await transport.send(request)
        guard (200..<300).contains(response.status) else { throw YagnaError.from(response, for: request) }
        return response
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: YagnaRequest) async throws -> T {
        try read(try await send(request), request) { try WireDecoder().decode(type, from: $0) }
    }

    /// Reads a 2xx answer's JSON with `decode`, or takes the value an in-process node handed
    /// over when it is a `T`: as it is in release builds; in debug builds (the tests) the JSON is
    /// decoded as well and a difference fails the request, or the in-process path would hide a
    /// wire difference.
    func read<T>(_ response: YagnaResponse, _ request: YagnaRequest, _ decode: (JSONValue) throws -> T) throws -> T {
        do {
            let typed = response.content.handedOver(as: T.self)
            if MessageBody.takesHandedOver, let typed { return typed }
            let decoded = try decode(try response.jsonBody())
            if let typed, !MessageBody.same(typed, decoded) { throw InProcessMismatch(type: "\(T.self)") }
            return decoded
        } catch {
            throw YagnaError.malformed(request, status: response.status, error: error)
        }
    }

    /// A value handed over in-process that decoding its JSON does not give back (a debug build's
    /// check: the typed pass-through would hide a wire difference).
    struct InProcessMismatch: Error, CustomStringConvertible {
        let type: String
        var description: String { "the \(type) handed over in-process differs from what its JSON decodes to" }
    }

    /// Sends a request whose 2xx reply carries nothing the caller needs (`null`, empty, 204).
    func perform(_ request: YagnaRequest) async throws {
        _ = try await send(request)
    }
}

extension Duration {
    /// Seconds as yagna's float `timeout` query parameter (`5`, `0.5`).
    var queryValue: String {
        let (s, atto) = components
        if atto == 0 { return String(s) }
        let value = Double(s) + Double(atto) / 1e18
        return String(value)
    }
}
