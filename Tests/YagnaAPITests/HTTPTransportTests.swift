import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SimulatorServer
import Testing
import YagnaAPI
@testable import YagnaHTTP

/// A local Hummingbird server on port 0 standing in for the daemon.
struct TestDaemon {
    static let appKey = "s3cret-app-key-0123456789"

    /// Runs `body` against a server answering with `respond`.
    static func run(
        _ respond: @escaping @Sendable (Request) async throws -> Response,
        _ body: @Sendable (HTTPTransport) async throws -> Void
    ) async throws {
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let logger = Logger(label: "test-daemon")
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in try await respond(request) },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portSink.yield(channel.localAddress!.port!) },
            logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // A server that fails before it listens ends the wait for its port.
                defer { portSink.finish() }
                try await StoppingServers.run(app, handleSignals: false, logger: logger)
            }
            var it = ports.makeAsyncIterator()
            let port = try #require(await it.next())
            let endpoints = YagnaEndpoints(apiURL: "http://127.0.0.1:\(port)", appKey: appKey)
            try await HTTPTransport.withTransport(endpoints: endpoints, configuration: .init(longPollMargin: .milliseconds(300))) {
                try await body($0)
            }
            group.cancelAll()
        }
    }

    static func authorized(_ request: Request) -> Bool {
        request.headers[.authorization] == "Bearer \(appKey)"
    }

    static func text(_ status: HTTPResponse.Status, _ body: String, type: String = "text/plain") -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

