import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Keep-alive HTTP/1.1 connections to one plain-HTTP daemon (`http://host:port`), for the
/// transport's ordinary requests: a request takes an idle connection (or opens one), writes its
/// head and body in one flush, and hands the connection back once the whole answer is in. One
/// request per connection at a time; a long poll holds its connection until it is answered.
///
/// It does for these requests what AsyncHTTPClient does, with a fraction of its bookkeeping per
/// request (measured: most of the requestor's CPU per task went to the client's connection
/// pool, request state machines and body streaming). Event streams and HTTPS go through
/// AsyncHTTPClient.
final class DaemonConnections: Sendable {
    let host: String
    let port: Int
    let group: any EventLoopGroup
    /// A connection idle this long is closed rather than reused: servers close idle keep-alive
    /// connections after a few seconds (the daemon's HTTP server after 5 s), and a request
    /// written as the server closes would be lost.
    static let idleLimit = TimeAmount.seconds(2)

    private struct Idle {
        let connection: Connection
        let since: NIODeadline
    }
    private struct State {
        var idle: [Idle] = []
        var opened = 0
        var closed = false
    }
    private let state = Mutex(State())

    init(host: String, port: Int, group: any EventLoopGroup) {
        self.host = host
        self.port = port
        self.group = group
    }

    deinit {
        for idle in state.withLock({ $0.idle }) { idle.connection.channel.close(promise: nil) }
    }

    /// How many connections this pool has opened so far.
    var connectionsOpened: Int { state.withLock { $0.opened } }

    /// Closes the idle connections; later requests fail.
    func shutdown() {
        let idle = state.withLock { s -> [Idle] in
            s.closed = true
            defer { s.idle.removeAll() }
            return s.idle
        }
        for i in idle { i.connection.channel.close(promise: nil) }
    }

    /// Why a request got no answer.
    enum Failure: Error, CustomStringConvertible {
        /// No complete answer before the deadline.
        case timedOut
        /// The connection closed before the answer was complete; `early` when nothing of the
        /// answer had arrived.
        case closed(early: Bool)
        /// The answer's body is larger than allowed.
        case tooLarge(limit: Int)
        case shutDown

        var description: String {
            switch self {
            case .timedOut: "no answer before the deadline"
            case .closed(let early): early ? "the connection closed without an answer" : "the connection closed in the middle of the answer"
            case .tooLarge(let limit): "the answer's body is larger than \(limit) bytes"
            case .shutDown: "the transport is shut down"
            }
        }
    }

