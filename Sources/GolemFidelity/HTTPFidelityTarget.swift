public import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// A node reached over HTTP (a real yagna or `golem-sim serve`).
public struct HTTPFidelityTarget: FidelityTarget {
    public let name: String
    public let baseURL: String
    let client: HTTPClient

    public init(name: String, baseURL: String, client: HTTPClient) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.client = client
    }

    public func send(_ request: FidelityRequest) async throws -> FidelityResponse {
        var http = HTTPClientRequest(url: baseURL + request.target)
        http.method = HTTPMethod(rawValue: request.method)
        // A fresh connection per request: the daemon answers some errors (a wrong content type)
        // before reading the body, which leaves a kept-alive connection unusable.
        http.headers.add(name: "Connection", value: "close")
        if let auth = request.authorization { http.headers.add(name: "Authorization", value: auth) }
        if let type = request.contentType { http.headers.add(name: "Content-Type", value: type) }
        if let body = request.body { http.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(http, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 << 20)
        return FidelityResponse(status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type"), body: Array(buffer: body))
    }
}
