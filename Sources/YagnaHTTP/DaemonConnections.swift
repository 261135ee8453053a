import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Keep-alive HTTP/1.1 connections to one plain-HTTP daemon (`http://host:port`), for the
/// transport's ordinary requests: a request takes an idle connection (or opens one), writes its
/// head and body in one flush, and hands the connection back once the whole answer is in. One
/// request per connection at a time; a long poll holds its connection until it is answered.
/// At most `limit` connections are open (or opening) at once: beyond that, a request waits, in
/// order of arrival, for one handed back or closed — until its deadline, or until its task is
/// cancelled.
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

    /// The most connections open or being opened at once.
    let limit: Int

    private struct Idle {
        let connection: Connection
        let since: NIODeadline
    }
    /// What a request gets to go out on: an open connection, or leave to open one.
    enum Grant: Sendable {
        case connection(Connection)
        case open
    }
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Grant, any Error>
        var timer: Scheduled<Void>?
    }
    private struct State {
        var idle: [Idle] = []
        var opened = 0
        /// Connections open or being opened (each holds one of the `limit` places).
        var live = 0
        var mostLive = 0
        var waiters: [Waiter] = []
        var nextWaiter: UInt64 = 0
        var closed = false
        /// Told the number of waiting requests whenever one starts waiting (see `watchWaiting`).
        var watcher: AsyncStream<Int>.Continuation?
    }
    private let state = Mutex(State())

    init(host: String, port: Int, group: any EventLoopGroup, limit: Int = 256) {
        self.host = host
        self.port = port
        self.group = group
        self.limit = max(1, limit)
    }

    deinit {
        for idle in state.withLock({ $0.idle }) { idle.connection.channel.close(promise: nil) }
    }

    /// How many connections this pool has opened so far.
    var connectionsOpened: Int { state.withLock { $0.opened } }

    /// The most connections that were open (or being opened) at once.
    var mostConnectionsAtOnce: Int { state.withLock { $0.mostLive } }

    /// How many requests wait for a connection.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// The number of waiting requests each time a request starts waiting for a connection.
    func watchWaiting() -> AsyncStream<Int> {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        state.withLock { $0.watcher = continuation }
        return stream
    }

    /// Closes the idle connections; later requests, and those waiting for a connection, fail.
    func shutdown() {
        let (idle, waiters) = state.withLock { s -> ([Idle], [Waiter]) in
            s.closed = true
            defer {
                s.idle.removeAll()
                s.waiters.removeAll()
            }
            return (s.idle, s.waiters)
        }
        for i in idle { i.connection.channel.close(promise: nil) }
        for w in waiters {
            w.timer?.cancel()
            w.continuation.resume(throwing: Failure.shutDown)
        }
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
        /// Every one of the `limit` connections stayed in use until the deadline.
        case noConnection(limit: Int)
        case shutDown

        var description: String {
            switch self {
            case .timedOut: "no answer before the deadline"
            case .closed(let early): early ? "the connection closed without an answer" : "the connection closed in the middle of the answer"
            case .tooLarge(let limit): "the answer's body is larger than \(limit) bytes"
            case .noConnection(let limit): "all \(limit) connections to the daemon stayed in use until the deadline"
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
        if case .connection(let reused) = try await acquire(deadline: deadline) {
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
            // Its place comes free once the closed connection is gone.
            if case .connection(let other) = try await acquire(deadline: deadline, reuse: false) {
                return try await exchange(on: other, head: head, body: bytes, deadline: deadline, maxBodyBytes: maxBodyBytes)
            }
        }
        let fresh = try await connect(deadline: deadline)
        return try await exchange(on: fresh, head: head, body: bytes, deadline: deadline, maxBodyBytes: maxBodyBytes)
    }

    /// An idle connection, or leave to open one (a place among the `limit`), or — when every
    /// place is taken — whichever of the two comes first for the longest-waiting request.
    /// `reuse: false` waits for leave to open one (a retry after a reused one closed).
    func acquire(deadline: NIODeadline, reuse: Bool = true) async throws -> Grant {
        if reuse, let idle = takeIdle() { return .connection(idle) }
        let id: UInt64? = try state.withLock { s in
            guard !s.closed else { throw Failure.shutDown }
            if s.live < limit {
                s.live += 1
                s.mostLive = max(s.mostLive, s.live)
                return nil
            }
            s.nextWaiter += 1
            return s.nextWaiter
        }
        guard let id else { return .open }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, any Error>) in
                // Looked at again with the wait: a connection may have been handed back, or a
                // place come free, since.
                enum Outcome { case queued, grant(Grant), refused(any Error) }
                var stale: [Connection] = []
                let outcome = state.withLock { s -> Outcome in
                    if s.closed { return .refused(Failure.shutDown) }
                    if Task.isCancelled { return .refused(CancellationError()) }
                    if reuse, let idle = Self.pickIdle(&s, stale: &stale) { return .grant(.connection(idle)) }
                    if s.live < limit {
                        s.live += 1
                        s.mostLive = max(s.mostLive, s.live)
                        return .grant(.open)
                    }
                    if deadline <= .now() { return .refused(Failure.noConnection(limit: limit)) }
                    s.waiters.append(Waiter(id: id, continuation: continuation, timer: nil))
                    s.watcher?.yield(s.waiters.count)
                    return .queued
                }
                for c in stale { c.channel.close(promise: nil) }
                switch outcome {
                case .queued:
                    // Armed once the waiter is in the queue, so that it always finds it there.
                    let timer = group.any().scheduleTask(deadline: deadline) { [weak self, limit] () -> Void in
                        self?.giveUp(id, Failure.noConnection(limit: limit))
                    }
                    let waiting = state.withLock { s -> Bool in
                        guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return false }
                        s.waiters[i].timer = timer
                        return true
                    }
                    if !waiting { timer.cancel() }
                case .grant(let grant): continuation.resume(returning: grant)
                case .refused(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            giveUp(id, CancellationError())
        }
    }

    /// Ends waiter `id`'s wait with `error`, if it still waits.
    private func giveUp(_ id: UInt64, _ error: any Error) {
        let waiter = state.withLock { s -> Waiter? in
            guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return s.waiters.remove(at: i)
        }
        waiter?.timer?.cancel()
        waiter?.continuation.resume(throwing: error)
    }

    /// A place among the `limit` came free (a connection closed, or failed to open): the
    /// longest-waiting request takes it.
    private func placeFreed() {
        let waiter = state.withLock { s -> Waiter? in
            guard !s.waiters.isEmpty, !s.closed else {
                s.live -= 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        waiter?.timer?.cancel()
        waiter?.continuation.resume(returning: .open)
    }

    private func takeIdle() -> Connection? {
        var stale: [Connection] = []
        let found = state.withLock { Self.pickIdle(&$0, stale: &stale) }
        for c in stale { c.channel.close(promise: nil) }
        return found
    }

    /// Takes a usable idle connection out of `s` (the lock held); those found stale go to
    /// `stale`, to be closed once the lock is let go.
    private static func pickIdle(_ s: inout State, stale: inout [Connection]) -> Connection? {
        let now = NIODeadline.now()
        // Preferably one on the event loop this task runs on (with concurrency on the event
        // loops, the usual case): the request is written and its answer resumes the task on
        // the same thread, with no wake-up of another.
        if let i = s.idle.lastIndex(where: {
            now - $0.since < idleLimit && $0.connection.channel.eventLoop.inEventLoop && $0.connection.channel.isActive
        }) {
            return s.idle.remove(at: i).connection
        }
        while let last = s.idle.popLast() {
            if now - last.since < idleLimit, last.connection.channel.isActive { return last.connection }
            stale.append(last.connection)
        }
        return nil
    }

    /// Hands an answered request's connection to the longest-waiting request, or keeps it idle.
    private func giveBack(_ connection: Connection) {
        enum Next { case waiter(Waiter), idle, close }
        let next = state.withLock { s -> Next in
            guard !s.closed else { return .close }
            if !s.waiters.isEmpty { return .waiter(s.waiters.removeFirst()) }
            s.idle.append(Idle(connection: connection, since: .now()))
            return .idle
        }
        switch next {
        case .waiter(let w):
            w.timer?.cancel()
            w.continuation.resume(returning: .connection(connection))
        case .idle: break
        case .close: connection.channel.close(promise: nil)
        }
    }

    /// Opens a connection in a place already taken (see `acquire`); the place comes free when
    /// the connection closes, or at once if it does not open. A cancelled task stops waiting for
    /// the connection at once (one that opens after all is closed).
    private func connect(deadline: NIODeadline) async throws -> Connection {
        let channel: any Channel
        do {
            guard !state.withLock({ $0.closed }) else { throw Failure.shutDown }
            let wait = max(deadline - .now(), .milliseconds(1))
            // On the event loop this task runs on, if it runs on one (`any()`), for the reason above.
            let opening = ClientBootstrap(group: group.any())
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(min(wait, .seconds(30)))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(AnswerCollector())
                    }
                }
                .connect(host: host, port: port)
            channel = try await Self.cancellably(opening)
        } catch {
            placeFreed()
            throw error
        }
        state.withLock { $0.opened += 1 }
        channel.closeFuture.whenComplete { [weak self] _ in self?.placeFreed() }
        return Connection(channel: channel)
    }

    /// Waits for a connection being opened; on cancellation stops waiting at once and closes
    /// the connection should it open later.
    static func cancellably(_ opening: EventLoopFuture<any Channel>) async throws -> any Channel {
        // Whoever takes the continuation out resumes it: the connection's outcome or the cancellation.
        let race = Mutex<(waiting: CheckedContinuation<any Channel, any Error>?, cancelled: Bool)>((nil, false))
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Channel, any Error>) in
                let waits = race.withLock { r -> Bool in
                    if r.cancelled { return false }
                    r.waiting = continuation
                    return true
                }
                if !waits { continuation.resume(throwing: CancellationError()) }
                opening.whenComplete { result in
                    if let waiting = race.withLock({ r in defer { r.waiting = nil }; return r.waiting }) {
                        waiting.resume(with: result)
                    } else if case .success(let channel) = result {
                        channel.close(promise: nil)
                    }
                }
            }
        } onCancel: {
            race.withLock { r in
                r.cancelled = true
                defer { r.waiting = nil }
                return r.waiting
            }?.resume(throwing: CancellationError())
        }
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
