import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
public import YagnaAPI

/// An answer of the real daemon's REST API.
public struct RESTAnswer: Sendable {
    public var status: Int
    public var text: String
    public var json: JSONValue? { try? JSONParser.parse(Array(text.utf8)) }
}

/// Why the daemon could not be reached or refused something `provide` needs.
public struct ProvideError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The HTTP client every provider identity shares: each holds several long polls (offer
/// events, agreement events, payment events) at once, more than AHC's default 8 connections per
/// host allow without queueing (seen with eight providers: polls timed out in the queue).
let providerHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()

/// A provider identity's REST client on the real node: every request carries its app key.
struct ProviderREST: Sendable {
    let base: String
    let key: String

    func call(_ method: YagnaAPI.HTTPMethod, _ target: String, _ body: JSONValue? = nil, timeout: Duration = .seconds(30)) async throws -> RESTAnswer {
        var request = HTTPClientRequest(url: base + target)
        request.method = NIOHTTP1.HTTPMethod(rawValue: method.rawValue)
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: JSONWriter.bytes(body)))
        }
        let response: HTTPClientResponse
        do {
            response = try await providerHTTPClient.execute(request, timeout: .nanoseconds(timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000))
        } catch {
            throw ProvideError("\(method.rawValue) \(base)\(target): \(error)")
        }
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return RESTAnswer(status: Int(response.status.code), text: String(buffer: bytes))
    }

    /// A call that must succeed (2xx); otherwise an error naming what failed.
    @discardableResult
    func expect(_ method: YagnaAPI.HTTPMethod, _ target: String, _ body: JSONValue? = nil, _ what: String, timeout: Duration = .seconds(30)) async throws -> RESTAnswer {
        let answer = try await call(method, target, body, timeout: timeout)
        guard (200..<300).contains(answer.status) else {
            throw ProvideError("\(what): \(method.rawValue) \(target) answered \(answer.status) \(answer.text.prefix(300))")
        }
        return answer
    }
}