@Suite struct HTTPTransportTests {
    @Test func sendsBearerAuthAndDecodes() async throws {
        try await TestDaemon.run({ request in
            guard TestDaemon.authorized(request) else { return TestDaemon.text(.unauthorized, "Invalid application key") }
            return TestDaemon.text(.ok, #"{"identity":"0xa1","name":"r","role":"manager"}"#, type: "application/json")
        }) { transport in
            let me = try await YagnaClient(transport: transport).identity.me()
            #expect(me.identity == "0xa1")
        }
    }

    @Test func statusesMapToTypedErrors() async throws {
        try await TestDaemon.run({ request in
            switch request.uri.path {
            case "/me": return TestDaemon.text(.unauthorized, "Invalid application key")
            case "/market-api/v1/demands/missing/events":
                return TestDaemon.text(.notFound, #"{"message":"Subscription [missing] not found"}"#, type: "application/json")
            case "/market-api/v1/agreements/a/wait":
                return TestDaemon.text(.init(code: 408), #"{"message":"Timeout waiting for Agreement approval"}"#, type: "application/json")
            case "/market-api/v1/agreements/b/wait":
                return TestDaemon.text(.gone, #"{"message":"Rejected"}"#, type: "application/json")
            case "/payment-api/v1/invoices/x": return TestDaemon.text(.internalServerError, "GSB error: endpoint address not found")
            case "/payment-api/v1/allocations":
                return TestDaemon.text(
                    .badRequest, #"{"type":"about:blank","detail":"Insufficient funds","requestedFunds":"100"}"#, type: "application/problem+json")
            case "/payment-api/v1/debitNotes/y": return TestDaemon.text(.ok, #"{"debitNoteId":"y"}"#, type: "application/json")
            default: return TestDaemon.text(.notFound, #"{"message":null}"#, type: "application/json")
            }
        }) { transport in
            let yagna = YagnaClient(transport: transport)
            let unauthorized = await #expect(throws: YagnaError.self) { try await yagna.identity.me() }
            #expect(unauthorized?.code == .unauthorized)
            #expect(unauthorized?.message == "Invalid application key")
            #expect(unauthorized?.operation == "identity.me")

            let notFound = await #expect(throws: YagnaError.self) { try await yagna.market.events("missing") }
            #expect(notFound?.code == .notFound)
            #expect(notFound?.status == 404)
            #expect(notFound?.message == "Subscription [missing] not found")

            let timeout = await #expect(throws: YagnaError.self) { try await yagna.market.waitForApproval("a", timeout: .seconds(1)) }
            #expect(timeout?.code == .timeout)
            #expect(timeout?.isIntermittent == true)

            let gone = await #expect(throws: YagnaError.self) { try await yagna.market.waitForApproval("b") }
            #expect(gone?.code == .gone)
            #expect(gone?.message == "Rejected")

            let server = await #expect(throws: YagnaError.self) { try await yagna.payment.invoice("x") }
            #expect(server?.code == .serverError)
            #expect(server?.message == "GSB error: endpoint address not found")

            let problem = await #expect(throws: YagnaError.self) { try await yagna.payment.createAllocation(NewAllocation(totalAmount: 100)) }
            #expect(problem?.code == .badRequest)
            #expect(problem?.message == "Insufficient funds")

            let malformed = await #expect(throws: YagnaError.self) { try await yagna.payment.debitNote("y") }
            #expect(malformed?.code == .malformedResponse)
            #expect(malformed?.operation == "payment.getDebitNote")
            #expect(malformed?.field == "issuerId")

            let nullMessage = await #expect(throws: YagnaError.self) { try await yagna.payment.allocation("none") }
            #expect(nullMessage?.code == .notFound)
            #expect(nullMessage?.message == nil)
        }
    }

    @Test func appKeyNeverAppearsInErrors() async throws {
        try await TestDaemon.run({ request in
            // A daemon that echoes the key back must not leak it through our errors.
            TestDaemon.text(.unauthorized, "Invalid application key: \(request.headers[.authorization] ?? "")")
        }) { transport in
            let error = await #expect(throws: YagnaError.self) { try await YagnaClient(transport: transport).identity.me() }
            let text = "\(String(describing: error)) \(error?.message ?? "") \(transport) \(transport.endpoints)"
            #expect(!text.contains(TestDaemon.appKey))
            #expect(text.contains("<redacted>"))
        }
    }

    /// Every echo of the key in an answer's body is replaced, wherever it stands (first,
    /// last, twice in a row); text that only starts like the key is left as it is.
    @Test func appKeyIsScrubbedFromEveryAnswer() async throws {
        let key = TestDaemon.appKey
        let cases: [(body: String, expected: String)] = [
            ("\(key) and \(key)\(key) end \(key)", "<redacted> and <redacted><redacted> end <redacted>"),
            ("s3cret-app-key-012345678 (one short)", "s3cret-app-key-012345678 (one short)"),
            ("no key here", "no key here"),
            ("ss3cret-app-key-0123456789x", "s<redacted>x"),
            ("", ""),
        ]
        for (body, expected) in cases {
            try await TestDaemon.run({ _ in TestDaemon.text(.ok, body) }) { transport in
                let response = try await transport.send(YagnaRequest(operation: "identity.me", service: .root, method: .GET, path: "/me"))
                #expect(String(decoding: response.body, as: UTF8.self) == expected)
            }
        }
    }

    @Test func longPollTimeoutIsHonoured() async throws {
        let (never, finish) = AsyncStream<Void>.makeStream()
        try await TestDaemon.run({ _ in
            // Never answers within the client's deadline (long poll 0.2 s + 0.3 s margin).
            for await _ in never {}
            return TestDaemon.text(.ok, "[]")
        }) { transport in
            let error = await #expect(throws: YagnaError.self) {
                try await YagnaClient(transport: transport).market.events("s", timeout: .milliseconds(200))
            }
            #expect(error?.code == .clientTimeout)
            #expect(error?.isIntermittent == true)
            finish.finish()
        }
    }

    @Test func sseFramesArriveThroughSplitChunksAndPings() async throws {
        let frames = [
            "event: runtime\n" + #"data: {"batch_id":"b","index":0,"timestamp":"2026-11-22T13:23:59.5","kind":{"started":{"command":{"run":{}}}}}"# + "\nid: 1\n\n",
            ":ping\n",
            "event: runtime\r\n" + #"data: {"batch_id":"b","index":0,"timestamp":"2026-11-22T13:23:59.6","kind":{"stdout":"hello é\n"}}"# + "\r\nid: 2\r\n\r\n",
            "event: runtime\n" + #"data: {"batch_id":"b","index":0,"timestamp":"2026-11-22T13:23:59.7","kind":{"finished":{"return_code":0,"message":null}}}"# + "\nid: 3\n\n",
        ].joined()
        let bytes = Array(frames.utf8)
        try await TestDaemon.run({ request in
            guard request.headers[.accept] == "text/event-stream" else { return TestDaemon.text(.badRequest, "no stream asked") }
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                // Split the stream into awkward chunks: inside a line, a CRLF and a UTF-8 sequence.
                var index = 0
                for size in [7, 1, 60, 3, 200, 2, 1, 5, 10_000] where index < bytes.count {
                    let end = min(bytes.count, index + size)
                    try await writer.write(ByteBuffer(bytes: bytes[index..<end]))
                    index = end
                }
                try await writer.finish(nil)
            })
        }) { transport in
            var events: [RuntimeEvent] = []
            for try await event in try await YagnaClient(transport: transport).activity.streamResults("a", batchId: "b") {
                events.append(event)
            }
            #expect(events.map(\.kind) == [.started(command: ["run": [:]]), .stdout(.text("hello é\n")), .finished(returnCode: 0, message: nil)])
        }
    }
}

@Suite struct ServerSentEventParserTests {
    @Test func parsesEveryByteSplit() {
        let text = "event: runtime\ndata: a\ndata: b\nid: 7\n\n:ping\n\ndata: {\"x\":1}\r\n\r\n"
        let bytes = Array(text.utf8)
        for split in 0...bytes.count {
            var parser = ServerSentEventParser()
            let frames = parser.feed(bytes[..<split]) + parser.feed(bytes[split...])
            #expect(frames == [ServerSentEvent(event: "runtime", data: "a\nb", id: "7"), ServerSentEvent(data: "{\"x\":1}")], "split at \(split)")
        }
    }

    @Test func unterminatedFrameIsDropped() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: half".utf8)).isEmpty)
        #expect(parser.finish().isEmpty)
    }
}

/// The transport's own keep-alive connections to a plain-HTTP daemon.
@Suite struct DaemonConnectionTests {
    static func me(_ transport: HTTPTransport) async throws -> YagnaResponse {
        try await transport.send(YagnaRequest(operation: "identity.me", service: .root, method: .GET, path: "/me"))
    }

    /// Which services get their own connections: plain HTTP with a host name or an IPv4
    /// address; HTTPS, IPv6 literals and the registry stay with AsyncHTTPClient.
    @Test func routesCoverPlainHTTPDaemonsOnly() {
        let group = MultiThreadedEventLoopGroup.singleton
        let local = HTTPTransport.routes(YagnaEndpoints(apiURL: "http://127.0.0.1:7465/", appKey: "k"), group: group)
        #expect(local[.root]?.prefix == "")
        #expect(local[.activity]?.prefix == "/activity-api/v1")
        #expect(local[.root]?.daemon.port == 7465)
        #expect(local[.registry] == nil)
        #expect(HTTPTransport.routes(YagnaEndpoints(apiURL: "http://[::1]:7465", appKey: "k"), group: group).isEmpty)
        #expect(HTTPTransport.routes(YagnaEndpoints(apiURL: "https://node.example", appKey: "k"), group: group).isEmpty)
        var split = YagnaEndpoints(apiURL: "http://localhost", appKey: "k")
        split.market = "http://market.local:8080/m/"
        let routes = HTTPTransport.routes(split, group: group)
        #expect(routes[.market]?.prefix == "/m")
        #expect(routes[.market]?.daemon.host == "market.local")
        #expect(routes[.root]?.daemon.port == 80)
        #expect(routes[.root]?.daemon !== routes[.market]?.daemon)
    }

    @Test func sequentialRequestsShareOneConnection() async throws {
        try await TestDaemon.run({ _ in TestDaemon.text(.ok, "{}") }) { transport in
            for _ in 0..<20 { #expect(try await Self.me(transport).status == 200) }
            let daemon = try #require(transport.routes[.root]?.daemon)
            #expect(daemon.connectionsOpened == 1)
            // The market's base is on the same daemon: the same connections.
            #expect(transport.routes[.market]?.daemon === daemon)
            #expect(transport.routes[.market]?.prefix == "/market-api/v1")
        }
    }

    @Test func aServerThatClosesAfterEachAnswerGetsANewConnectionEachTime() async throws {
        try await TestDaemon.run({ _ in
            var response = TestDaemon.text(.ok, "{}")
            response.headers[.connection] = "close"
            return response
        }) { transport in
            for _ in 0..<5 {
                let answer = try await Self.me(transport)
                #expect(answer.status == 200)
            }
            #expect(transport.routes[.root]?.daemon.connectionsOpened == 5)
        }
    }

    @Test func concurrentRequestsEachGetAnAnswer() async throws {
        try await TestDaemon.run({ request in TestDaemon.text(.ok, request.uri.path) }) { transport in
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<16 {
                    group.addTask {
                        let r = try await transport.send(YagnaRequest(operation: "x", service: .market, method: .GET, path: "/n/\(i)"))
                        return (i, String(decoding: r.body, as: UTF8.self))
                    }
                }
                var seen = 0
                for try await (i, body) in group {
                    #expect(body == "/market-api/v1/n/\(i)")
                    seen += 1
                }
                #expect(seen == 16)
            }
        }
    }

    @Test func anAnswerOverTheLimitIsATransportError() async throws {
        try await TestDaemon.run({ _ in TestDaemon.text(.ok, String(repeating: "x", count: 4096)) }) { transport in
            let small = HTTPTransport(
                endpoints: transport.endpoints, client: transport.client, configuration: .init(maxBodyBytes: 1000))
            let error = await #expect(throws: YagnaError.self) { try await Self.me(small) }
            #expect(error?.code == .transport)
            #expect(error?.message?.contains("larger than 1000 bytes") == true)
            // The connection that broke off is not reused: the next request still works.
            let next = try await Self.me(transport)
            #expect(next.body.count == 4096)
            small.closeConnections()
        }
    }

    @Test func cancellingAWaitingRequestEndsIt() async throws {
        let (never, finish) = AsyncStream<Void>.makeStream()
        let (arrived, arrival) = AsyncStream<Void>.makeStream()
        try await TestDaemon.run({ request in
            if request.uri.path == "/me" { return TestDaemon.text(.ok, "{}") }
            arrival.yield()
            for await _ in never {}
            return TestDaemon.text(.ok, "[]")
        }) { transport in
            let poll = Task {
                try await transport.send(
                    YagnaRequest(operation: "market.collectDemandEvents", service: .market, method: .GET, path: "/demands/s/events", longPoll: .seconds(60)))
            }
            var it = arrived.makeAsyncIterator()
            _ = await it.next()
            poll.cancel()
            // Without cancellation this would wait for an answer that never comes (60 s).
            let error = await #expect(throws: YagnaError.self) { try await poll.value }
            #expect(error?.code == .transport)
            let next = try await Self.me(transport)
            #expect(next.status == 200)
            finish.finish()
        }
    }

    @Test func aDaemonThatIsNotThereIsATransportError() async throws {
        // A port nothing listens on: bind one, note it, close it.
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(probe.localAddress?.port)
        try await probe.close()
        try await HTTPTransport.withTransport(endpoints: YagnaEndpoints(apiURL: "http://127.0.0.1:\(port)", appKey: TestDaemon.appKey)) { transport in
            let error = await #expect(throws: YagnaError.self) { try await Self.me(transport) }
            #expect(error?.code == .transport)
        }
    }

    /// A server that answers the first request of each connection and closes the connection,
    /// unanswered, on the second: a GET goes again on a new connection; a POST is not sent twice.
    @Test func aConnectionClosedUnderARequestIsRetriedOnlyForGet() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AnswerFirstOnly()) } }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        try await HTTPTransport.withTransport(endpoints: YagnaEndpoints(apiURL: "http://127.0.0.1:\(port)", appKey: TestDaemon.appKey)) { transport in
            let get = YagnaRequest(operation: "identity.me", service: .root, method: .GET, path: "/me")
            let post = YagnaRequest(operation: "x", service: .root, method: .POST, path: "/x")
            #expect(try await transport.send(get).status == 200)
            let again = try await transport.send(get)
            #expect(again.status == 200)
            #expect(transport.routes[.root]?.daemon.connectionsOpened == 2)
            // The second connection is idle after its first answer; a POST on it is dropped.
            let error = await #expect(throws: YagnaError.self) { try await transport.send(post) }
            #expect(error?.code == .transport)
            #expect(transport.routes[.root]?.daemon.connectionsOpened == 2)
        }
        try await server.close()
    }
}

