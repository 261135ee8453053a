import Foundation
public import Logging
import NIOCore
import NIOPosix
import SwiftProtobuf
import Synchronization

/// Where yagna's service-bus router listens: `GSB_URL` as the daemon reads it.
public enum BusAddress: Sendable, Hashable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)

    /// `unix:/path/to/yagna.sock` or `tcp://127.0.0.1:7464`; `nil` for anything else.
    public init?(_ text: String) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return nil }
            self = .unix(path: path)
        } else if text.hasPrefix("tcp://") {
            let rest = text.dropFirst(6)
            guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else { return nil }
            self = .tcp(host: String(rest[..<colon]), port: port)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        }
    }
}

/// Why the bus refused or failed something.
public struct BusError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A call another bus member made to an address this connection registered.
public struct BusCall: Sendable {
    public var caller: String
    public var address: String
    public var requestId: String
    /// The body as sent (yagna compresses it with zlib; see `BusBody`).
    public var data: [UInt8]
    public var noReply: Bool
}

/// The router protocol's packets: a 4-byte big-endian length, then one protobuf `Packet`.
public enum BusFrame {
    /// The largest packet accepted (yagna's own limit is far below).
    public static let maxPacket = 64 << 20

    static func encode(_ packet: Gsb_Packet) throws -> [UInt8] {
        let body: [UInt8] = try packet.serializedBytes()
        let n = UInt32(body.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + body
    }

    /// Takes whole packets off the front of `buffer`; what is left is an incomplete packet.
    static func split(_ buffer: inout [UInt8]) throws -> [Gsb_Packet] {
        var packets: [Gsb_Packet] = []
        var start = 0
        while buffer.count - start >= 4 {
            let n = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
            guard n <= maxPacket else { throw BusError("the router sent a packet of \(n) bytes (more than \(maxPacket)); is GSB_URL the yagna router?") }
            guard buffer.count - start - 4 >= n else { break }
            packets.append(try Gsb_Packet(serializedBytes: Array(buffer[(start + 4)..<(start + 4 + n)])))
            start += 4 + n
        }
        buffer.removeFirst(start)
        return packets
    }
}

/// One connection to yagna's service-bus router, as an exe-unit process holds it: it says
/// hello, registers addresses and serves the calls made to them, calls other services
/// (`/local/activity/SetActivityState`), and answers the router's pings.
///
/// Use it inside `run`: the connection lives while the body runs and closes after.
public final class BusConnection: Sendable {
    public typealias Handler = @Sendable (BusCall) async -> Void

    private struct State {
        var handlers: [String: Handler] = [:]
        var calls: [String: CheckedContinuation<(code: Int32, data: [UInt8]), any Error>] = [:]
        /// Register and unregister replies come in the order of the requests.
        var registrations: [CheckedContinuation<(code: Int32, message: String), any Error>] = []
        var closed: BusError?
        var callCounter = 0
    }

    private let state = Mutex(State())
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let logger: Logger
    /// Replies to our own calls wait at most this long.
    let callTimeout: Duration

    private init(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, logger: Logger, callTimeout: Duration) {
        self.outbound = outbound
        self.logger = logger
        self.callTimeout = callTimeout
    }

