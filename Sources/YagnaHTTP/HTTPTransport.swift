public import AsyncHTTPClient
public import YagnaAPI
import Foundation
import NIOCore
import NIOPosix
import NIOHTTP1
public import Logging

/// The `Transport` that talks to a yagna daemon (or `golem-sim serve`) over HTTP.
///
/// Sends `Authorization: Bearer <app key>` on every request, waits for long polls as long as
/// the server was asked to plus `longPollMargin`, and never lets the app key into an error,
/// a description or a log line.
///
/// ```swift
/// try await HTTPTransport.withTransport(endpoints: .fromEnvironment(env)) { transport in
///     let me = try await YagnaClient(transport: transport).identity.me()
/// }
/// ```
public struct HTTPTransport: Transport, CustomStringConvertible {
    public struct Configuration: Sendable {
        /// Extra time a long poll may take beyond the timeout the server was given.
        public var longPollMargin: Duration
        /// The deadline of requests that are not long polls.
        public var requestTimeout: Duration
        /// The largest response body accepted.
        public var maxBodyBytes: Int
        /// The most connections open at once to one daemon for ordinary requests (long polls
        /// included: each holds one until answered). Beyond it, requests wait in order of arrival
        /// for a connection, within their own deadline.
        public var maxConnectionsPerDaemon: Int

        public init(
            longPollMargin: Duration = .seconds(2), requestTimeout: Duration = .seconds(60), maxBodyBytes: Int = 64 << 20,
            maxConnectionsPerDaemon: Int = 256
        ) {
            self.longPollMargin = longPollMargin
            self.requestTimeout = requestTimeout
            self.maxBodyBytes = maxBodyBytes
            self.maxConnectionsPerDaemon = maxConnectionsPerDaemon
        }
    }

    public let endpoints: YagnaEndpoints
    public let configuration: Configuration
    let client: HTTPClient
    let logger: Logger
    /// Where each plain-HTTP service's ordinary requests go: its daemon's keep-alive
    /// connections and the path prefix of its base URL. Services on HTTPS (and the registry)
    /// are not here: their requests go through AsyncHTTPClient.
    let routes: [YagnaService: Route]

    struct Route: Sendable {
        let daemon: DaemonConnections
        let prefix: String
    }

    public init(endpoints: YagnaEndpoints, client: HTTPClient = .shared, configuration: Configuration = .init(), logger: Logger? = nil) {
        self.endpoints = endpoints
        self.client = client
        self.configuration = configuration
        self.logger = logger ?? Logger(label: "golem.yagna.http")
        self.routes = Self.routes(endpoints, group: client.eventLoopGroup, limit: configuration.maxConnectionsPerDaemon)
    }

    /// One `DaemonConnections` per host and port among the services' plain-HTTP base URLs.
    static func routes(_ endpoints: YagnaEndpoints, group: any EventLoopGroup, limit: Int = 256) -> [YagnaService: Route] {
        var daemons: [String: DaemonConnections] = [:]
        var out: [YagnaService: Route] = [:]
        for service in YagnaService.allCases where service != .registry {
            // An IPv6 literal (`[::1]`) stays with AsyncHTTPClient, which knows its brackets.
            guard let url = URLComponents(string: endpoints.base(for: service)), url.scheme?.lowercased() == "http", let host = url.host,
                !host.isEmpty, !host.hasPrefix("["), url.query == nil
            else { continue }
            let port = url.port ?? 80
            let key = "\(host):\(port)"
            let daemon = daemons[key] ?? DaemonConnections(host: host, port: port, group: group, limit: limit)
            daemons[key] = daemon
            let path = url.percentEncodedPath
            out[service] = Route(daemon: daemon, prefix: path.hasSuffix("/") ? String(path.dropLast()) : path)
        }
        return out
    }

    /// Closes the idle keep-alive connections to the daemon.
    func closeConnections() {
        for route in routes.values { route.daemon.shutdown() }
    }

    /// Runs `body` with a transport on its own HTTP client, shut down afterwards.
    public static func withTransport<R: Sendable>(
        endpoints: YagnaEndpoints, configuration: Configuration = .init(), logger: Logger? = nil,
        _ body: (HTTPTransport) async throws -> R
    ) async throws -> R {
        // A requestor holds a long poll per activity, subscription and event stream at once:
        // the default of 8 connections per host would queue the rest behind them.
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let transport = HTTPTransport(endpoints: endpoints, client: client, configuration: configuration, logger: logger)
        do {
            let result = try await body(transport)
            transport.closeConnections()
            try await client.shutdown()
            return result
        } catch {
            transport.closeConnections()
            try? await client.shutdown()
            throw error
        }
    }

    public var description: String { "HTTPTransport(\(endpoints.root))" }