/// Answers the first request on a connection (`200 {}`, kept alive) and closes the connection
/// when a second one arrives.
final class AnswerFirstOnly: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var pending = ""
    private var requests = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readString(length: buffer.readableBytes) ?? ""
        while let end = pending.range(of: "\r\n\r\n") {
            pending = String(pending[end.upperBound...])
            requests += 1
            guard requests == 1 else {
                context.close(promise: nil)
                return
            }
            let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
        }
    }
}

/// Holds requests at the test daemon until opened; counts how many were inside at once.
actor RequestGate {
    private var isOpen = false
    private var held: [CheckedContinuation<Void, Never>] = []
    private var arrivalWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    private(set) var arrived = 0
    private(set) var inside = 0
    private(set) var mostInside = 0

    /// Called by the daemon's handler: waits while the gate is shut.
    func pass() async {
        arrived += 1
        inside += 1
        mostInside = max(mostInside, inside)
        for w in arrivalWaiters where w.count <= arrived { w.continuation.resume() }
        arrivalWaiters.removeAll { $0.count <= arrived }
        if !isOpen { await withCheckedContinuation { held.append($0) } }
        inside -= 1
    }

    /// Returns once `count` requests have arrived.
    func arrivals(_ count: Int) async {
        if arrived >= count { return }
        await withCheckedContinuation { arrivalWaiters.append((count, $0)) }
    }

    func open() {
        isOpen = true
        for c in held { c.resume() }
        held.removeAll()
    }
}