    /// Connects to the router, says hello as `name`, runs `body` with the connection while
    /// reading the router's packets, and closes the connection when `body` returns or throws.
    public static func run<R: Sendable>(
        _ address: BusAddress, name: String, logger: Logger, callTimeout: Duration = .seconds(30),
        _ body: @escaping @Sendable (BusConnection) async throws -> R
    ) async throws -> R {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            let configure: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
            switch address {
            case .unix(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: configure)
            case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port, channelInitializer: configure)
            }
        } catch {
            throw BusError("cannot connect to the yagna service bus at \(address): \(error); is yagna running, and is GSB_URL its router (yagna's GSB_URL, by default unix:$YAGNA_DATADIR/yagna.sock)?")
        }
        return try await channel.executeThenClose { inbound, outbound in
            let connection = BusConnection(outbound: outbound, logger: logger, callTimeout: callTimeout)
            var hello = Gsb_Hello()
            hello.name = name
            hello.version = "0.7.3"
            hello.instanceID = Data((0..<16).map { _ in UInt8.random(in: 0...255) })
            try await connection.send(.with { $0.hello = hello })
            return try await withThrowingTaskGroup(of: R?.self) { group in
                group.addTask {
                    do { try await connection.read(inbound) } catch {
                        connection.close(BusError("the service bus connection failed: \(error)"))
                        throw error
                    }
                    connection.close(BusError("the yagna service bus closed the connection"))
                    return nil
                }
                group.addTask { try await body(connection) }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let result = next { return result }
                }
                throw BusError("the yagna service bus closed the connection")
            }
        }
    }

    func send(_ packet: Gsb_Packet) async throws {
        try await outbound.write(ByteBuffer(bytes: try BusFrame.encode(packet)))
    }

    private func read(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>) async throws {
        var pending: [UInt8] = []
        for try await var chunk in inbound {
            pending += chunk.readBytes(length: chunk.readableBytes) ?? []
            for packet in try BusFrame.split(&pending) { try await handle(packet) }
        }
    }

    private func handle(_ packet: Gsb_Packet) async throws {
        switch packet.kind {
        case .ping: try await send(.with { $0.pong = Gsb_Pong() })
        case .pong, .hello: break
        case .registerReply(let r):
            let waiter = state.withLock { $0.registrations.isEmpty ? nil : $0.registrations.removeFirst() }
            waiter?.resume(returning: (r.code, r.message))
        case .unregisterReply(let r):
            let waiter = state.withLock { $0.registrations.isEmpty ? nil : $0.registrations.removeFirst() }
            waiter?.resume(returning: (r.code, ""))
        case .callReply(let r):
            // Partial replies are items of a stream; this connection only makes single calls.
            guard r.replyType == 0 else { return }
            let waiter = state.withLock { $0.calls.removeValue(forKey: r.requestID) }
            waiter?.resume(returning: (r.code, Array(r.data)))
        case .callRequest(let r):
            let call = BusCall(caller: r.caller, address: r.address, requestId: r.requestID, data: Array(r.data), noReply: r.noReply)
            let handler = state.withLock { s in
                s.handlers.filter { call.address.hasPrefix($0.key + "/") || call.address == $0.key }.max { $0.key.count < $1.key.count }?.value
            }
            guard let handler else {
                logger.warning("bus: a call to \(call.address), which this connection does not serve")
                try await reply(call.requestId, data: Array("no service at \(call.address)".utf8), code: 400)
                return
            }
            Task { await handler(call) }
        case .registerRequest, .unregisterRequest:
            logger.warning("bus: the router sent a request packet only members send; ignored")
        case nil:
            logger.warning("bus: a packet of a kind this connection does not know (fields \(packet.unknownFields.data.count) bytes); ignored")
        }
    }

    private func close(_ error: BusError) {
        let (calls, registrations) = state.withLock { s -> ([CheckedContinuation<(code: Int32, data: [UInt8]), any Error>], [CheckedContinuation<(code: Int32, message: String), any Error>]) in
            s.closed = error
            defer { s.calls = [:]; s.registrations = [] }
            return (Array(s.calls.values), s.registrations)
        }
        for c in calls { c.resume(throwing: error) }
        for r in registrations { r.resume(throwing: error) }
    }

    /// Serves calls to `prefix` and everything under it with `handler`.
    public func register(_ prefix: String, handler: @escaping Handler) async throws {
        state.withLock { $0.handlers[prefix] = handler }
        let (code, message) = try await registration { $0.registerRequest = .with { $0.serviceID = prefix } }
        guard code == 0 else {
            state.withLock { _ = $0.handlers.removeValue(forKey: prefix) }
            throw BusError("the bus refused to register \(prefix): code \(code) \(message)")
        }
    }

    /// Stops serving `prefix`.
    public func unregister(_ prefix: String) async throws {
        let (code, _) = try await registration { $0.unregisterRequest = .with { $0.serviceID = prefix } }
        state.withLock { _ = $0.handlers.removeValue(forKey: prefix) }
        if code != 0 && code != 404 { throw BusError("the bus refused to unregister \(prefix): code \(code)") }
    }

    private func registration(_ fill: (inout Gsb_Packet) -> Void) async throws -> (code: Int32, message: String) {
        var packet = Gsb_Packet()
        fill(&packet)
        let frame = packet
        return try await withCheckedThrowingContinuation { continuation in
            let closed = state.withLock { s -> BusError? in
                if let closed = s.closed { return closed }
                s.registrations.append(continuation)
                return nil
            }
            if let closed { continuation.resume(throwing: closed); return }
            Task {
                do { try await self.send(frame) } catch { self.close(BusError("cannot write to the service bus: \(error)")) }
            }
        }
    }

    /// Calls a service on the bus and returns the reply's body; a non-zero reply code is an error.
    public func call(_ address: String, body: [UInt8], caller: String = "local") async throws -> [UInt8] {
        let id = state.withLock { s -> String in
            s.callCounter += 1
            return "golem-sim-\(s.callCounter)-\(UInt32.random(in: 0...UInt32.max))"
        }
        var request = Gsb_CallRequest()
        request.caller = caller
        request.address = address
        request.requestID = id
        request.data = Data(body)
        let frame = Gsb_Packet.with { $0.callRequest = request }
        let timeout = callTimeout
        let (code, data) = try await withThrowingTaskGroup(of: (code: Int32, data: [UInt8]).self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { continuation in
                    let closed = self.state.withLock { s -> BusError? in
                        if let closed = s.closed { return closed }
                        s.calls[id] = continuation
                        return nil
                    }
                    if let closed { continuation.resume(throwing: closed); return }
                    Task {
                        do { try await self.send(frame) } catch {
                            let waiter = self.state.withLock { $0.calls.removeValue(forKey: id) }
                            waiter?.resume(throwing: error)
                        }
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                let error = BusError("no reply from \(address) within \(timeout)")
                let waiter = self.state.withLock { $0.calls.removeValue(forKey: id) }
                waiter?.resume(throwing: error)
                throw error
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        guard code == 0 else { throw BusError("\(address) answered code \(code): \(String(decoding: data.prefix(300), as: UTF8.self))") }
        return data
    }

    /// Answers a call: a whole reply, or one item of a stream (`partial`).
    public func reply(_ requestId: String, data: [UInt8], code: Int32 = 0, partial: Bool = false) async throws {
        var reply = Gsb_CallReply()
        reply.requestID = requestId
        reply.code = code
        reply.replyType = partial ? 1 : 0
        reply.data = Data(data)
        try await send(.with { $0.callReply = reply })
    }
}