    /// Runs Swift concurrency's jobs on the event loops that do the HTTP I/O, so that an answer
    /// resumes the task waiting for it without a hop to another thread (SwiftNIO's
    /// `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`). Call it once,
    /// first thing in `main`, before any task starts; afterwards nothing in the process may
    /// block a thread (no blocking file or process waits outside a dedicated thread). Returns
    /// whether it took effect.
    @discardableResult
    public static func runConcurrencyOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    func makeRequest(_ request: YagnaRequest) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: endpoints.base(for: request.service) + request.pathWithQuery)
        r.method = NIOHTTP1.HTTPMethod(rawValue: request.method.rawValue)
        if request.service != .registry { r.headers.add(name: "Authorization", value: "Bearer \(endpoints.appKey)") }
        for header in request.headers { r.headers.replaceOrAdd(name: header.name, value: header.value) }
        if let body = request.body {
            if !r.headers.contains(name: "Content-Type") { r.headers.add(name: "Content-Type", value: "application/json") }
            r.body = .bytes(ByteBuffer(bytes: body))
        }
        return r
    }

    func deadline(for request: YagnaRequest) -> Duration {
        if let poll = request.longPoll { return poll + configuration.longPollMargin }
        return configuration.requestTimeout
    }

    public func send(_ request: YagnaRequest) async throws -> YagnaResponse {
        let timeout = deadline(for: request)
        logger.trace("request", metadata: ["operation": "\(request.operation)", "path": "\(request.path)"])
        do {
            if request.method != .HEAD, let route = routes[request.service] {
                var headers = HTTPHeaders()
                headers.add(name: "Authorization", value: "Bearer \(endpoints.appKey)")
                for header in request.headers { headers.replaceOrAdd(name: header.name, value: header.value) }
                if request.body != nil, !headers.contains(name: "Content-Type") { headers.add(name: "Content-Type", value: "application/json") }
                let (head, body) = try await route.daemon.send(
                    method: NIOHTTP1.HTTPMethod(rawValue: request.method.rawValue), target: route.prefix + request.pathWithQuery, headers: headers,
                    body: request.body, deadline: .now() + .nanoseconds(timeout.nanoseconds), maxBodyBytes: configuration.maxBodyBytes)
                return YagnaResponse(
                    status: Int(head.status.code), headers: head.headers.map { Header($0.name, $0.value) }, body: scrub(Array(buffer: body)))
            }
            let response = try await client.execute(makeRequest(request), timeout: .nanoseconds(timeout.nanoseconds))
            let body = try await response.body.collect(upTo: configuration.maxBodyBytes)
            return YagnaResponse(
                status: Int(response.status.code), headers: response.headers.map { Header($0.name, $0.value) },
                body: scrub(Array(buffer: body)))
        } catch {
            throw mapError(error, request)
        }
    }

    public func openEventStream(_ request: YagnaRequest) async throws -> EventStreamResponse {
        var r = makeRequest(request)
        r.headers.replaceOrAdd(name: "Accept", value: "text/event-stream")
        let response: HTTPClientResponse
        do {
            // A stream may stay open for as long as the batch runs; only connecting is bounded.
            response = try await client.execute(r, timeout: .hours(24))
        } catch {
            throw mapError(error, request)
        }
        let type = response.headers.first(name: "Content-Type") ?? ""
        guard (200..<300).contains(Int(response.status.code)), type.hasPrefix("text/event-stream") else {
            let body = (try? await response.body.collect(upTo: configuration.maxBodyBytes)).map { Array(buffer: $0) } ?? []
            return .response(
                YagnaResponse(
                    status: Int(response.status.code), headers: response.headers.map { Header($0.name, $0.value) }, body: scrub(body)))
        }
        let reader = FrameReader(iterator: response.body.makeAsyncIterator(), map: { mapError($0, request) })
        return .stream(AsyncThrowingStream { try await reader.next() })
    }

    /// Replaces the app key wherever a body echoes it.
    func scrub(_ bytes: [UInt8]) -> [UInt8] {
        // Keys shorter than 8 characters are not scrubbed: they would mangle ordinary text.
        let key = Array(endpoints.appKey.utf8)
        guard key.count >= 8, bytes.count >= key.count else { return bytes }
        // Compared as bytes: most answers do not hold the key, and looking costs no String.
        var out: [UInt8] = []
        var copied = 0, i = 0
        while i <= bytes.count - key.count {
            if bytes[i] == key[0], bytes[i ..< i + key.count].elementsEqual(key) {
                out += bytes[copied ..< i]
                out += Array("<redacted>".utf8)
                i += key.count
                copied = i
            } else {
                i += 1
            }
        }
        guard copied > 0 else { return bytes }
        return out + bytes[copied...]
    }

    static func isTimeout(_ error: any Error) -> Bool {
        switch error {
        case let e as HTTPClientError: [.deadlineExceeded, .readTimeout, .connectTimeout].contains(e)
        case DaemonConnections.Failure.timedOut, DaemonConnections.Failure.noConnection, ChannelError.connectTimeout: true
        default: false
        }
    }

    func mapError(_ error: any Error, _ request: YagnaRequest) -> YagnaError {
        if let e = error as? YagnaError { return e }
        let text = endpoints.appKey.count >= 8 ? "\(error)".replacingOccurrences(of: endpoints.appKey, with: "<redacted>") : "\(error)"
        let timedOut = Self.isTimeout(error)
        var message = timedOut ? "no answer within \(deadline(for: request))" : text
        if case DaemonConnections.Failure.noConnection(let limit) = error {
            message = "no connection to the daemon came free within \(deadline(for: request)): all \(limit) were in use "
                + "(HTTPTransport.Configuration.maxConnectionsPerDaemon)"
        }
        return YagnaError(
            code: timedOut ? .clientTimeout : .transport, operation: request.operation, method: request.method,
            path: request.path, status: nil, message: message)
    }
}

/// Reads SSE frames off a response body; one consumer at a time.
final class FrameReader: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private var parser = ServerSentEventParser()
    private var pending: [ServerSentEvent] = []
    private let map: @Sendable (any Error) -> any Error

    init(iterator: HTTPClientResponse.Body.AsyncIterator, map: @escaping @Sendable (any Error) -> any Error) {
        self.iterator = iterator
        self.map = map
    }

    func next() async throws -> ServerSentEvent? {
        while pending.isEmpty {
            let chunk: ByteBuffer?
            do { chunk = try await iterator.next() } catch { throw map(error) }
            guard let chunk else { return nil }
            pending = parser.feed(chunk.readableBytesView)
        }
        return pending.removeFirst()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