/// The pool's limit on connections to one daemon: requests beyond it wait, in order, within their
/// deadline and their task's life.
@Suite(.timeLimit(.minutes(1))) struct ConnectionLimitTests {
    /// A GET; a long poll (`longPoll`) has a deadline of its own beyond the transport's.
    static func get(_ transport: HTTPTransport, _ path: String, longPoll: Duration? = nil) async throws -> String {
        let r = try await transport.send(YagnaRequest(operation: "x", service: .market, method: .GET, path: path, longPoll: longPoll))
        return String(decoding: r.body, as: UTF8.self)
    }

    /// Runs `body` with a transport limited to `limit` connections, its daemon's pool, and the
    /// gate every request but `/free` passes at the daemon.
    static func limited(
        _ limit: Int, timeout: Duration = .seconds(60), _ body: @Sendable (HTTPTransport, DaemonConnections, RequestGate) async throws -> Void
    ) async throws {
        let gate = RequestGate()
        try await TestDaemon.run({ request in
            if !request.uri.path.hasSuffix("/free") { await gate.pass() }
            return TestDaemon.text(.ok, request.uri.path)
        }) { transport in
            let limited = HTTPTransport(
                endpoints: transport.endpoints, client: transport.client, configuration: .init(requestTimeout: timeout, maxConnectionsPerDaemon: limit))
            let daemon = try #require(limited.routes[.market]?.daemon)
            #expect(daemon.limit == limit)
            try await body(limited, daemon, gate)
            await gate.open()
            limited.closeConnections()
        }
    }

    @Test func requestsBeyondTheLimitWaitAndGoOutOnTheConnectionsHandedBack() async throws {
        try await Self.limited(2) { transport, daemon, gate in
            var waiting = daemon.watchWaiting().makeAsyncIterator()
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<5 { group.addTask { (i, try await Self.get(transport, "/n/\(i)")) } }
                // Ready: two requests at the daemon, three waiting for a connection.
                await gate.arrivals(2)
                while let n = await waiting.next(), n < 3 {}
                #expect(daemon.waiting == 3)
                await gate.open()
                var answered = 0
                for try await (i, body) in group {
                    #expect(body == "/market-api/v1/n/\(i)")
                    answered += 1
                }
                #expect(answered == 5)
            }
            #expect(daemon.connectionsOpened == 2)
            #expect(daemon.mostConnectionsAtOnce == 2)
            #expect(await gate.mostInside == 2)
            #expect(daemon.waiting == 0)
        }
    }

    @Test func aRequestThatFindsNoConnectionBeforeItsDeadlineSaysSo() async throws {
        try await Self.limited(1, timeout: .milliseconds(300)) { transport, daemon, gate in
            let held = Task { try await Self.get(transport, "/held", longPoll: .seconds(50)) }
            await gate.arrivals(1)
            let error = await #expect(throws: YagnaError.self) { try await Self.get(transport, "/free") }
            #expect(error?.code == .clientTimeout)
            #expect(error?.message?.contains("no connection to the daemon came free") == true)
            #expect(error?.message?.contains("maxConnectionsPerDaemon") == true)
            #expect(daemon.waiting == 0)
            try await Self.release(held, gate, then: transport)
        }
    }

    /// Lets the held request through, checks its answer and that the pool still serves.
    static func release(_ held: Task<String, any Error>, _ gate: RequestGate, then transport: HTTPTransport) async throws {
        await gate.open()
        let heldAnswer = try await held.value
        #expect(heldAnswer == "/market-api/v1/held")
        let after = try await Self.get(transport, "/free")
        #expect(after == "/market-api/v1/free")
    }

    @Test func aCancelledWaitingRequestLeavesTheQueue() async throws {
        try await Self.limited(1) { transport, daemon, gate in
            var waiting = daemon.watchWaiting().makeAsyncIterator()
            let held = Task { try await Self.get(transport, "/held") }
            await gate.arrivals(1)
            let queued = Task { try await Self.get(transport, "/free") }
            _ = await waiting.next()
            queued.cancel()
            // Without cancellation it would wait for the held request (60 s), then say no
            // connection came free.
            let error = await #expect(throws: YagnaError.self) { try await queued.value }
            #expect(error?.code == .transport)
            #expect(error?.message?.contains("Cancellation") == true)
            #expect(daemon.waiting == 0)
            // The place it waited for is still there for others.
            try await Self.release(held, gate, then: transport)
            #expect(daemon.connectionsOpened == 1)
        }
    }

    /// A connection still being opened when its task is cancelled: the task stops waiting at
    /// once, and the connection, should it open afterwards, is closed.
    @Test func cancellingWhileConnectingStopsAtOnceAndClosesTheLateConnection() async throws {
        try await TestDaemon.run({ _ in TestDaemon.text(.ok, "{}") }) { transport in
            let loop = MultiThreadedEventLoopGroup.singleton.any()
            let opening = loop.makePromise(of: (any Channel).self)
            let (started, start) = AsyncStream<Void>.makeStream()
            let connecting = Task {
                start.yield()
                return try await DaemonConnections.cancellably(opening.futureResult)
            }
            var it = started.makeAsyncIterator()
            _ = await it.next()
            connecting.cancel()
            await #expect(throws: CancellationError.self) { try await connecting.value }
            // The connection opens after all: it is closed, not leaked.
            let port = try #require(URLComponents(string: transport.endpoints.root)?.port)
            let late = try await ClientBootstrap(group: loop).connect(host: "127.0.0.1", port: port).get()
            opening.succeed(late)
            try await late.closeFuture.get()  // (bounded by the suite's time limit)
            #expect(!late.isActive)
        }
    }
}
