import Foundation
@testable import GolemBus
import Logging
import NIOCore
import NIOPosix
import SwiftProtobuf
import Testing

/// `BusConnection` against a stand-in for yagna's service-bus router on a unix socket: the
/// packets an exe-unit exchanges (hello, register, calls both ways, ping), with no yagna.
@Suite struct BusConnectionTests {
    /// A router that plays a fixed script with one member and reports what it saw.
    struct Router {
        var input: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        let output: NIOAsyncChannelOutboundWriter<ByteBuffer>
        var pending: [UInt8] = []
        var packets: [Gsb_Packet] = []

        mutating func next() async throws -> Gsb_Packet {
            while packets.isEmpty {
                guard var chunk = try await input.next() else { throw BusError("the member closed the connection") }
                pending += chunk.readBytes(length: chunk.readableBytes) ?? []
                packets = try BusFrame.split(&pending)
            }
            return packets.removeFirst()
        }

        func send(_ packet: Gsb_Packet) async throws {
            try await output.write(ByteBuffer(bytes: try BusFrame.encode(packet)))
        }
    }

    /// Runs `body` with a bound, so a regression fails instead of hanging.
    func bounded(_ seconds: Double, _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await body(); return true }
            group.addTask { try await Task.sleep(for: .seconds(seconds)); return false }
            let finished = try await group.next()!
            group.cancelAll()
            #expect(finished, "the exchange did not finish within \(seconds) s")
        }
    }

    @Test func anExeUnitRegistersServesCallsAndCallsOut() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("golem-sim-bus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("yagna.sock").path
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(unixDomainSocketPath: path) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        let (done, finish) = AsyncStream.makeStream(of: Void.self)
        let logger = { var l = Logger(label: "test"); l.logLevel = .critical; return l }()
        try await bounded(20) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The router's side.
                group.addTask {
                    try await server.executeThenClose { connections in
                        for try await connection in connections {
                            try await connection.executeThenClose { input, output in
                                var router = Router(input: input.makeAsyncIterator(), output: output)
                                guard case .hello(let hello)? = try await router.next().kind else { throw BusError("no hello first") }
                                #expect(hello.name == "test-exeunit")
                                guard case .registerRequest(let register)? = try await router.next().kind else { throw BusError("no register") }
                                #expect(register.serviceID == "/public/exeunit/act")
                                try await router.send(.with { $0.registerReply = .with { $0.code = 0 } })
                                // A call to the registered prefix, one to an address nobody serves, and the member's own call.
                                try await router.send(.with { $0.callRequest = .with { $0.requestID = "r1"; $0.address = "/public/exeunit/act/Exec"; $0.caller = "0xr"; $0.data = Data([1, 2, 3]) } })
                                try await router.send(.with { $0.callRequest = .with { $0.requestID = "r2"; $0.address = "/public/other/Exec"; $0.data = Data() } })
                                var replies: [String: Gsb_CallReply] = [:]
                                var outgoing: Gsb_CallRequest?
                                while replies.count < 2 || outgoing == nil {
                                    switch try await router.next().kind {
                                    case .callReply(let r): replies[r.requestID] = r
                                    case .callRequest(let r): outgoing = r
                                    case let other: throw BusError("unexpected packet \(String(describing: other))")
                                    }
                                }
                                #expect(replies["r1"]?.code == 0 && Array(replies["r1"]!.data) == [3, 2, 1])
                                #expect(replies["r2"]?.code == 400)
                                #expect(outgoing?.address == "/local/activity/SetActivityState" && Array(outgoing!.data) == [7])
                                try await router.send(.with { $0.callReply = .with { $0.requestID = outgoing!.requestID; $0.data = Data([9]) } })
                                // Pings are answered while the member runs; unknown packet kinds are ignored.
                                try await router.send(.with { $0.ping = Gsb_Ping() })
                                guard case .pong? = try await router.next().kind else { throw BusError("no pong") }
                                try await router.send(Gsb_Packet())
                                try await router.send(.with { $0.ping = Gsb_Ping() })
                                guard case .pong? = try await router.next().kind else { throw BusError("no pong after an unknown packet") }
                                finish.yield()
                            }
                            return
                        }
                    }
                }
                // The exe-unit's side.
                group.addTask {
                    try await BusConnection.run(.unix(path: path), name: "test-exeunit", logger: logger) { bus in
                        try await bus.register("/public/exeunit/act") { call in
                            try? await bus.reply(call.requestId, data: call.data.reversed())
                        }
                        let answer = try await bus.call("/local/activity/SetActivityState", body: [7])
                        #expect(answer == [9])
                        for await _ in done { break }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func anUnreachableRouterIsAClearError() async throws {
        await #expect(throws: BusError.self) {
            try await BusConnection.run(.unix(path: "/nonexistent/yagna.sock"), name: "t", logger: Logger(label: "t")) { _ in }
        }
        #expect(BusAddress("unix:/a/b.sock") == .unix(path: "/a/b.sock"))
        #expect(BusAddress("tcp://127.0.0.1:7464") == .tcp(host: "127.0.0.1", port: 7464))
        #expect(BusAddress("tcp://127.0.0.1:0") == nil && BusAddress("http://x") == nil && BusAddress("unix:") == nil)
    }
}
