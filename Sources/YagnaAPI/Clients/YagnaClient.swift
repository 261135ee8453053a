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

    func withBody(_ request: YagnaRequest, _ body: some Encodable) throws -> YagnaRequest {
        var r = request
        do {
            let value = try WireEncoder().encodeValue(body)
            r.body = JSONWriter.bytes(value)
            r.json = value
        } catch {
            throw YagnaError.invalidRequest(request, error: error)
        }
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
        let response = try await send(request)
        do { return try WireDecoder().decode(type, from: try response.jsonBody()) } catch {
            throw YagnaError.malformed(request, status: response.status, error: error)
        }
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