    /// Sends one request (`target` is the path with its query) and returns the answer's head
    /// and body.
    func send(
        method: NIOHTTP1.HTTPMethod, target: String, headers: HTTPHeaders, body: [UInt8]?, deadline: NIODeadline, maxBodyBytes: Int
    ) async throws -> (HTTPResponseHead, ByteBuffer) {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: target, headers: headers)
        head.headers.replaceOrAdd(name: "Host", value: "\(host):\(port)")
        if let body {
            head.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
        } else if method == .POST || method == .PUT {
            head.headers.replaceOrAdd(name: "Content-Length", value: "0")
        }
        let bytes = body.map { ByteBuffer(bytes: $0) }
        if let reused = takeIdle() {
            // A GET on a reused connection that closes before any of the answer arrives (the
            // server closed it as the request went out) goes once more on a new connection. Other
            // methods are not sent twice: the error reaches the caller, as a dropped connection
            // always did.
            guard method == .GET else {
                return try await exchange(on: reused, head: head, body: bytes, deadline: deadline, maxBodyBytes: maxBodyBytes)
            }
            do {
                return try await exchange(on: reused, head: head, body: bytes, deadline: deadline, maxBodyBytes: maxBodyBytes)
            } catch Failure.closed(early: true) {}
        }
        let fresh = try await connect(deadline: deadline)
        return try await exchange(on: fresh, head: head, body: bytes, deadline: deadline, maxBodyBytes: maxBodyBytes)
    }

    private func takeIdle() -> Connection? {
        let now = NIODeadline.now()
        var stale: [Connection] = []
        let found = state.withLock { s -> Connection? in
            // Preferably one on the event loop this task runs on (with concurrency on the event
            // loops, the usual case): the request is written and its answer resumes the task on
            // the same thread, with no wake-up of another.
            if let i = s.idle.lastIndex(where: {
                now - $0.since < Self.idleLimit && $0.connection.channel.eventLoop.inEventLoop && $0.connection.channel.isActive
            }) {
                return s.idle.remove(at: i).connection
            }
            while let last = s.idle.popLast() {
                if now - last.since < Self.idleLimit, last.connection.channel.isActive { return last.connection }
                stale.append(last.connection)
            }
            return nil
        }
        for c in stale { c.channel.close(promise: nil) }
        return found
    }

    private func giveBack(_ connection: Connection) {
        let kept = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            s.idle.append(Idle(connection: connection, since: .now()))
            return true
        }
        if !kept { connection.channel.close(promise: nil) }
    }

    private func connect(deadline: NIODeadline) async throws -> Connection {
        guard !state.withLock({ $0.closed }) else { throw Failure.shutDown }
        let wait = max(deadline - .now(), .milliseconds(1))
        // On the event loop this task runs on, if it runs on one (`any()`), for the reason above.
        let channel = try await ClientBootstrap(group: group.any())
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(min(wait, .seconds(30)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(AnswerCollector())
                }
            }
            .connect(host: host, port: port).get()
        state.withLock { $0.opened += 1 }
        return Connection(channel: channel)
    }

    private func exchange(
        on connection: Connection, head: HTTPRequestHead, body: ByteBuffer?, deadline: NIODeadline, maxBodyBytes: Int
    ) async throws -> (HTTPResponseHead, ByteBuffer) {
        let channel = connection.channel
        let promise = channel.eventLoop.makePromise(of: (HTTPResponseHead, ByteBuffer).self)
        channel.eventLoop.execute {
            guard let collector = try? channel.pipeline.syncOperations.handler(type: AnswerCollector.self) else {
                // The pipeline is gone: the channel closed.
                promise.fail(Failure.closed(early: true))
                return
            }
            collector.expect(promise, limit: maxBodyBytes)
            let bound = NIOLoopBound(collector, eventLoop: channel.eventLoop)
            let timer = channel.eventLoop.scheduleTask(deadline: deadline) {
                bound.value.fail(Failure.timedOut, ifWaiting: promise)
                channel.close(promise: nil)
            }
            promise.futureResult.whenComplete { _ in timer.cancel() }
            let written = channel.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenFailure { error in
                // The request did not go out whole: for the caller, the connection closed under it.
                bound.value.fail(bound.value.receivedAny ? error : Failure.closed(early: true), ifWaiting: promise)
                channel.close(promise: nil)
            }
            let pipeline = channel.pipeline.syncOperations
            pipeline.write(NIOAny(HTTPClientRequestPart.head(head)), promise: nil)
            if let body { pipeline.write(NIOAny(HTTPClientRequestPart.body(.byteBuffer(body))), promise: nil) }
            pipeline.writeAndFlush(NIOAny(HTTPClientRequestPart.end(nil)), promise: written)
        }
        let answer = try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            channel.eventLoop.execute {
                // Only while this request still waits: once answered, the connection may already
                // serve another request.
                guard let collector = try? channel.pipeline.syncOperations.handler(type: AnswerCollector.self), collector.isWaiting(for: promise)
                else { return }
                collector.fail(CancellationError(), ifWaiting: promise)
                channel.close(promise: nil)
            }
        }
        if answer.0.isKeepAlive { giveBack(connection) } else { channel.close(promise: nil) }
        return answer
    }
}

/// One open connection.
struct Connection: Sendable {
    let channel: any Channel
}

/// Collects one answer at a time off a connection and completes the promise of the request that
/// is waiting for it.
final class AnswerCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var promise: EventLoopPromise<(HTTPResponseHead, ByteBuffer)>?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    private var limit = 0
    private var received = false

    func expect(_ promise: EventLoopPromise<(HTTPResponseHead, ByteBuffer)>, limit: Int) {
        self.promise = promise
        self.limit = limit
        head = nil
        body.clear()
        received = false
    }

    /// Whether `promise`'s request is the one waiting for an answer.
    func isWaiting(for promise: EventLoopPromise<(HTTPResponseHead, ByteBuffer)>) -> Bool {
        self.promise?.futureResult === promise.futureResult
    }

    /// Whether any of the current answer has arrived.
    var receivedAny: Bool { received }

    /// Fails `promise`'s request if it is the one waiting (a no-op otherwise).
    func fail(_ error: any Error, ifWaiting promise: EventLoopPromise<(HTTPResponseHead, ByteBuffer)>) {
        guard isWaiting(for: promise) else { return }
        fail(error)
    }

    /// Fails the waiting request (a no-op when none waits).
    func fail(_ error: any Error) {
        guard let promise else { return }
        self.promise = nil
        promise.fail(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received = true
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body(var chunk):
            guard body.readableBytes + chunk.readableBytes <= limit else {
                fail(DaemonConnections.Failure.tooLarge(limit: limit))
                context.close(promise: nil)
                return
            }
            body.writeBuffer(&chunk)
        case .end:
            guard let promise, let head else { return }
            self.promise = nil
            let answer = body
            body = ByteBuffer()
            promise.succeed((head, answer))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(DaemonConnections.Failure.closed(early: !received))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // An error before any of the answer (a reset by the server) is a connection closed early.
        fail(received || promise == nil ? error : DaemonConnections.Failure.closed(early: true))
        context.close(promise: nil)
    }
}
