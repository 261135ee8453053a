import AsyncHTTPClient
public import Foundation
public import GolemRecording
public import GolemTime
import HTTPTypes
public import Hummingbird
public import Logging
import NIOCore
import NIOHTTP1
import YagnaAPI

/// The recording proxy: a transparent proxy for the yagna REST API (long polls and SSE streams
/// pass through as they arrive) that commits every exchange to a recording once its answer is
/// complete, after the answer has gone to the client.
public enum RecordingProxy {
    /// Proxies `host:port` to `upstream` into `writer` until cancelled or sent SIGINT/SIGTERM,
    /// then stops gracefully (`StoppingServers`).
    public static func run(
        upstream: URL, writer: RecordingWriter, sanitizer: Sanitizer, clock: any GolemClock = SystemClock(), host: String = "127.0.0.1",
        port: Int = 7466, logger: Logger = Logger(label: "golem-sim.record"), handleSignals: Bool = true,
        onListening: @escaping @Sendable (Int) async -> Void
    ) async throws {
        // Every long poll the app holds is forwarded at once: more connections than AHC's default 8.
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10)))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let start = clock.now
        let committer = Committer(writer: writer, sanitizer: sanitizer, logger: logger)
        defer { committer.flush() }
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in
                try await forward(request, upstream: upstream, client: client, committer: committer, clock: clock, start: start)
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "golem-sim-record"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger)
        do {
            try await StoppingServers.run(app, handleSignals: handleSignals, logger: logger)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    /// The upstream daemon's version from `GET /version/get`, best effort (`nil` if it does not answer).
    public static func daemonVersion(_ upstream: URL) async -> String? {
        var base = upstream.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        let request = HTTPClientRequest(url: base + "/version/get")
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(3)),
            let body = try? await response.body.collect(upTo: 1 << 20),
            let value = try? JSONParser.parse(Array(buffer: body))
        else { return nil }
        return value["current"]?["version"]?.stringValue
    }

    static let hopByHop: Set<String> = ["connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade", "te", "trailer"]

    /// Commits exchanges in the order they complete, on a queue of its own: the proxy hands an
    /// exchange over and answers the next request at once, so the SQLite transaction is not on
    /// the response path.
    final class Committer: Sendable {
        let queue = DispatchQueue(label: "golem-sim.record.commit")
        let writer: RecordingWriter
        let sanitizer: Sanitizer
        let logger: Logger

        init(writer: RecordingWriter, sanitizer: Sanitizer, logger: Logger) {
            self.writer = writer
            self.sanitizer = sanitizer
            self.logger = logger
        }

        func commit(_ e: RecordedExchange) {
            queue.async { [writer, sanitizer, logger] in
                do { try writer.append(sanitizer.clean(e)) } catch { logger.error("\(error)") }
            }
        }

        /// Waits until every exchange handed over so far is committed.
        func flush() { queue.sync {} }
    }

    static func forward(
        _ request: Request, upstream: URL, client: HTTPClient, committer: Committer, clock: any GolemClock, start: Date
    ) async throws -> Response {
        var request = request
        let began = start.duration(to: clock.now).totalNanoseconds
        let body = Array(buffer: try await request.collectBody(upTo: 256 << 20))
        let path = request.uri.path
        let query = request.uri.query ?? ""
        var base = upstream.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        var outgoing = HTTPClientRequest(url: base + path + (query.isEmpty ? "" : "?" + query))
        outgoing.method = .RAW(value: request.method.rawValue)
        var requestHeaders: [Header] = []
        for field in request.headers {
            requestHeaders.append(Header(field.name.rawName, field.value))
            guard !hopByHop.contains(field.name.rawName.lowercased()) else { continue }
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        if !body.isEmpty { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        var exchange = RecordedExchange(
            sequence: 0, startOffset: began, endOffset: began, method: request.method.rawValue, path: path, query: query,
            requestHeaders: requestHeaders, requestBody: body, status: -1)
        @Sendable func commit(_ e: RecordedExchange) { committer.commit(e) }
        let upstreamResponse: HTTPClientResponse
        do {
            upstreamResponse = try await client.execute(outgoing, timeout: .hours(2))
        } catch {
            exchange.endOffset = start.duration(to: clock.now).totalNanoseconds
            exchange.status = 502
            let message = JSONWriter.string(["message": .string("golem-sim record: the upstream daemon at \(base) did not answer: \(error)")])
            exchange.responseBody = Array(message.utf8)
            commit(exchange)
            var fields = HTTPFields()
            fields[.contentType] = "application/json"
            return Response(status: .badGateway, headers: fields, body: .init(byteBuffer: ByteBuffer(string: message)))
        }
        exchange.status = Int(upstreamResponse.status.code)
        var fields = HTTPFields()
        for h in upstreamResponse.headers {
            exchange.responseHeaders.append(Header(h.name, h.value))
            guard !hopByHop.contains(h.name.lowercased()), let name = HTTPField.Name(h.name) else { continue }
            fields.append(HTTPField(name: name, value: h.value))
        }
        let streamed = upstreamResponse.headers.first(name: "content-type")?.lowercased().hasPrefix("text/event-stream") == true
        exchange.streamed = streamed
        let snapshot = exchange
        return Response(status: .init(code: Int(upstreamResponse.status.code)), headers: fields, body: ResponseBody { out in
            var e = snapshot
            var parser = ServerSentEventParser()
            do {
                for try await chunk in upstreamResponse.body {
                    try await out.write(chunk)
                    let bytes = Array(buffer: chunk)
                    if streamed {
                        let at = start.duration(to: clock.now).totalNanoseconds
                        for frame in parser.feed(bytes) { e.frames.append(RecordedFrame(offset: at, event: frame)) }
                    }
                    e.responseBody += bytes
                }
                try await out.finish(nil)
            } catch {
                e.endOffset = start.duration(to: clock.now).totalNanoseconds
                commit(e)
                throw error
            }
            e.endOffset = start.duration(to: clock.now).totalNanoseconds
            commit(e)
        })
    }
}
